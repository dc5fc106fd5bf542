/**
 * Informer is client-go's shared index informer for one resource: the Reflector lists and
 * watches one namespace (or all) with optional selectors into an Indexer, answers `get` and
 * `list` (by namespace and by index, O(matches)) from memory, and tells subscribers what
 * changed after the store changed. It is what a controller reads instead of the API server.
 *
 * Objects handed out are the cached ones, not copies (controller-runtime's
 * UnsafeDisableDeepCopy, which openkruise's sandbox cache turns on): copy before changing one
 * (`structuredClone(obj)`). Outside NODE_ENV=production they are deep-frozen, so a mutation
 * fails loudly where it happens instead of corrupting every other reader's view.
 */
import { Observable, type Subscriber } from 'rxjs';
import { objectKey, type KubeObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/resource.js';
import type { ObjectSource } from '../api/source.js';
import type { BackoffOptions } from '../util/backoff.js';
import { realClock, type Clock } from '../util/clock.js';
import { deepFreeze, freezeByDefault } from '../util/freeze.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { Indexer, type IndexFunc, type StoreChange } from './indexer.js';
import { listWatchFor } from './list-watch.js';
import { Reflector, type ReflectorStats } from './reflector.js';
import type { FailureSink, ReflectorSink } from './sink.js';

/**
 * How long `health()` reports unhealthy after a failed list or watch: upstream's
 * watchErrorSettle. Long enough that a consumer gating destructive work on "the cache is
 * complete" (openkruise's quota release) stays careful while the informer relists and the
 * events it missed are replayed; short enough that one blip does not disable it for long.
 */
export const WATCH_ERROR_SETTLE = 2 * 60_000;

/** What an Informer lists and watches, how it indexes, and what it runs on. */
export interface InformerOptions<T> {
  /** Where the objects are listed and watched, e.g. `client.source(resources.pods)`. */
  source: ObjectSource<T>;
  /** Namespace to list and watch; "" or undefined means every namespace (not "cluster scope"). */
  namespace?: string;
  /** Sent with every list and watch: the server filters, the cache never sees the rest. */
  labelSelector?: string;
  /** Sent with every list and watch, e.g. "metadata.name=x". */
  fieldSelector?: string;
  /**
   * Index name -> function from an object to the values it is found under, registered once.
   * A function that throws for an object leaves that object out of its index (and logs a
   * warning); the object is still stored. Default: no indexes (namespace lookups still work).
   */
  indexers?: Record<string, IndexFunc<T>>;
  /** Drives backoff, watch timeouts and the health window. Default: the wall clock. */
  clock?: Clock;
  /** Where failed lists and watches and throwing index functions are reported. Any LoggerLike. */
  logger?: LoggerLike;
  /**
   * Deep-freeze every stored object. Default: true unless NODE_ENV is "production". Freezing
   * walks each object once as it arrives; turning it off in production saves that walk, and
   * relies on callers copying before they change anything they were handed.
   */
  freeze?: boolean;
  /** Minimum server-side watch timeout (ms); each watch lasts [min, 2×min). Default 5 minutes (client-go). */
  minWatchTimeout?: number;
  /** Reflector backoff; defaults are client-go's (800 ms doubling to 30 s). */
  backoff?: BackoffOptions;
  /** Randomness for watch timeouts and jitter; injectable for tests. */
  random?: () => number;
  /**
   * Sync with one WatchList stream instead of a list and a watch where the server serves it.
   * Default true (client-go since 1.35); false always lists first.
   */
  watchList?: boolean;
  /** Keep `metadata.managedFields` on stored objects. Default false: dropped on arrival, as controller-runtime's TransformStripManagedFields. */
  keepManagedFields?: boolean;
}

/** One change to the informer's store, told after the store changed. */
export interface InformerEvent<T> {
  /** ADDED for a new object, MODIFIED for a changed one, DELETED for a removed one. */
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object as stored now; for DELETED, its final state (the last one known, see below). */
  object: T;
  /** The stored object this event replaced or removed. */
  previous?: T;
  /**
   * True on a DELETED the informer synthesised because a relist no longer had the object
   * (client-go's DeletedFinalStateUnknown): the delete itself was missed while the watch was
   * down, so `object` is the last state seen, not the state it was deleted in.
   */
  finalStateUnknown?: boolean;
}

/** Whether the cache can be trusted to be complete right now. */
export interface InformerHealth {
  /** A list has filled the store since the informer started. */
  synced: boolean;
  /** Synced, not closed, and no list or watch failed within the last WATCH_ERROR_SETTLE. */
  healthy: boolean;
  /** The most recent list or watch failure, if any ever happened. */
  lastError?: unknown;
  /** When it happened, on the informer's clock. */
  lastErrorAt?: number;
}

/** Counters for dashboards and leak checks. */
export interface InformerStats {
  /** Objects in the store. */
  objects: number;
  /** `events()` subscriptions open; 0 after close(). */
  subscribers: number;
  /** The reflector loop is running; false after close() resolved. */
  running: boolean;
  /** The reflector's counters: lists, watches, events, failures. */
  reflector: ReflectorStats;
}

/** Thrown by every read after `close()`, and by pending `synced()` calls it interrupts. */
export class InformerClosedError extends Error {
  /** @param what the resource and namespace, as the message names them. */
  constructor(what: string) {
    super(`informer for ${what} is closed`);
    this.name = 'InformerClosedError';
  }
}

/** `synced(signal)` gave up: the signal aborted before the first list landed. */
export class InformerSyncAbortedError extends Error {
  /**
   * @param what the resource and namespace, as the message names them.
   * @param cause the reflector's last failure, or the signal's reason.
   */
  constructor(what: string, cause: unknown) {
    super(`timed out waiting for caches to sync (${what})`, { cause });
    this.name = 'InformerSyncAbortedError';
  }
}

/**
 * client-go's shared index informer for one resource: a reflector into an Indexer, read from
 * memory, with change events; see the file header. Call `start()`, then `synced()`.
 */
export class Informer<T extends KubeObject = KubeObject> implements AsyncDisposable {
  /** The resource listed and watched. */
  readonly resource: ResourceType;
  /** "" when watching every namespace. */
  readonly namespace: string;
  private readonly store: Indexer<T>;
  private readonly reflector: Reflector<T>;
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly freeze: boolean;
  private readonly what: string;
  private readonly subscribers = new Set<Subscriber<InformerEvent<T>>>();
  private readonly syncWaiters = new Set<{ resolve: () => void; reject: (err: unknown) => void }>();
  private hasSyncedOnce = false;
  private closed = false;
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private lastError: unknown;
  private lastErrorAt: number | undefined;

  /** Builds the informer; nothing is listed before `start()`. */
  constructor(opts: InformerOptions<T>) {
    this.resource = opts.source.resource;
    this.namespace = opts.namespace ?? '';
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.freeze = opts.freeze ?? freezeByDefault();
    const plural = this.resource.group === '' ? this.resource.resource : `${this.resource.resource}.${this.resource.group}`;
    this.what = this.namespace === '' ? plural : `${plural} in ${this.namespace}`;
    this.store = new Indexer<T>(opts.indexers, (index, key, err) =>
      this.logger.warn('index function failed; object left out of that index', { informer: this.what, index, object: key, error: errorMessage(err) }),
    );
    const sink: ReflectorSink<T> & FailureSink = {
      replace: (items) => this.onReplace(items),
      add: (obj) => this.onUpsert(obj),
      update: (obj) => this.onUpsert(obj),
      delete: (obj) => this.onDelete(obj),
      onFailure: (err) => {
        this.lastError = err;
        this.lastErrorAt = this.clock.now();
      },
    };
    this.reflector = new Reflector<T>({
      name: `informer-${this.what}`,
      listerWatcher: listWatchFor(opts.source, this.namespace, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }),
      sink,
      clock: this.clock,
      minWatchTimeout: opts.minWatchTimeout,
      backoff: opts.backoff,
      logger: this.logger,
      random: opts.random,
      watchList: opts.watchList,
      keepManagedFields: opts.keepManagedFields,
    });
  }

  /**
   * Starts listing and watching (the owned lifecycle). Idempotent. When another component owns
   * this informer's lifecycle, it calls `start()` and this one only awaits `synced()`.
   * @throws InformerClosedError after `close()`.
   */
  start(): void {
    if (this.closed) throw new InformerClosedError(this.what);
    if (this.controller) return;
    this.controller = new AbortController();
    this.running = this.reflector.run(this.controller.signal).catch((err: unknown) => {
      this.logger.warn('informer loop ended with an error', { informer: this.what, error: errorMessage(err) });
    });
  }

  /** True once the first list filled the store. */
  get hasSynced(): boolean {
    return this.hasSyncedOnce;
  }

  /**
   * Resolves once the first list filled the store (at once if it has). Rejects with
   * InformerSyncAbortedError when `signal` aborts first (its cause is the reflector's last
   * failure, e.g. a 403, or the signal's reason), and with InformerClosedError on close().
   * It does not start the informer.
   */
  synced(signal?: AbortSignal): Promise<void> {
    if (this.hasSyncedOnce) return Promise.resolve();
    if (this.closed) return Promise.reject(new InformerClosedError(this.what));
    if (signal?.aborted) return Promise.reject(this.syncAborted(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.syncWaiters.delete(waiter);
        reject(this.syncAborted(signal!));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.syncWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The cached object, or undefined. Frozen unless `freeze` is off: copy before changing.
   * Cluster-scoped objects have namespace "".
   * @throws InformerClosedError after `close()`.
   */
  get(namespace: string, name: string): T | undefined {
    this.checkOpen();
    return this.store.get(objectKey(namespace, name));
  }

  /**
   * Cached objects, optionally only one namespace ("" or absent: no filter) and only those an
   * index maps `value` to, at most `limit` of them (absent or <= 0: all). Costs O(matches).
   * @throws IndexNotFoundError for an index that was not registered; InformerClosedError after close().
   */
  list(opts: { namespace?: string; index?: { name: string; value: string }; limit?: number } = {}): T[] {
    this.checkOpen();
    const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : Infinity;
    const out: T[] = [];
    if (limit === Infinity && !opts.index && !opts.namespace) return [...this.store.values()];
    for (const key of this.store.keysFor(opts)) {
      if (out.length >= limit) break;
      out.push(this.store.get(key)!);
    }
    return out;
  }

  /** Values currently in use in one index. @throws IndexNotFoundError */
  indexValues(index: string): string[] {
    this.checkOpen();
    return this.store.indexValues(index);
  }

  /** Objects in the store. */
  get size(): number {
    return this.store.size;
  }

  /**
   * Changes after the first sync: ADDED, MODIFIED and DELETED as the watch reports them, and
   * after a relist ADDED/MODIFIED for what changed meanwhile and a DELETED with
   * `finalStateUnknown` for objects gone. Each event is emitted after the store holds it, so a
   * subscriber that reads the informer sees at least that state. The initial contents are not
   * replayed: read them with `list()` after `synced()`.
   *
   * Cold and per subscriber: subscribing adds a listener, unsubscribing removes it; the stream
   * completes on close(). Subscribers are called synchronously in the reflector's turn, so do
   * slow work asynchronously.
   */
  events(): Observable<InformerEvent<T>> {
    return new Observable<InformerEvent<T>>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      this.subscribers.add(subscriber);
      return () => void this.subscribers.delete(subscriber);
    });
  }

  /** See InformerHealth; upstream HEAD's InformerHealth, on the injected clock. */
  health(): InformerHealth {
    const settled = this.lastErrorAt === undefined || this.clock.now() - this.lastErrorAt >= WATCH_ERROR_SETTLE;
    const health: InformerHealth = { synced: this.hasSyncedOnce, healthy: this.hasSyncedOnce && !this.closed && settled };
    if (this.lastErrorAt !== undefined) {
      health.lastError = this.lastError;
      health.lastErrorAt = this.lastErrorAt;
    }
    return health;
  }

  /** Counters now: objects, subscribers, whether the loop runs, the reflector's counts. */
  stats(): InformerStats {
    return { objects: this.store.size, subscribers: this.subscribers.size, running: this.reflector.isRunning, reflector: { ...this.reflector.stats } };
  }

  /**
   * Stops the reflector (also while its first list is in flight), completes every `events()`
   * subscription, rejects pending `synced()` calls, and resolves once the loop has ended.
   * Idempotent; afterwards every read throws InformerClosedError.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.controller?.abort();
      const waiters = [...this.syncWaiters];
      this.syncWaiters.clear();
      for (const waiter of waiters) waiter.reject(new InformerClosedError(this.what));
      const subscribers = [...this.subscribers];
      this.subscribers.clear();
      for (const subscriber of subscribers) subscriber.complete();
      await this.running;
    })();
    return this.closing;
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new InformerClosedError(this.what);
  }

  private syncAborted(signal: AbortSignal): InformerSyncAbortedError {
    return new InformerSyncAbortedError(this.what, this.reflector.lastError ?? signal.reason);
  }

  private onReplace(items: T[]): void {
    const changes = this.store.replace(items.map((obj) => this.admit(obj)));
    if (!this.hasSyncedOnce) {
      this.hasSyncedOnce = true;
      const waiters = [...this.syncWaiters];
      this.syncWaiters.clear();
      for (const waiter of waiters) waiter.resolve();
      return;
    }
    for (const change of changes) this.emit(change.type === 'DELETED' ? { ...change, finalStateUnknown: true } : change);
  }

  private onUpsert(obj: T): void {
    const change = this.store.set(this.admit(obj));
    if (this.hasSyncedOnce) this.emit(change);
  }

  private onDelete(obj: T): void {
    const change = this.store.delete(this.admit(obj));
    if (change && this.hasSyncedOnce) this.emit(change);
  }

  /**
   * Readies an object for the store: list items of built-in kinds come without apiVersion and
   * kind (the server leaves them to the list), and wait hooks key objects by both, so they are
   * filled in from the resource; then the object is frozen unless that is off.
   */
  private admit(obj: T): T {
    if ((obj.apiVersion === undefined || obj.kind === undefined) && Object.isExtensible(obj)) {
      obj.apiVersion ??= apiVersionOf(this.resource);
      obj.kind ??= this.resource.kind;
    }
    return this.freeze ? deepFreeze(obj) : obj;
  }

  private emit(change: StoreChange<T> & { finalStateUnknown?: boolean }): void {
    const event: InformerEvent<T> = { type: change.type, object: change.object };
    if (change.previous !== undefined) event.previous = change.previous;
    if (change.finalStateUnknown) event.finalStateUnknown = true;
    for (const subscriber of [...this.subscribers]) subscriber.next(event);
  }
}
