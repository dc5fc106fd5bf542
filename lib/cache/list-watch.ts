/**
 * ListerWatcher is what a Reflector consumes: list and watch with the reflector's own options.
 * `listWatchFor` binds an ObjectSource to one namespace and one set of selectors, injecting them
 * into every call, as client-go's NewFilteredListWatchFromClient does; that is how the watch
 * store pins a reflector to `metadata.name=<name>`.
 */
import type { ObjectList } from '../api/object.js';
import type { ListOptions, ObjectSource, WatchEvent, WatchOptions } from '../api/source.js';

/** List and watch of one namespace and selector set, with the reflector's options per call. */
export interface ListerWatcher<T> {
  /** One page, as ObjectSource.list of the bound namespace with the bound selectors. */
  list(opts: ListOptions): Promise<ObjectList<T>>;
  /** A watch stream, as ObjectSource.watch of the bound namespace with the bound selectors. */
  watch(opts: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

/** The selectors a ListerWatcher puts on every call, overriding whatever the caller passed. */
export interface Selectors {
  /** e.g. `metadata.name=foo` (escape the value with oneTermEqualSelector). */
  fieldSelector?: string;
  /** e.g. `app=web`. */
  labelSelector?: string;
}

/** `source` bound to `namespace` ("" for all, or a cluster-scoped resource) and `selectors`. */
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
