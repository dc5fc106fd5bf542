/**
 * ListerWatcher is what a Reflector consumes: list and watch with the reflector's own options.
 * `listWatchFor` binds an ObjectSource to one namespace and one set of selectors, injecting them
 * into every call, as client-go's NewFilteredListWatchFromClient does; that is how the watch
 * store pins a reflector to `metadata.name=<name>`. It also hands on the source's shared
 * WatchList verdict, so every reflector over one source learns from the first one's attempt.
 */
import type { ObjectList } from '../api/object.js';
import type { ListOptions, ObjectSource, WatchEvent, WatchOptions } from '../api/source.js';
import { watchListSupportFor, type WatchListSupport } from './watch-list.js';

/** List and watch for one reflector; the options carry everything but what the binding pins. */
export interface ListerWatcher<T> {
  /** One page of the pinned namespace and selectors, with the reflector's resourceVersion, paging and signal. */
  list(opts: ListOptions): Promise<ObjectList<T>>;
  /** A watch of the pinned namespace and selectors, with the reflector's options. */
  watch(opts: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /**
   * Optional capability: present when the watch can serve WatchList (sendInitialEvents), holding
   * the verdict shared by every reflector over the same source. A ListerWatcher without it is
   * only ever listed and watched, like a client-go ListerWatcher that reports
   * `IsWatchListSemanticsUnSupported`.
   */
  readonly watchListSupport?: WatchListSupport;
}

/** The selectors a ListerWatcher pins into every list and watch. */
export interface Selectors {
  /** Replaces any field selector of the call, e.g. `metadata.name=x`. */
  fieldSelector?: string;
  /** Replaces any label selector of the call. */
  labelSelector?: string;
}

/**
 * A ListerWatcher over `source` in `namespace` ("" for all, or cluster-scoped), with `selectors`
 * injected into every call, and the source's WatchList verdict unless it declares
 * `supportsWatchList: false`.
 */
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
    watchListSupport: watchListSupportFor(source),
  };
}
