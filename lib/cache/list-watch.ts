/**
 * ListerWatcher is what a Reflector consumes: list and watch with the reflector's own options.
 * `listWatchFor` binds an ObjectSource to one namespace and one set of selectors, injecting them
 * into every call, as client-go's NewFilteredListWatchFromClient does; that is how the watch
 * store pins a reflector to `metadata.name=<name>`.
 */
import type { ObjectList } from '../api/object.js';
import type { ListOptions, ObjectSource, WatchEvent, WatchOptions } from '../api/source.js';

export interface ListerWatcher<T> {
  list(opts: ListOptions): Promise<ObjectList<T>>;
  watch(opts: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

export interface Selectors {
  fieldSelector?: string;
  labelSelector?: string;
}

export function listWatchFor<T>(source: ObjectSource<T>, namespace: string, selectors: Selectors = {}): ListerWatcher<T> {
  const pin = <O extends ListOptions>(opts: O): O => {
    const out = { ...opts };
    if (selectors.fieldSelector !== undefined) out.fieldSelector = selectors.fieldSelector;
    if (selectors.labelSelector !== undefined) out.labelSelector = selectors.labelSelector;
    return out;
  };
  return {
    list: (opts) => source.list(namespace, pin(opts)),
    watch: (opts) => source.watch(namespace, pin(opts)),
  };
}
