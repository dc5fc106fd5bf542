/**
 * WatchObjectStore is the kubelet's objectCache (the "Watch" strategy): one list+watch
 * reflector per referenced object, pinned to it with `metadata.name=<name>`, so a node sees
 * changes to its secrets and configmaps within a watch event's latency and the apiserver
 * serves it from its watch cache instead of answering GETs. Reflectors are refcounted by the
 * referencing pod's UID, stopped when idle, stopped for good for immutable objects, and all
 * stopped by `close()`. The name goes into the selector escaped (`fields.EscapeValue`), so no
 * name adds or changes a selector term; a namespace or name that cannot be part of a request
 * (`..`, `a/b`, empty) is counted like any reference but never watched, and reading it fails
 * with InvalidNameError.
 */
import { Observable } from 'rxjs';
import { newNotFound } from '../api/errors.js';
import { oneTermEqualSelector } from '../api/fields.js';
import { checkObjectName, type InvalidNameError } from '../api/names.js';
import { namespacedKey } from '../api/object.js';
import { singularName } from '../api/resource.js';
import type { ObjectSource } from '../api/source.js';
import { listWatchFor } from '../cache/list-watch.js';
import { ObjectSlot } from '../cache/object-slot.js';
import { Reflector } from '../cache/reflector.js';
import { SyncPacer, type SyncPacerOptions } from '../cache/sync-pacer.js';
import type { BackoffOptions } from '../util/backoff.js';
import { AbortError } from '../util/abort.js';
import { DeadlineQueue } from '../util/deadline-queue.js';
import { realClock, type Clock, type Timer } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { NotRegisteredError, StoreClosedError, SyncTimeoutError } from './errors.js';
import type { ObservableStore, GetObjectOptions, StoreStats } from './interfaces.js';

/** The recycler never stops a watch idle for less than this (upstream's minIdleTime). */
export const MIN_IDLE_TIME = 60_000;

/** How a WatchObjectStore reads its objects and when it stops watching them. */
export interface WatchObjectStoreOptions<T> {
  /** Where objects are listed and watched. */
  source: ObjectSource<T>;
  /**
   * Objects for which this returns true are never watched again after the first get that sees
   * them: their reflector stops for good and the cached copy is served from then on, changes
   * and deletion included (KEP-1412). Default: nothing is immutable.
   */
  isImmutable?: (obj: T) => boolean;
  /** Drives idle recycling, the sync timeout, backoff and watch timeouts. Default: wall clock. */
  clock?: Clock;
  /**
   * A synced reflector whose object was not read (get or a `changes()` subscriber) for longer
   * than this is stopped by the recycler; the next get restarts it and waits for a fresh list.
   * Default 5 minutes (the kubelet's 5 × its 1-minute resync: objects used as volumes are read
   * every resync, so only env-only references go idle). Values below 1 minute are raised to it.
   */
  maxIdleTime?: number;
  /**
   * How long a get waits for a reflector's first list before failing with SyncTimeoutError.
   * Default 1 s, as upstream; the wait is on the reflector's sync promise, not a poll.
   */
  syncTimeout?: number;
  /**
   * How often the idle recycler runs, in ms. Default 60 s, as upstream. 0 disables the timer;
   * `recycleIdle()` can still be called by hand.
   */
  recycleInterval?: number;
  /**
   * Minimum server-side watch timeout for each reflector; each watch lasts [min, 2×min).
   * Default 30 minutes, the kubelet's value (kubernetes#124245).
   */
  minWatchTimeout?: number;
  /** Reflector backoff; defaults are client-go's. */
  backoff?: BackoffOptions;
  /**
   * The resource's name in error messages: "secret" gives `failed to sync secret cache` and
   * `secret "x" not found`. Default: the source's kind, lower-cased.
   */
  resourceName?: string;
  /** Where watch failures and idle or immutable stops are reported. Any LoggerLike; default: nowhere. */
  logger?: LoggerLike;
  /** Randomness for watch timeouts and backoff jitter; injectable for tests. */
  random?: () => number;
  /**
   * First-sync each object with one WatchList stream (sendInitialEvents) instead of a list and a
   * watch, where the source's server serves it: half the requests of a cold start. Default true,
   * as client-go since 1.35; a server that refuses or ignores it is remembered per source and
   * listed instead. False always lists first.
   */
  watchList?: boolean;
  /**
   * Keep `metadata.managedFields` on cached objects. Default false: dropped when the object
   * enters the cache (as the kubelet's informers do), since nothing reading a Secret or a
   * ConfigMap needs server-side-apply bookkeeping and it can be most of a small object.
   */
  keepManagedFields?: boolean;
  /**
   * Paces the reflectors' full syncs (lists and WatchList streams) through one token bucket on
   * `clock`, so registering many objects at once does not become one burst of requests, and a
   * 429 slows all of them (see SyncPacerOptions for the defaults: 2,000 per second, burst 2,000,
   * halved on each 429). False: no pacing.
   */
  syncPacing?: SyncPacerOptions | false;
}

/** What `inspect` reports about one object. */
export interface ItemState {
  /** The reflector is meant to be running (not stopped by idleness, immutability or close). */
  running: boolean;
  /** A list has filled the cache since the last (re)start. */
  synced: boolean;
  /** References per referencing UID. */
  refs: Record<string, number>;
}

/** Store-wide counters for dashboards and leak checks. */
export interface WatchStoreStats extends StoreStats {
  /** Reflectors meant to be running. */
  runningReflectors: number;
  /** Reflectors running (a stop is immediate, so this counts no stopping ones); 0 after close(). */
  activeReflectorLoops: number;
  /** `changes()` subscriptions open. */
  subscribers: number;
  /** Objects the server sent for another name or namespace, ignored (0 from a correct server; see ObjectSlot.foreignObjects). */
  foreignObjects: number;
}

class Item<T> {
  /**
   * References by UID. Most objects are referenced by one pod, so the first UID and its count
   * are plain fields and a Map exists only once a second UID refers to the object.
   */
  private soleRef: string | undefined;
  private soleCount = 0;
  private moreRefs: Map<string, number> | undefined;
  readonly slot: ObjectSlot<T>;
  readonly reflector: Reflector<T>;
  /**
   * Set when the namespace or name cannot be part of a request: the item is counted like any
   * other (so references balance), but its reflector never runs and every read fails with this.
   */
  readonly refused: InvalidNameError | undefined;
  stopped = true;
  immutable = false;
  /** -Infinity: a synced item that was never read counts as idle, as upstream's zero time does. */
  lastAccessTime = -Infinity;
  subscribers = 0;
  /** Set when the item leaves the store (last reference gone, or close). */
  ended = false;
  /**
   * Called once when the item ends: waiting gets and change streams. A Set rather than an
   * AbortSignal because hundreds of concurrent gets may wait on one item, and an EventTarget
   * warns about more than ten listeners.
   */
  private onEnd: Set<() => void> | undefined;

  /** Calls `fn` once when the item ends; the Set exists only while someone waits. */
  whenEnded(fn: () => void): void {
    (this.onEnd ??= new Set()).add(fn);
  }

  /** Undoes `whenEnded(fn)`. */
  notWhenEnded(fn: () => void): void {
    this.onEnd?.delete(fn);
    if (this.onEnd?.size === 0) this.onEnd = undefined;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const listeners = this.onEnd;
    this.onEnd = undefined;
    for (const listener of listeners ?? []) listener();
  }

  addRef(uid: string): void {
    if (this.moreRefs) return void this.moreRefs.set(uid, (this.moreRefs.get(uid) ?? 0) + 1);
    if (this.soleRef === undefined || this.soleRef === uid) {
      this.soleRef = uid;
      this.soleCount++;
      return;
    }
    this.moreRefs = new Map([
      [this.soleRef, this.soleCount],
      [uid, 1],
    ]);
    this.soleRef = undefined;
    this.soleCount = 0;
  }

  /** Drops one reference of `uid`; false when it holds none. */
  deleteRef(uid: string): boolean {
    if (this.moreRefs) {
      const count = this.moreRefs.get(uid);
      if (count === undefined) return false;
      if (count > 1) this.moreRefs.set(uid, count - 1);
      else this.moreRefs.delete(uid);
      return true;
    }
    if (this.soleRef !== uid) return false;
    if (--this.soleCount === 0) this.soleRef = undefined;
    return true;
  }

  /** Some UID still refers to the object. */
  get referenced(): boolean {
    return this.moreRefs ? this.moreRefs.size > 0 : this.soleRef !== undefined;
  }

  /** [UID, count] pairs. */
  refEntries(): Array<[string, number]> {
    if (this.moreRefs) return [...this.moreRefs];
    return this.soleRef === undefined ? [] : [[this.soleRef, this.soleCount]];
  }

  constructor(slot: ObjectSlot<T>, reflector: Reflector<T>, refused: InvalidNameError | undefined) {
    this.slot = slot;
    this.reflector = reflector;
    this.refused = refused;
  }
}

/**
 * The Watch strategy's store: a watch per referenced object, refcounted by pod UID, with
 * `changes()` streams; see the file header for the whole contract.
 */
export class WatchObjectStore<T> implements ObservableStore<T>, AsyncCloseable {
  private readonly items = new Map<string, Item<T>>();
  private readonly source: ObjectSource<T>;
  private readonly isImmutable: (obj: T) => boolean;
  private readonly clock: Clock;
  private readonly maxIdleTime: number;
  private readonly recycleInterval: number;
  private readonly minWatchTimeout: number;
  private readonly backoff: BackoffOptions | undefined;
  private readonly resourceName: string;
  private readonly logger: NormalizedLogger;
  private readonly random: (() => number) | undefined;
  private readonly watchList: boolean;
  private readonly keepManagedFields: boolean;
  /** The sync timeouts of waiting gets, all on one clock timer (they share one delay). */
  private readonly syncDeadlines: DeadlineQueue;
  /** One token bucket for every reflector of this store; undefined with syncPacing: false. */
  private readonly pacer: SyncPacer | undefined;
  private closed = false;
  /** Woken by close(): every get waiting for a sync (a Set, for the same reason as Item.onEnd). */
  private readonly closeListeners = new Set<() => void>();
  private recycleTimer: Timer | undefined;

  /** Starts the idle recycler (unless `recycleInterval` is 0); no watch starts before a reference. */
  constructor(opts: WatchObjectStoreOptions<T>) {
    this.source = opts.source;
    this.isImmutable = opts.isImmutable ?? (() => false);
    this.clock = opts.clock ?? realClock;
    this.maxIdleTime = Math.max(MIN_IDLE_TIME, opts.maxIdleTime ?? 5 * MIN_IDLE_TIME);
    this.syncDeadlines = new DeadlineQueue(this.clock, opts.syncTimeout ?? 1_000);
    this.recycleInterval = opts.recycleInterval ?? 60_000;
    this.minWatchTimeout = opts.minWatchTimeout ?? 30 * 60_000;
    this.backoff = opts.backoff;
    this.resourceName = opts.resourceName ?? singularName(opts.source.resource);
    this.logger = toLogger(opts.logger);
    this.random = opts.random;
    this.watchList = opts.watchList ?? true;
    this.keepManagedFields = opts.keepManagedFields ?? false;
    this.pacer = opts.syncPacing === false ? undefined : new SyncPacer(this.clock, opts.syncPacing);
    this.scheduleRecycle();
  }

  /** As Store.addReference; the first reference to an object starts its watch. */
  addReference(namespace: string, name: string, referencedFrom: string): void {
    const key = namespacedKey(namespace, name);
    let item = this.items.get(key);
    if (!item) {
      item = this.newItem(namespace, name);
      this.items.set(key, item);
      // After close() items are still recorded (so refcounts stay right) but never started;
      // neither are refused ones.
      if (!this.closed && !item.refused) this.start(item);
    }
    item.addRef(referencedFrom);
  }

  /**
   * Deleting a reference `referencedFrom` never added is a no-op. (Upstream records it as -1,
   * which keeps the object watched until the same UID adds one; that is a leak, not a feature.)
   */
  deleteReference(namespace: string, name: string, referencedFrom: string): void {
    const key = namespacedKey(namespace, name);
    const item = this.items.get(key);
    if (!item || !item.deleteRef(referencedFrom) || item.referenced) return;
    this.stop(item);
    this.items.delete(key);
    item.end();
  }

  /**
   * The object, once its watch has listed it: at once when synced, else after the first list.
   * Rejects as Manager.getObject describes; StoreClosedError after close() (immutable objects
   * excepted). When `opts.signal` aborts first, this get stops waiting and rejects with an
   * AbortError; the watch and the references stay as they were.
   */
  async get(namespace: string, name: string, opts: GetObjectOptions = {}): Promise<T> {
    if (opts.signal?.aborted) throw new AbortError();
    const item = this.items.get(namespacedKey(namespace, name));
    if (!item) throw new NotRegisteredError(namespace, name);
    if (item.refused) throw item.refused;
    // Recorded even if this get fails, so a racing recycler does not stop a watch being waited on.
    item.lastAccessTime = this.clock.now();
    if (!this.closed) this.restartIfNeeded(item);
    if (!item.slot.hasSynced) await this.waitForSync(item, namespace, name, opts.signal);
    const obj = item.slot.value;
    if (obj === undefined) throw newNotFound(this.resourceName, name);
    if (!item.immutable && this.isImmutable(obj)) {
      // Flag first: stopping an immutable item keeps its cache synced, so later gets answer
      // at once and never restart the watch.
      item.immutable = true;
      this.stop(item);
      this.logger.debug('stopped watching for changes: object is immutable', { namespace, name });
    }
    return obj;
  }

  /**
   * The object now (once synced: the object, or undefined when it does not exist) and then on
   * every change, until its last reference is deleted or the store closes (then the stream
   * completes). While subscribed, the watch counts as in use and is never idle-recycled; a
   * stopped one is restarted. Subscribing to an unregistered object errors with
   * NotRegisteredError, to one whose name or namespace was refused with InvalidNameError.
   */
  changes(namespace: string, name: string): Observable<T | undefined> {
    return new Observable<T | undefined>((subscriber) => {
      const item = this.items.get(namespacedKey(namespace, name));
      if (!item) {
        subscriber.error(new NotRegisteredError(namespace, name));
        return;
      }
      if (item.refused) {
        subscriber.error(item.refused);
        return;
      }
      if (item.ended) {
        subscriber.complete();
        return;
      }
      item.subscribers++;
      item.lastAccessTime = this.clock.now();
      if (!this.closed) this.restartIfNeeded(item);
      const onRemoved = () => subscriber.complete();
      item.whenEnded(onRemoved);
      const unsubscribe = item.slot.subscribe((value) => subscriber.next(value));
      if (item.slot.hasSynced) subscriber.next(item.slot.value);
      return () => {
        unsubscribe();
        item.notWhenEnded(onRemoved);
        item.subscribers--;
        item.lastAccessTime = this.clock.now();
      };
    });
  }

  /**
   * Stops every reflector that has synced, has no subscriber, and was not read for
   * maxIdleTime. Reflectors still on their first list are left alone: stopping them would
   * throw that list away and the next get would start over (kubernetes#104604).
   */
  recycleIdle(): void {
    const now = this.clock.now();
    for (const item of this.items.values()) {
      if (item.stopped || !item.slot.hasSynced || item.subscribers > 0) continue;
      if (now > item.lastAccessTime + this.maxIdleTime) {
        this.stop(item);
        this.logger.debug('not read for a long time; stopped watching for changes', { namespace: item.slot.namespace, name: item.slot.name });
      }
    }
  }

  /** One object's watch and references; undefined when nothing references it. */
  inspect(namespace: string, name: string): ItemState | undefined {
    const item = this.items.get(namespacedKey(namespace, name));
    if (!item) return undefined;
    return { running: !item.stopped, synced: item.slot.hasSynced, refs: Object.fromEntries(item.refEntries()) };
  }

  /** Store-wide counters: objects and references as every store reports them, plus the watches. */
  stats(): WatchStoreStats {
    let running = 0;
    let subscribers = 0;
    let references = 0;
    let loops = 0;
    let foreign = 0;
    for (const item of this.items.values()) {
      foreign += item.slot.foreignObjects;
      if (!item.stopped) running++;
      if (item.reflector.isRunning) loops++;
      subscribers += item.subscribers;
      for (const [, count] of item.refEntries()) references += count;
    }
    return { objects: this.items.size, references, runningReflectors: running, activeReflectorLoops: loops, subscribers, foreignObjects: foreign };
  }

  /**
   * Stops every reflector and the recycler; reflectors stop at once, so nothing runs when it resolves.
   * Afterwards nothing restarts: new references are recorded but not watched, gets of immutable
   * objects still answer from cache, and other gets fail with StoreClosedError.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const wake of [...this.closeListeners]) wake();
      this.closeListeners.clear();
      this.recycleTimer?.cancel();
      this.recycleTimer = undefined;
      for (const item of this.items.values()) {
        this.stop(item);
        item.end();
      }
    }
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private newItem(namespace: string, name: string): Item<T> {
    const slot = new ObjectSlot<T>(namespace, name);
    const reflector = new Reflector<T>({
      name: `object-${JSON.stringify(namespace)}/${JSON.stringify(name)}`,
      listerWatcher: listWatchFor(this.source, namespace, { fieldSelector: oneTermEqualSelector('metadata.name', name) }),
      sink: slot,
      clock: this.clock,
      minWatchTimeout: this.minWatchTimeout,
      backoff: this.backoff,
      logger: this.logger,
      random: this.random,
      watchList: this.watchList,
      keepManagedFields: this.keepManagedFields,
      pacer: this.pacer,
    });
    return new Item(slot, reflector, checkObjectName(this.source.resource.namespaced ? namespace : '', name));
  }

  /**
   * Starts the reflector; its first request is issued before this returns. The same Reflector
   * is reused, so a restart resyncs "at least as fresh as" the last RV. Reflectors stop
   * synchronously, so there is no previous run to wait for and no AbortController per run.
   */
  private start(item: Item<T>): void {
    item.stopped = false;
    item.reflector.start();
  }

  private restartIfNeeded(item: Item<T>): void {
    if (item.immutable || !item.stopped || item.refused) return;
    this.start(item);
  }

  private stop(item: Item<T>): void {
    if (item.stopped) return;
    item.stopped = true;
    item.reflector.stop();
    if (!item.immutable) item.slot.unsetSynced();
  }

  /** Waits for the item's first list, the sync timeout, its removal or close, whichever is first. */
  private waitForSync(item: Item<T>, namespace: string, name: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError(this.resourceName));
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        timer.cancel();
        cancelWait();
        this.closeListeners.delete(onClose);
        item.notWhenEnded(onRemoved);
        signal?.removeEventListener('abort', onAbort);
      };
      // Only this waiter goes: the reflector keeps listing for the others and the next get.
      const onAbort = () => {
        cleanup();
        reject(new AbortError());
      };
      const timer = this.syncDeadlines.setTimeout(() => {
        cleanup();
        reject(new SyncTimeoutError(this.resourceName, item.reflector.lastError));
      });
      const onClose = () => {
        cleanup();
        reject(new StoreClosedError(this.resourceName));
      };
      const onRemoved = () => {
        cleanup();
        reject(new NotRegisteredError(namespace, name));
      };
      this.closeListeners.add(onClose);
      item.whenEnded(onRemoved);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cancelWait = item.slot.onceSynced(() => {
        cleanup();
        resolve();
      });
    });
  }

  private scheduleRecycle(): void {
    if (this.recycleInterval <= 0 || this.closed) return;
    this.recycleTimer = this.clock.setTimeout(() => {
      this.recycleIdle();
      this.scheduleRecycle();
    }, this.recycleInterval);
  }
}
