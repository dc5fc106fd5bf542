/**
 * TtlObjectStore is the kubelet's objectStore (the "Cache" strategy): objects are fetched on
 * demand and reused for a TTL. It holds no connection open, so it suits objects read rarely,
 * at the cost of staleness up to the TTL and one GET per object per TTL.
 */
import { isNotFound } from '../api/errors.js';
import { checkObjectName } from '../api/names.js';
import { namespacedKey, parseResourceVersion, resourceVersionOf } from '../api/object.js';
import { raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { NotRegisteredError } from './errors.js';
import type { GetObjectOptions, Store, StoreStats } from './interfaces.js';

/** Fetches one object; `resourceVersion: "0"` allows an answer from the apiserver's cache. */
export type GetObjectFunc<T> = (namespace: string, name: string, opts: { resourceVersion?: string }) => Promise<T>;

/** A TTL override: `[ttl, true]` to use `ttl` ms, `[_, false]` for the default. */
export type GetTtlFunc = () => Promise<[number, boolean]> | [number, boolean];

/** How a TtlObjectStore fetches and how long it reuses what it fetched. */
export interface TtlObjectStoreOptions<T> {
  /** Fetches one object, e.g. `(ns, name, o) => source.get(ns, name, o)`. */
  getObject: GetObjectFunc<T>;
  /**
   * Default TTL in ms, used whenever `getTtl` is absent or answers `[_, false]`. The kubelet
   * uses 1 minute. 0 makes every get fetch.
   */
  ttl: number;
  /**
   * Called on each get to pick the TTL, e.g. `ttlFromNode` (the node's
   * node.alpha.kubernetes.io/ttl annotation, which the TTL controller raises with cluster size).
   */
  getTtl?: GetTtlFunc;
  /** Default: the wall clock. */
  clock?: Clock;
}

interface Outcome<T> {
  object?: T;
  err?: unknown;
}

/** The cached state of one object; replaced wholesale when a reference is added. */
class ObjectData<T> {
  object: T | undefined;
  err: unknown = undefined;
  /** -Infinity until the first successful (or NotFound) fetch. */
  lastUpdateTime = -Infinity;
  /** The check-and-fetch in progress; concurrent gets join it instead of fetching again. */
  inflight: Promise<Outcome<T>> | undefined;
}

interface Item<T> {
  refCount: number;
  data: ObjectData<T> | undefined;
}

/**
 * The Cache strategy's store: fetched on demand, reused for a TTL, refcounted; no connection is
 * held open and nothing runs in the background. See the file header.
 */
export class TtlObjectStore<T> implements Store<T>, AsyncCloseable {
  private readonly items = new Map<string, Item<T>>();
  private readonly getObject: GetObjectFunc<T>;
  private readonly defaultTtl: number;
  private readonly getTtl: GetTtlFunc | undefined;
  private readonly clock: Clock;

  /** Nothing is fetched before the first get. */
  constructor(opts: TtlObjectStoreOptions<T>) {
    this.getObject = opts.getObject;
    this.defaultTtl = opts.ttl;
    this.getTtl = opts.getTtl;
    this.clock = opts.clock ?? realClock;
  }

  /**
   * The UID is ignored: this store counts references, not referents, as upstream. Every
   * addition drops the cached data, so a newly started pod never sees data older than itself.
   */
  addReference(namespace: string, name: string, _referencedFrom: string): void {
    const key = namespacedKey(namespace, name);
    const item = this.items.get(key);
    if (item) {
      item.refCount++;
      item.data = undefined;
    } else this.items.set(key, { refCount: 1, data: undefined });
  }

  /** Undoes one addReference; the cached data goes with the last reference. */
  deleteReference(namespace: string, name: string, _referencedFrom: string): void {
    const key = namespacedKey(namespace, name);
    const item = this.items.get(key);
    if (!item) return;
    if (--item.refCount === 0) this.items.delete(key);
  }

  /**
   * The cached object while it is younger than the TTL, else a fresh fetch (shared by the gets
   * that arrive meanwhile). Rejects with NotRegisteredError, InvalidNameError, or the fetch's
   * error (a 404 StatusError is cached like an object). When `opts.signal` aborts first, this
   * get stops waiting and rejects with an AbortError; the fetch goes on for the others and its
   * answer is cached.
   */
  async get(namespace: string, name: string, opts: GetObjectOptions = {}): Promise<T> {
    const item = this.items.get(namespacedKey(namespace, name));
    if (!item) throw new NotRegisteredError(namespace, name);
    // getObject is the caller's and may build its own request: a name that would steer it is
    // refused here, as the paths refuse it for a KubeClient source.
    const invalid = checkObjectName(namespace, name);
    if (invalid) throw invalid;
    const data = (item.data ??= new ObjectData<T>());
    // Gets of one object are serialised on `data`; those that arrive during a fetch share it.
    data.inflight ??= this.refresh(namespace, name, data).finally(() => (data.inflight = undefined));
    const outcome = await (opts.signal ? raceAbort(data.inflight, opts.signal) : data.inflight);
    if (outcome.err !== undefined) throw outcome.err;
    return outcome.object as T;
  }

  /** Referenced objects and the references to them. */
  stats(): StoreStats {
    let references = 0;
    for (const item of this.items.values()) references += item.refCount;
    return { objects: this.items.size, references };
  }

  /** The reference count of one object (0 when unknown). */
  referenceCount(namespace: string, name: string): number {
    return this.items.get(namespacedKey(namespace, name))?.refCount ?? 0;
  }

  /** Nothing runs in the background, so there is nothing to stop; here for the Store contract. */
  async close(): Promise<void> {}

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async refresh(namespace: string, name: string, data: ObjectData<T>): Promise<Outcome<T>> {
    if (data.err === undefined && data.object !== undefined && (await this.isFresh(data))) {
      return { object: data.object };
    }
    // A refresh of an object we already hold may come from the apiserver's watch cache
    // (RV "0"); a first fetch, or one after an error, is a quorum read.
    const opts = data.object !== undefined && data.err === undefined ? { resourceVersion: '0' } : {};
    let object: T | undefined;
    let err: unknown;
    try {
      object = await this.getObject(namespace, name, opts);
    } catch (e) {
      err = e ?? new Error('getObject failed');
    }
    if (err !== undefined && !isNotFound(err) && data.object === undefined && data.err === undefined) {
      return { err }; // nothing cached yet: report, cache nothing, let the next get retry
    }
    if ((err === undefined && !isOlder(object, data.object)) || isNotFound(err)) {
      data.object = object;
      data.err = err;
      data.lastUpdateTime = this.clock.now();
    }
    // Otherwise (a transient error, or an answer older than what we hold) keep the cached
    // data and its old timestamp, so the next get tries again.
    return { object: data.object, err: data.err };
  }

  private async isFresh(data: ObjectData<T>): Promise<boolean> {
    let ttl = this.defaultTtl;
    if (this.getTtl) {
      try {
        const [custom, ok] = await this.getTtl();
        if (ok) ttl = custom;
      } catch {
        // A failing override means "no override", as ttlFromNode answers a failed node read.
      }
    }
    return this.clock.now() < data.lastUpdateTime + ttl;
  }
}

/** Whether `fetched` has a lower resourceVersion than `cached`; false if either is missing. */
function isOlder(fetched: unknown, cached: unknown): boolean {
  if (fetched === undefined || fetched === null || cached === undefined || cached === null) return false;
  return parseResourceVersion(resourceVersionOf(fetched)) < parseResourceVersion(resourceVersionOf(cached));
}
