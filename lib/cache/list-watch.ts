/**
 * ListerWatcher is what a Reflector consumes: list and watch with the reflector's own options.
 * `listWatchFor` binds an ObjectSource to one namespace and one set of selectors, injecting them
 * into every call, as client-go's NewFilteredListWatchFromClient does; that is how the watch
 * store pins a reflector to `metadata.name=<name>`. It also hands on the source's shared
 * WatchList verdict, so every reflector over one source learns from the first one's attempt.
 */
import type { ObjectList } from '../api/object.js';
import type { ListOptions, ObjectSource, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from '../api/source.js';
import { watchListSupportFor, type WatchListSupport } from './watch-list.js';

/** List and watch for one reflector; the options carry everything but what the binding pins. */
export interface ListerWatcher<T> {
  /** One page of the pinned namespace and selectors, with the reflector's resourceVersion, paging and signal. */
  list(opts: ListOptions): Promise<ObjectList<T>>;
  /** A watch of the pinned namespace and selectors, with the reflector's options. */
  watch(opts: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /**
   * Optional: the same watch with callbacks (ObjectSource.watchEvents, same contract), present
   * when the source has it. A reflector prefers it: no promise per event and no pending read per
   * open watch.
   */
  watchEvents?(opts: WatchOptions, handler: WatchHandler<T>): WatchHandle;
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
  const Bound = source.watchEvents ? BoundEventListerWatcher : BoundListerWatcher;
  return new Bound(source, namespace, selectors.fieldSelector, selectors.labelSelector);
}

/**
 * A class rather than closures: the watch store makes one per watched object, and prototype
 * methods over four fields are smaller than three closures and their context.
 */
class BoundListerWatcher<T> implements ListerWatcher<T> {
  readonly watchListSupport: WatchListSupport | undefined;

  constructor(
    protected readonly source: ObjectSource<T>,
    protected readonly namespace: string,
    private readonly fieldSelector: string | undefined,
    private readonly labelSelector: string | undefined,
  ) {
    this.watchListSupport = watchListSupportFor(source);
  }

  list(opts: ListOptions): Promise<ObjectList<T>> {
    return this.source.list(this.namespace, this.pin(opts));
  }

  watch(opts: WatchOptions): AsyncIterable<WatchEvent<T>> {
    return this.source.watch(this.namespace, this.pin(opts));
  }

  protected pin<O extends ListOptions>(opts: O): O {
    const out = { ...opts };
    if (this.fieldSelector !== undefined) out.fieldSelector = this.fieldSelector;
    if (this.labelSelector !== undefined) out.labelSelector = this.labelSelector;
    return out;
  }
}

/**
 * A BoundListerWatcher over a source with callback watches: a subclass rather than a property
 * set per instance, so that the capability costs nothing per watched object.
 */
class BoundEventListerWatcher<T> extends BoundListerWatcher<T> {
  watchEvents(opts: WatchOptions, handler: WatchHandler<T>): WatchHandle {
    return this.source.watchEvents!(this.namespace, this.pin(opts), handler);
  }
}
