/**
 * Reflector keeps a sink in step with the server: it lists, then watches from the list's
 * resourceVersion, and repeats on failure. It is client-go's tools/cache Reflector, rule by
 * rule, because the kubelet's watch store relies on exactly those rules: the first list is
 * served from the watch cache (RV "0"), a normal watch close re-watches without relisting, an
 * expired RV relists, and failures back off so a sick apiserver is not hammered. When the
 * server serves WatchList (client-go's WatchListClient, on by default since 1.35), the first
 * sync is one watch that streams the current state instead of a list followed by a watch.
 */
import { StatusError, isConnectionRefused, isGone, isTooLargeResourceVersion, isTooManyRequests } from '../api/errors.js';
import { metaOf, namespacedKey, resourceVersionOf, type KubeObject, type ObjectList, type ObjectMeta } from '../api/object.js';
import type { ListOptions, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from '../api/source.js';
import { isAbortError } from '../util/abort.js';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import { realClock, type Clock, type Timer } from '../util/clock.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import type { ListerWatcher } from './list-watch.js';
import { isFailureSink, isResourceVersionSink, type ReflectorSink } from './sink.js';
import type { SyncPacer } from './sync-pacer.js';
import { INITIAL_EVENTS_END_ANNOTATION, type WatchListSupport } from './watch-list.js';

/**
 * client-go's default minimum watch timeout. Each watch asks the server to end it after a
 * random time in [min, 2×min), so a fleet of reflectors does not re-watch in lock step.
 */
export const DEFAULT_MIN_WATCH_TIMEOUT = 5 * 60_000;

/**
 * A watch that ends within this time with no event is treated as a failure (client-go's
 * VeryShortWatchError): re-watching at once would spin against a server that closes watches
 * immediately.
 */
const VERY_SHORT_WATCH = 1_000;

/** How long a 429 without Retry-After pauses the pacer: kube-apiserver's own default Retry-After, 1 s. */
const THROTTLED_PAUSE = 1_000;

/** client-go's list page size; only used for quorum lists, the watch cache ignores paging. */
const DEFAULT_PAGE_SIZE = 500;

/** What a Reflector lists, watches and fills, and its timing; `name`, `listerWatcher` and `sink` are required. */
export interface ReflectorOptions<T> {
  /** Names the reflector in log lines, e.g. `object-"ns"/"name"`. */
  name: string;
  /** Where to list and watch, bound to a namespace and selectors (`listWatchFor`). */
  listerWatcher: ListerWatcher<T>;
  /** What the reflector fills: an ObjectSlot, the Informer's store, a test double. */
  sink: ReflectorSink<T>;
  /** Drives backoff delays and watch-duration checks. Default: the wall clock. */
  clock?: Clock;
  /**
   * Minimum server-side watch timeout in ms; each watch draws its timeout from [min, 2×min).
   * Default 5 minutes (client-go). The kubelet's per-object watches use 30 minutes because
   * "every watch recreation comes with some additional cost" (kubernetes#124245).
   */
  minWatchTimeout?: number;
  /** Delay between failed attempts; defaults are client-go's (800 ms doubling to 30 s). */
  backoff?: BackoffOptions;
  /** Page size for quorum lists (resourceVersion ""). Default 500. */
  pageSize?: number;
  /** Where failures and skipped events are logged; any LoggerLike (pino, bunyan, console), normalised by toLogger. Default: nowhere. */
  logger?: LoggerLike;
  /** Randomness for the watch timeout; injectable so tests can pin it. */
  random?: () => number;
  /**
   * Sync with one WatchList stream (sendInitialEvents) instead of a list and a watch when the
   * ListerWatcher can serve it and its server has not refused it. Default true, as client-go's
   * WatchListClient gate since 1.35; false always lists first.
   */
  watchList?: boolean;
  /**
   * Keep `metadata.managedFields` on the objects handed to the sink. Default false: it is
   * dropped, as controller-runtime's cache.TransformStripManagedFields does through an
   * informer transform, because server-side-apply bookkeeping is often the biggest part of a small
   * object and nothing that reads a cache needs it.
   */
  keepManagedFields?: boolean;
  /**
   * Shared by the reflectors of one owner: every full sync (list or WatchList) waits for a token
   * from it, and a 429 slows it for all of them. Default: none, syncs are not paced.
   */
  pacer?: SyncPacer;
}

/** Counters a test or a dashboard can read; they only ever grow. */
export interface ReflectorStats {
  /** List requests (first pages; continue pages not counted). */
  lists: number;
  /** Watch requests, WatchList streams included. */
  watches: number;
  /** Events applied to the sink (bookmarks included). */
  events: number;
  /** Events that were not understood (unknown type, no metadata) and were skipped. */
  skippedEvents: number;
  /** List or watch attempts that ended in an error and led to a backoff. */
  failures: number;
  /** WatchList streams opened (also counted in `watches`). */
  watchLists: number;
  /** WatchList attempts that gave way to a list (refused, ignored, or failed in a way that lists). */
  watchListFallbacks: number;
}

/** Ends a watch that closed too soon; treated like any other failure (backoff, relist). */
export class VeryShortWatchError extends Error {
  /** @param name the reflector's name, for the message. */
  constructor(name: string) {
    super(`very short watch: ${name}: Unexpected watch close - watch lasted less than a second and no items received`);
    this.name = 'VeryShortWatchError';
  }
}

/** What the reflector is doing; each phase has at most one thing in flight. */
type Phase =
  | 'idle'
  /** Waiting for another reflector's WatchList verdict. */
  | 'waiting'
  | 'listing'
  /** A WatchList stream before its initial-events-end bookmark. */
  | 'streaming'
  | 'watching'
  | 'backoff';

/**
 * The reflector runs as a state machine driven by callbacks (a list's promise, the watch's
 * events through `watchEvents` or else its `next()`, one backoff timer) rather than as nested
 * async loops: with one reflector per watched object, the suspended frames and per-read abort
 * races of an async loop were most of a watch's heap, and a pending `next()` per open watch
 * still cost about half a KiB, which the callback watch saves. Every callback checks `epoch`,
 * which `stop()` moves on, so an answer that arrives after a stop (from a transport that
 * ignored the signal) is dropped.
 */
export class Reflector<T> {
  /** Names the reflector in log lines and errors. */
  readonly name: string;
  /** Counters that only grow; read them for tests and dashboards. */
  readonly stats: ReflectorStats = { lists: 0, watches: 0, events: 0, skippedEvents: 0, failures: 0, watchLists: 0, watchListFallbacks: 0 };
  private readonly lw: ListerWatcher<T>;
  private readonly sink: ReflectorSink<T>;
  private readonly clock: Clock;
  private readonly minWatchTimeout: number;
  private readonly pageSize: number;
  private readonly logger: NormalizedLogger;
  private readonly random: () => number;
  /** The backoff's curve; the Backoff itself is made at the first failure (most reflectors never fail). */
  private readonly backoffOptions: BackoffOptions;
  private backoff: Backoff | undefined;
  /** The source's shared WatchList verdict; undefined when this reflector always lists. */
  private readonly watchListSupport: WatchListSupport | undefined;
  private readonly keepManagedFields: boolean;
  private readonly pacer: SyncPacer | undefined;
  private lastSyncRV = '';
  /** Set when the server said our RV is gone or too new; the next list is a quorum read. */
  private rvUnavailable = false;
  /** How long the current failure asks us to wait at least (a 429's Retry-After). */
  private retryAfterMs = 0;
  /** The failure since the last successful list, if any: why a reader waiting for a sync waits. */
  private failure: unknown;

  private phase: Phase = 'idle';
  /** Moves on at every stop: callbacks of an older epoch are stale. */
  private epoch = 0;
  /** The signal of `run()`, passed to every list and watch; undefined when started with `start()`. */
  private signal: AbortSignal | undefined;
  /** With `start()`: aborts a list in flight on stop. Exists only while a list is. */
  private listAbort: AbortController | undefined;
  /** Called once when the current run ends (resolves `run()`'s promise). */
  private onStopped: (() => void) | undefined;
  /** The open watch when the ListerWatcher has no callback watches. */
  private iterator: AsyncIterator<WatchEvent<T>> | undefined;
  /** The open watch when it has (`watchEvents`): its callbacks' owner. */
  private listener: StreamListener<T> | undefined;
  /** When the current stream started (or passed its initial events), and events since. */
  private streamStarted = 0;
  private received = 0;
  /** A WatchList stream's objects until its initial-events-end bookmark (client-go's temporary store). */
  private initial: Map<string, T> | undefined;
  /** This reflector probes the server for the source's WatchList verdict. */
  private probing = false;
  private timer: Timer | undefined;
  private cancelWait: (() => void) | undefined;

  /** Builds the reflector; nothing is requested until `run` or `start`. */
  constructor(opts: ReflectorOptions<T>) {
    this.name = opts.name;
    this.lw = opts.listerWatcher;
    this.sink = opts.sink;
    this.clock = opts.clock ?? realClock;
    this.minWatchTimeout = opts.minWatchTimeout ?? DEFAULT_MIN_WATCH_TIMEOUT;
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.logger = toLogger(opts.logger);
    this.random = opts.random ?? Math.random;
    this.backoffOptions = opts.backoff ?? {};
    this.watchListSupport = opts.watchList === false ? undefined : opts.listerWatcher.watchListSupport;
    this.keepManagedFields = opts.keepManagedFields ?? false;
    this.pacer = opts.pacer;
  }

  /** The resourceVersion of the last list or event seen; survives stop and restart. */
  get lastSyncResourceVersion(): string {
    return this.lastSyncRV;
  }

  /** True between start (or `run`) and stop. */
  get isRunning(): boolean {
    return this.phase !== 'idle';
  }

  /** The last list/watch failure since the last successful list; undefined when healthy. */
  get lastError(): unknown {
    return this.failure;
  }

  /**
   * Lists and watches until `signal` aborts; resolves once the reflector has stopped. The first
   * list request is issued synchronously, before `run` returns its promise. A reflector runs
   * once at a time: start the next run after the previous one resolved; it then resumes from
   * the last resourceVersion, as the kubelet's restarted reflectors do.
   */
  run(signal: AbortSignal): Promise<void> {
    if (this.isRunning) return Promise.reject(new Error(`reflector ${this.name} is already running`));
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // One listener for the whole run, however many lists and watches it makes.
      const onAbort = () => this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      this.begin(signal, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * Starts listing and watching without a signal: `stop()` ends it. This is `run` for owners of
   * many reflectors (one per watched object), which would otherwise hold an AbortController
   * each. The first request is issued synchronously.
   * @throws Error when already running.
   */
  start(): void {
    if (this.isRunning) throw new Error(`reflector ${this.name} is already running`);
    this.begin(undefined, undefined);
  }

  /**
   * Stops at once: the open watch is closed, a list in flight is abandoned (aborted where the
   * transport allows), a backoff is cancelled, and any answer still arriving is ignored.
   * Idempotent. The reflector can be started again and resumes from its last resourceVersion.
   */
  stop(): void {
    if (this.phase === 'idle') return;
    this.phase = 'idle';
    this.epoch++;
    this.timer?.cancel();
    this.timer = undefined;
    this.cancelWait?.();
    this.cancelWait = undefined;
    this.closeStream();
    this.listAbort?.abort();
    this.listAbort = undefined;
    this.initial = undefined;
    this.releaseProbe();
    this.signal = undefined;
    const stopped = this.onStopped;
    this.onStopped = undefined;
    stopped?.();
  }

  private begin(signal: AbortSignal | undefined, onStopped: (() => void) | undefined): void {
    this.signal = signal;
    this.onStopped = onStopped;
    this.phase = 'backoff'; // running; sync() sets the real phase
    this.sync();
  }

  // --- the first sync: WatchList or list -------------------------------------------------

  /** A full sync, once the pacer (if any) lets it through. */
  private sync(): void {
    if (!this.pacer) return this.syncNow();
    const epoch = this.epoch;
    let granted = false;
    const cancel = this.pacer.acquire(() => {
      granted = true;
      if (epoch !== this.epoch) return;
      this.cancelWait = undefined;
      this.syncNow();
    });
    if (granted) return;
    this.phase = 'waiting';
    this.cancelWait = cancel;
  }

  /** client-go's ListAndWatch: WatchList when the source's verdict allows, else a list. */
  private syncNow(): void {
    const support = this.watchListSupport;
    if (support) {
      const epoch = this.epoch;
      const { decision, cancel } = support.decide(() => {
        if (epoch !== this.epoch) return;
        this.cancelWait = undefined;
        this.syncNow();
      });
      if (decision === 'wait') {
        this.phase = 'waiting';
        this.cancelWait = cancel;
        return;
      }
      if (decision === 'watchList') {
        this.probing = support.state === 'probing';
        this.openWatchList();
        return;
      }
    }
    this.startList();
  }

  /** client-go's relistResourceVersion. */
  private relistResourceVersion(): string {
    if (this.rvUnavailable) return '';
    return this.lastSyncRV === '' ? '0' : this.lastSyncRV;
  }

  private startList(): void {
    this.phase = 'listing';
    const resourceVersion = this.relistResourceVersion();
    // Paging only makes sense for quorum reads; the watch cache serves RV "0" or "N" whole.
    const limit = resourceVersion === '' ? this.pageSize : undefined;
    this.stats.lists++;
    this.listPage({ resourceVersion, limit }, [], true);
  }

  /**
   * One page. `mayRetryQuorum`: a first page refused as gone or too new is retried at once as
   * a quorum read (our RV is compacted away or ahead of this server).
   */
  private listPage(opts: ListOptions, items: T[], mayRetryQuorum: boolean): void {
    const epoch = this.epoch;
    const signal = this.signal ?? (this.listAbort ??= new AbortController()).signal;
    let page: Promise<ObjectList<T>>;
    try {
      page = this.lw.list({ ...opts, signal });
    } catch (err) {
      page = Promise.reject(err);
    }
    page.then(
      (result) => {
        if (epoch !== this.epoch) return;
        let token: string | undefined;
        try {
          this.collect(result, items);
          token = result.metadata.continue || undefined;
          if (token === undefined) this.synced(items, result.metadata.resourceVersion);
        } catch (err) {
          return this.listFailed(err, opts, items, false);
        }
        if (token !== undefined) return this.listPage({ continue: token, limit: opts.limit }, items, false);
        this.listAbort = undefined;
        this.startWatch();
      },
      (err: unknown) => {
        if (epoch !== this.epoch) return;
        this.listFailed(err, opts, items, mayRetryQuorum);
      },
    );
  }

  private listFailed(err: unknown, opts: ListOptions, items: T[], mayRetryQuorum: boolean): void {
    if (opts.continue !== undefined && isGone(err)) {
      // The continue token expired mid-way: take one unpaged list instead, as client-go's pager does.
      items.length = 0;
      return this.listPage({ resourceVersion: '' }, items, false);
    }
    if (mayRetryQuorum && (isGone(err) || isTooLargeResourceVersion(err))) {
      this.logger.debug('relisting with a quorum read', { reflector: this.name, error: errorMessage(err) });
      this.rvUnavailable = true;
      this.stats.lists++;
      return this.listPage({ resourceVersion: '', limit: this.pageSize }, [], false);
    }
    this.listAbort = undefined;
    // A transport that gives up with an AbortError of its own ends the run, as a stop would.
    if (isAbortError(err)) return this.stop();
    this.failAndResync(err);
  }

  private collect(page: ObjectList<T>, into: T[]): void {
    if (page === null || typeof page !== 'object' || !Array.isArray(page.items) || typeof page.metadata?.resourceVersion !== 'string') {
      throw new StatusError(500, 'InternalError', `malformed list response for ${this.name}`);
    }
    for (const item of page.items) {
      if (typeof metaOf(item)?.name === 'string') into.push(this.admit(item));
      else this.skip('list item without metadata.name');
    }
  }

  /** The sink now holds the server's state at `resourceVersion`: the only way to "synced". */
  private synced(items: T[], resourceVersion: string): void {
    this.sink.replace(items, resourceVersion);
    this.lastSyncRV = resourceVersion;
    this.rvUnavailable = false;
    this.failure = undefined;
  }

  // --- WatchList ---------------------------------------------------------------------------

  /**
   * client-go's watchList: one watch with sendInitialEvents from the last RV ("" the first time:
   * a consistent snapshot), its ADDED events collected apart from the sink, and the sink
   * replaced at the BOOKMARK annotated k8s.io/initial-events-end, whose RV becomes the last
   * synced one. The stream then goes on as the live watch.
   */
  private openWatchList(): void {
    this.phase = 'streaming';
    this.stats.watches++;
    this.stats.watchLists++;
    this.initial = new Map();
    this.openStream({
      resourceVersion: this.rvUnavailable ? '' : this.lastSyncRV,
      resourceVersionMatch: 'NotOlderThan',
      sendInitialEvents: true,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
      signal: this.signal,
    });
  }

  /**
   * One event of a WatchList stream before its bookmark. Returns false when the server turned
   * out to ignore sendInitialEvents (a live MODIFIED or DELETED came first). ERROR throws.
   */
  private applyInitial(event: WatchEvent<T>): boolean {
    if (event === null || typeof event !== 'object') return this.skipped('event is not an object');
    const { type, object } = event;
    if (type === 'ERROR') throw StatusError.fromStatus(object);
    if (type === 'MODIFIED' || type === 'DELETED') return false;
    if (type === 'BOOKMARK') {
      const rv = resourceVersionOf(object);
      if (rv === undefined || rv === '') return this.skipped('bookmark without resourceVersion');
      this.received++;
      this.stats.events++;
      if (metaOf(object)?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') return true;
      const items = [...this.initial!.values()];
      this.initial = undefined;
      this.probing = false;
      this.watchListSupport?.supported();
      this.synced(items, rv);
      if (isResourceVersionSink(this.sink)) this.sink.updateResourceVersion(rv);
      // The same stream carries the live events from here; it counts as a new watch for the
      // very-short-watch rule, as client-go's watch() does with the stream watchList hands it.
      this.phase = 'watching';
      this.streamStarted = this.clock.now();
      this.received = 0;
      return true;
    }
    if (type !== 'ADDED') return this.skipped(`unknown event type ${JSON.stringify(String(type)).slice(0, 40)}`);
    const meta = metaOf(object);
    if (typeof meta?.name !== 'string') return this.skipped('ADDED event without metadata.name');
    // Keyed, so an object sent twice is kept once, as client-go's temporary store does.
    this.initial!.set(namespacedKey(meta.namespace ?? '', meta.name), this.admit(object));
    this.received++;
    this.stats.events++;
    return true;
  }

  /** A WatchList attempt gives way to a list; `verdict` says whether the server ruled it out. */
  private watchListFallback(verdict: 'refused' | 'ignored' | undefined, why: string): void {
    this.closeStream();
    this.initial = undefined;
    if (verdict) {
      this.probing = false;
      this.watchListSupport?.unsupported();
    } else this.releaseProbe();
    this.stats.watchListFallbacks++;
    this.logger.debug(verdict ? `the server ${verdict} WatchList; listing instead from now on` : 'WatchList failed; listing instead', { reflector: this.name, reason: why });
    this.startList();
  }

  private releaseProbe(): void {
    if (!this.probing) return;
    this.probing = false;
    this.watchListSupport?.abandon();
  }

  // --- watching ----------------------------------------------------------------------------

  /** A plain watch from the last synced RV. */
  private startWatch(): void {
    this.phase = 'watching';
    this.stats.watches++;
    this.openStream({ resourceVersion: this.lastSyncRV, allowWatchBookmarks: true, timeoutSeconds: this.watchTimeoutSeconds(), signal: this.signal });
  }

  private watchTimeoutSeconds(): number {
    return Math.floor((this.minWatchTimeout / 1000) * (1 + this.random()));
  }

  private openStream(opts: WatchOptions): void {
    this.streamStarted = this.clock.now();
    this.received = 0;
    if (this.lw.watchEvents) return this.listen(opts);
    let it: AsyncIterator<WatchEvent<T>>;
    try {
      it = this.lw.watch(opts)[Symbol.asyncIterator]();
    } catch (err) {
      const failed = Promise.reject(err);
      it = { next: () => failed };
    }
    this.iterator = it;
    this.pull(it);
  }

  /**
   * Opens the watch with callbacks. Its events and end come back to `onListenedEvent` and
   * `onListenedEnd` through a listener per stream, so that a callback of a stream already
   * closed (or of one whose `watchEvents` call has not even returned) is told apart.
   */
  private listen(opts: WatchOptions): void {
    const listener = new StreamListener(this);
    this.listener = listener;
    let handle: WatchHandle;
    try {
      handle = this.lw.watchEvents!(opts, listener);
    } catch (err) {
      // As on the iterator path, a call that throws fails the stream a tick later, not inside openStream.
      queueMicrotask(() => listener.onEnd(err));
      return;
    }
    // Closed from inside the call (an event it delivered at once led elsewhere): stop() is idempotent.
    if (listener.closed) handle.stop();
    else listener.handle = handle;
  }

  /** An event of a callback watch: applied as `onStep` applies one, the stream closed on a throw. */
  private onListenedEvent(listener: StreamListener<T>, event: WatchEvent<T>): void {
    if (listener !== this.listener) return;
    try {
      if (this.phase === 'streaming') {
        if (!this.applyInitial(event)) this.watchListFallback('ignored', 'a live event came before the initial-events-end bookmark');
      } else if (this.apply(event)) this.received++;
    } catch (err) {
      // Handled here rather than thrown back into the transport, as the iterator path does.
      this.onStreamError(err);
    }
  }

  /** A callback watch ended: without `err` as an iterator's `done`, with it as its rejection. */
  private onListenedEnd(listener: StreamListener<T>, err: unknown): void {
    if (listener !== this.listener) return;
    this.listener = undefined;
    if (err === undefined) this.onStreamClosed();
    else this.onStreamError(err);
  }

  /** Asks the stream for its next event; the answer comes back to `onStep` or `onStreamError`. */
  private pull(it: AsyncIterator<WatchEvent<T>>): void {
    let next: Promise<IteratorResult<WatchEvent<T>>>;
    try {
      next = it.next();
    } catch (err) {
      next = Promise.reject(err);
    }
    next.then(
      (step) => {
        if (it === this.iterator) this.onStep(it, step);
      },
      (err: unknown) => {
        if (it === this.iterator) this.onStreamError(err);
      },
    );
  }

  private onStep(it: AsyncIterator<WatchEvent<T>>, step: IteratorResult<WatchEvent<T>>): void {
    if (step.done) return this.onStreamClosed();
    try {
      if (this.phase === 'streaming') {
        if (!this.applyInitial(step.value)) return this.watchListFallback('ignored', 'a live event came before the initial-events-end bookmark');
      } else if (this.apply(step.value)) this.received++;
    } catch (err) {
      return this.onStreamError(err);
    }
    if (it === this.iterator) this.pull(it);
  }

  /** The server ended the stream normally. */
  private onStreamClosed(): void {
    this.closeStream();
    const veryShort = this.received === 0 && this.clock.now() - this.streamStarted < VERY_SHORT_WATCH;
    if (this.phase === 'streaming') {
      // client-go's VeryShortWatchError is not retriable in watchList: it lists instead. A
      // longer stream that closed before its initial state was complete is streamed again.
      if (veryShort) return this.watchListFallback(undefined, 'the stream closed at once');
      return this.openWatchList();
    }
    if (veryShort) return this.failAndResync(new VeryShortWatchError(this.name));
    this.logger.debug('watch ended normally; re-watching', { reflector: this.name, resourceVersion: this.lastSyncRV });
    this.startWatch();
  }

  /** The stream could not be established, broke, or carried an ERROR event. */
  private onStreamError(err: unknown): void {
    this.closeStream();
    const streaming = this.phase === 'streaming';
    if (isConnectionRefused(err) || isTooManyRequests(err)) {
      // The server is there but busy, or briefly away: wait, then watch (or stream) again from
      // the same RV; a relist would only add load. A prober keeps its role meanwhile.
      this.recordFailure(err);
      return this.backOff(() => (streaming ? this.openWatchList() : this.startWatch()));
    }
    if (isAbortError(err)) {
      // A transport's own abort, not a stop: a WatchList lists instead, a watch resyncs after
      // a backoff; neither counts as a failure.
      if (streaming) return this.watchListFallback(undefined, 'aborted by the transport');
      return this.backOff(() => this.sync());
    }
    if (!streaming) return this.failAndResync(err);
    if (isGone(err) || isTooLargeResourceVersion(err)) {
      // Our RV is compacted away or ahead of this server: a consistent snapshot ("") at once.
      this.rvUnavailable = true;
      return this.openWatchList();
    }
    this.watchListFallback(isWatchListRefusal(err) ? 'refused' : undefined, errorMessage(err));
  }

  private closeStream(): void {
    const listener = this.listener;
    if (listener) {
      this.listener = undefined;
      listener.close();
    }
    const it = this.iterator;
    if (!it) return;
    this.iterator = undefined;
    it.return?.()?.catch(() => {});
  }

  /** Applies one event; returns false for a skipped one. ERROR events throw (and end the watch). */
  private apply(event: WatchEvent<T>): boolean {
    if (event === null || typeof event !== 'object') return this.skip('event is not an object');
    const { type, object } = event;
    if (type === 'ERROR') throw StatusError.fromStatus(object);
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED' && type !== 'BOOKMARK') {
      return this.skip(`unknown event type ${JSON.stringify(String(type)).slice(0, 40)}`);
    }
    const rv = resourceVersionOf(object);
    if (type === 'BOOKMARK') {
      if (rv === undefined) return this.skip('bookmark without resourceVersion');
    } else if (typeof metaOf(object)?.name !== 'string') {
      return this.skip(`${type} event without metadata.name`);
    } else if (type === 'ADDED') this.sink.add(this.admit(object));
    else if (type === 'MODIFIED') this.sink.update(this.admit(object));
    else this.sink.delete(this.admit(object));
    if (rv !== undefined && rv !== '') {
      this.lastSyncRV = rv;
      if (isResourceVersionSink(this.sink)) this.sink.updateResourceVersion(rv);
    }
    this.stats.events++;
    return true;
  }

  // --- failures ----------------------------------------------------------------------------

  /** A failed list or watch: count it, back off, then sync again (client-go's relist). */
  private failAndResync(err: unknown): void {
    this.recordFailure(err);
    this.backOff(() => this.sync());
  }

  private backOff(then: () => void): void {
    this.phase = 'backoff';
    const epoch = this.epoch;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (epoch === this.epoch) then();
    }, this.nextDelay());
  }

  private nextDelay(): number {
    this.backoff ??= new Backoff(this.clock, { ...this.backoffOptions, random: this.backoffOptions.random ?? this.random });
    const delay = Math.max(this.backoff.next(), this.retryAfterMs);
    this.retryAfterMs = 0;
    return delay;
  }

  private recordFailure(err: unknown): void {
    this.stats.failures++;
    this.failure = err;
    if (isFailureSink(this.sink)) this.sink.onFailure(err);
    if (isTooManyRequests(err) && err instanceof StatusError && err.retryAfterSeconds) {
      this.retryAfterMs = err.retryAfterSeconds * 1000;
    }
    // The server is shedding load: the owner's other reflectors slow down too.
    if (isTooManyRequests(err)) this.pacer?.throttled(this.retryAfterMs || THROTTLED_PAUSE);
    if (isGone(err)) {
      this.logger.debug('watch closed', { reflector: this.name, error: errorMessage(err) });
    } else {
      this.logger.warn('list/watch failed', { reflector: this.name, error: errorMessage(err) });
    }
  }

  /**
   * The object as the sink gets it: without `metadata.managedFields` unless asked to keep it.
   * The object is fresh from the decoder and ours, so its metadata is replaced in place (a
   * copy without the field) rather than the whole object copied.
   */
  private admit(obj: T): T {
    if (this.keepManagedFields) return obj;
    const meta = metaOf(obj) as (ObjectMeta & { managedFields?: unknown }) | undefined;
    if (meta?.managedFields === undefined) return obj;
    const { managedFields: _dropped, ...rest } = meta;
    (obj as KubeObject).metadata = rest;
    return obj;
  }

  /** `skip` for the initial events, where a skipped event keeps the stream going (true). */
  private skipped(why: string): true {
    this.skip(why);
    return true;
  }

  private skip(why: string): false {
    this.stats.skippedEvents++;
    this.logger.warn('skipping malformed watch data', { reflector: this.name, reason: why });
    return false;
  }
}

/**
 * One callback watch of a reflector: what `watchEvents` calls, and the handle to stop it. A
 * class of two fields rather than two closures per stream, since every watched object has one.
 */
class StreamListener<T> implements WatchHandler<T> {
  /** Set once `watchEvents` returned; undefined before, or when it ended inside the call. */
  handle: WatchHandle | undefined;
  /** The reflector closed it, or it ended: later callbacks are ignored. */
  closed = false;

  constructor(private readonly owner: Reflector<T>) {}

  onEvent(event: WatchEvent<T>): void {
    // Bracket access reaches the reflector's private handlers; they are not part of its API.
    if (!this.closed) this.owner['onListenedEvent'](this, event);
  }

  onEnd(err?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.handle = undefined;
    this.owner['onListenedEnd'](this, err);
  }

  /** The reflector is done with it: the watch is stopped and its own onEnd ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    handle?.stop();
  }
}

/**
 * A WatchList request the server answered as one that does not know it: 400 BadRequest or 422
 * Invalid (kube-apiserver with the WatchList gate off forbids sendInitialEvents for watch), or
 * 501 NotImplemented. These are verdicts about the server, not passing trouble.
 */
function isWatchListRefusal(err: unknown): boolean {
  return err instanceof StatusError && (err.code === 400 || err.code === 422 || err.code === 501);
}
