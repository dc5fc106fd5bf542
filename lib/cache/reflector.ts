/**
 * Reflector keeps a sink in step with the server: it lists, then watches from the list's
 * resourceVersion, and repeats on failure. It is client-go's tools/cache Reflector, rule by
 * rule, because the kubelet's watch store relies on exactly those rules: the first list is
 * served from the watch cache (RV "0"), a normal watch close re-watches without relisting, an
 * expired RV relists, and failures back off so a sick apiserver is not hammered. When the
 * server serves WatchList (client-go's WatchListClient, on by default since 1.35), the first
 * sync is one watch that streams the current state instead of a list followed by a watch.
 */
import {
  StatusError,
  isConnectionRefused,
  isGone,
  isResourceExpired,
  isTooLargeResourceVersion,
  isTooManyRequests,
} from '../api/errors.js';
import { metaOf, namespacedKey, resourceVersionOf, type KubeObject, type ObjectList, type ObjectMeta } from '../api/object.js';
import type { WatchEvent } from '../api/source.js';
import { isAbortError, raceAbort } from '../util/abort.js';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import { realClock, type Clock } from '../util/clock.js';
import { errorMessage, noopLogger, type Logger } from '../util/logger.js';
import type { ListerWatcher } from './list-watch.js';
import { isFailureSink, isResourceVersionSink, type ReflectorSink } from './sink.js';
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

/** client-go's list page size; only used for quorum lists, the watch cache ignores paging. */
const DEFAULT_PAGE_SIZE = 500;

export interface ReflectorOptions<T> {
  /** Names the reflector in log lines, e.g. `object-"ns"/"name"`. */
  name: string;
  listerWatcher: ListerWatcher<T>;
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
  logger?: Logger;
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
   * dropped, as client-go informers do with TransformStripManagedFields (the kubelet's caches
   * set it too), because server-side-apply bookkeeping is often the biggest part of a small
   * object and nothing that reads a cache needs it.
   */
  keepManagedFields?: boolean;
}

/** Counters a test or a dashboard can read; they only ever grow. */
export interface ReflectorStats {
  lists: number;
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
  constructor(name: string) {
    super(`very short watch: ${name}: Unexpected watch close - watch lasted less than a second and no items received`);
    this.name = 'VeryShortWatchError';
  }
}

export class Reflector<T> {
  readonly name: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, events: 0, skippedEvents: 0, failures: 0, watchLists: 0, watchListFallbacks: 0 };
  private readonly lw: ListerWatcher<T>;
  private readonly sink: ReflectorSink<T>;
  private readonly clock: Clock;
  private readonly minWatchTimeout: number;
  private readonly pageSize: number;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  /** The source's shared WatchList verdict; undefined when this reflector always lists. */
  private readonly watchListSupport: WatchListSupport | undefined;
  private readonly keepManagedFields: boolean;
  private lastSyncRV = '';
  /** Set when the server said our RV is gone or too new; the next list is a quorum read. */
  private rvUnavailable = false;
  private running = false;
  /** How long the current failure asks us to wait at least (a 429's Retry-After). */
  private retryAfterMs = 0;
  /** The failure since the last successful list, if any: why a reader waiting for a sync waits. */
  private failure: unknown;

  constructor(opts: ReflectorOptions<T>) {
    this.name = opts.name;
    this.lw = opts.listerWatcher;
    this.sink = opts.sink;
    this.clock = opts.clock ?? realClock;
    this.minWatchTimeout = opts.minWatchTimeout ?? DEFAULT_MIN_WATCH_TIMEOUT;
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.logger = opts.logger ?? noopLogger;
    this.random = opts.random ?? Math.random;
    this.backoff = new Backoff(this.clock, { ...opts.backoff, random: opts.backoff?.random ?? this.random });
    this.watchListSupport = opts.watchList === false ? undefined : opts.listerWatcher.watchListSupport;
    this.keepManagedFields = opts.keepManagedFields ?? false;
  }

  /** The resourceVersion of the last list or event seen; survives stop and restart. */
  get lastSyncResourceVersion(): string {
    return this.lastSyncRV;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The last list/watch failure since the last successful list; undefined when healthy. */
  get lastError(): unknown {
    return this.failure;
  }

  /**
   * Lists and watches until `signal` aborts; resolves once nothing is in flight any more.
   * The first list request is issued synchronously, before `run` returns its promise. A
   * reflector runs once at a time: start the next run after the previous one resolved; it
   * then resumes from the last resourceVersion, as the kubelet's restarted reflectors do.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`reflector ${this.name} is already running`);
    this.running = true;
    try {
      while (!signal.aborted) {
        try {
          await this.listAndWatch(signal);
        } catch (err) {
          if (signal.aborted || isAbortError(err)) break;
          this.recordFailure(err);
        }
        if (signal.aborted) break;
        if (!(await this.clock.sleep(this.nextDelay(), signal))) break;
      }
    } finally {
      this.running = false;
    }
  }

  private nextDelay(): number {
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
    if (isResourceExpired(err) || isGone(err)) {
      this.logger.debug('watch closed', { reflector: this.name, error: errorMessage(err) });
    } else {
      this.logger.warn('list/watch failed', { reflector: this.name, error: errorMessage(err) });
    }
  }

  private async listAndWatch(signal: AbortSignal): Promise<void> {
    const stream = this.watchListSupport ? await this.watchList(this.watchListSupport, signal) : undefined;
    if (signal.aborted) {
      stream?.return?.()?.catch(() => {});
      return;
    }
    if (!stream) await this.list(signal);
    await this.watchUntilFailure(signal, stream);
  }

  /**
   * client-go's watchList: one watch with sendInitialEvents from the last RV ("" the first time:
   * a consistent snapshot), its ADDED events collected apart from the sink, and the sink replaced
   * at the BOOKMARK annotated k8s.io/initial-events-end, whose RV becomes the last synced one.
   * Resolves with the stream, left open for the live events, or undefined when this sync should
   * list instead: the verdict says so, the server refused or ignored WatchList (recorded in the
   * shared verdict), or the attempt failed in a way client-go falls back to a list for.
   */
  private async watchList(support: WatchListSupport, signal: AbortSignal): Promise<AsyncIterator<WatchEvent<T>> | undefined> {
    // Decided once: a retry below (backoff, 410) keeps this reflector's role as the prober.
    if (!(await this.decideWatchList(support, signal))) return undefined;
    for (;;) {
      const resourceVersion = this.rvUnavailable ? '' : this.lastSyncRV;
      const started = this.clock.now();
      this.stats.watches++;
      this.stats.watchLists++;
      const it = this.lw
        .watch({
          resourceVersion,
          resourceVersionMatch: 'NotOlderThan',
          sendInitialEvents: true,
          allowWatchBookmarks: true,
          timeoutSeconds: this.watchTimeoutSeconds(),
          signal,
        })
        [Symbol.asyncIterator]();
      const initial = new Map<string, T>();
      let received = 0;
      let outcome: 'synced' | 'ignored' | 'closed';
      try {
        outcome = await this.collectInitialEvents(it, initial, signal, () => received++);
      } catch (err) {
        it.return?.()?.catch(() => {});
        if (signal.aborted || isAbortError(err)) {
          support.abandon();
          return undefined;
        }
        if (isConnectionRefused(err) || isTooManyRequests(err)) {
          // Busy or briefly away: back off and stream again; the waiters keep waiting for us.
          this.recordFailure(err);
          if (!(await this.clock.sleep(this.nextDelay(), signal))) {
            support.abandon();
            return undefined;
          }
          continue;
        }
        if (isResourceExpired(err) || isGone(err) || isTooLargeResourceVersion(err)) {
          // Our RV is compacted away or ahead of this server: a consistent snapshot ("") at once.
          this.rvUnavailable = true;
          continue;
        }
        if (isWatchListRefusal(err)) {
          support.unsupported();
          this.logger.debug('the server refused WatchList; listing instead from now on', { reflector: this.name, error: errorMessage(err) });
        } else {
          support.abandon();
          this.logger.debug('WatchList failed; listing instead', { reflector: this.name, error: errorMessage(err) });
        }
        this.stats.watchListFallbacks++;
        return undefined;
      }
      if (outcome === 'synced') return it;
      it.return?.()?.catch(() => {});
      if (outcome === 'ignored') {
        support.unsupported();
        this.stats.watchListFallbacks++;
        this.logger.debug('the server ignored sendInitialEvents; listing instead from now on', { reflector: this.name });
        return undefined;
      }
      if (received === 0 && this.clock.now() - started < VERY_SHORT_WATCH) {
        // client-go's VeryShortWatchError is not retriable in watchList: it lists instead.
        support.abandon();
        this.stats.watchListFallbacks++;
        this.logger.debug('WatchList closed at once; listing instead', { reflector: this.name });
        return undefined;
      }
      // Closed before the initial state was complete: stream again, as client-go does.
    }
  }

  /**
   * Whether to stream (true) or list (false), waiting while another reflector over the same
   * source is probing the server. False too when `signal` aborts while waiting.
   */
  private async decideWatchList(support: WatchListSupport, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const { decision, cancel } = support.decide(wake);
      if (decision !== 'wait') return decision === 'watchList';
      const onAbort = () => wake();
      signal.addEventListener('abort', onAbort, { once: true });
      await woken;
      signal.removeEventListener('abort', onAbort);
      cancel();
    }
  }

  /**
   * Reads a WatchList stream up to its initial-events-end bookmark: 'synced' once the sink holds
   * the streamed state, 'ignored' when the server sent a live event first (it treated the request
   * as a plain watch), 'closed' when the stream ended before the bookmark. ERROR events throw.
   */
  private async collectInitialEvents(
    it: AsyncIterator<WatchEvent<T>>,
    initial: Map<string, T>,
    signal: AbortSignal,
    onEvent: () => void,
  ): Promise<'synced' | 'ignored' | 'closed'> {
    for (;;) {
      const step = await raceAbort(it.next(), signal);
      if (step.done) return 'closed';
      const event = step.value;
      if (event === null || typeof event !== 'object') {
        this.skip('event is not an object');
        continue;
      }
      const { type, object } = event;
      if (type === 'ERROR') throw StatusError.fromStatus(object);
      if (type === 'MODIFIED' || type === 'DELETED') return 'ignored';
      if (type === 'BOOKMARK') {
        const rv = resourceVersionOf(object);
        if (rv === undefined || rv === '') {
          this.skip('bookmark without resourceVersion');
          continue;
        }
        onEvent();
        this.stats.events++;
        if (metaOf(object)?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') continue;
        this.watchListSupport?.supported();
        this.sink.replace([...initial.values()], rv);
        this.lastSyncRV = rv;
        if (isResourceVersionSink(this.sink)) this.sink.updateResourceVersion(rv);
        this.rvUnavailable = false;
        this.failure = undefined;
        return 'synced';
      }
      if (type !== 'ADDED') {
        this.skip(`unknown event type ${JSON.stringify(String(type)).slice(0, 40)}`);
        continue;
      }
      const meta = metaOf(object);
      if (typeof meta?.name !== 'string') {
        this.skip('ADDED event without metadata.name');
        continue;
      }
      // Keyed, so an object sent twice is kept once, as client-go's temporary store does.
      initial.set(namespacedKey(meta.namespace ?? '', meta.name), this.admit(object));
      onEvent();
      this.stats.events++;
    }
  }

  private watchTimeoutSeconds(): number {
    return Math.floor((this.minWatchTimeout / 1000) * (1 + this.random()));
  }

  /** client-go's relistResourceVersion. */
  private relistResourceVersion(): string {
    if (this.rvUnavailable) return '';
    return this.lastSyncRV === '' ? '0' : this.lastSyncRV;
  }

  private async list(signal: AbortSignal): Promise<void> {
    let result: { items: T[]; resourceVersion: string };
    try {
      result = await this.listAt(this.relistResourceVersion(), signal);
    } catch (err) {
      if (signal.aborted || !(isGone(err) || isTooLargeResourceVersion(err))) throw err;
      // Our RV is compacted away or ahead of this server: fall back to a quorum read at once.
      this.logger.debug('relisting with a quorum read', { reflector: this.name, error: errorMessage(err) });
      this.rvUnavailable = true;
      result = await this.listAt('', signal);
    }
    this.sink.replace(result.items, result.resourceVersion);
    this.lastSyncRV = result.resourceVersion;
    this.rvUnavailable = false;
    this.failure = undefined;
  }

  private async listAt(resourceVersion: string, signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    this.stats.lists++;
    // Paging only makes sense for quorum reads; the watch cache serves RV "0" or "N" whole.
    const limit = resourceVersion === '' ? this.pageSize : undefined;
    const items: T[] = [];
    let page = await raceAbort(this.lw.list({ resourceVersion, limit, signal }), signal);
    for (;;) {
      this.collect(page, items);
      const token = page.metadata?.continue;
      if (!token) return { items, resourceVersion: page.metadata.resourceVersion };
      try {
        page = await raceAbort(this.lw.list({ continue: token, limit, signal }), signal);
      } catch (err) {
        if (signal.aborted || !isGone(err)) throw err;
        // The continue token expired mid-way: take one unpaged list instead, as client-go's pager does.
        items.length = 0;
        page = await raceAbort(this.lw.list({ resourceVersion: '', signal }), signal);
      }
    }
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

  /**
   * Watches, re-watching after normal closes, until a failure; the failure is thrown. `first`,
   * a WatchList stream past its initial events, is consumed before any new watch is opened.
   */
  private async watchUntilFailure(signal: AbortSignal, first?: AsyncIterator<WatchEvent<T>>): Promise<void> {
    let pending = first;
    while (!signal.aborted) {
      const started = this.clock.now();
      let received: number;
      try {
        const it = pending ?? this.openWatch(signal);
        pending = undefined;
        received = await this.consumeWatch(it, signal);
      } catch (err) {
        if (signal.aborted || isAbortError(err)) return;
        if (isConnectionRefused(err) || isTooManyRequests(err)) {
          // The server is there but busy, or briefly away: wait, then watch again from the
          // same RV; a relist would only add load.
          this.recordFailure(err);
          if (!(await this.clock.sleep(this.nextDelay(), signal))) return;
          continue;
        }
        throw err;
      }
      if (received === 0 && this.clock.now() - started < VERY_SHORT_WATCH) throw new VeryShortWatchError(this.name);
      this.logger.debug('watch ended normally; re-watching', { reflector: this.name, resourceVersion: this.lastSyncRV });
    }
  }

  /** A plain watch from the last synced RV. */
  private openWatch(signal: AbortSignal): AsyncIterator<WatchEvent<T>> {
    this.stats.watches++;
    const stream = this.lw.watch({
      resourceVersion: this.lastSyncRV,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
      signal,
    });
    return stream[Symbol.asyncIterator]();
  }

  /** Reads one watch stream; resolves with the number of events when it closes normally. */
  private async consumeWatch(it: AsyncIterator<WatchEvent<T>>, signal: AbortSignal): Promise<number> {
    let received = 0;
    try {
      for (;;) {
        const step = await raceAbort(it.next(), signal);
        if (step.done) return received;
        if (this.apply(step.value)) received++;
      }
    } finally {
      it.return?.()?.catch(() => {});
    }
  }

  /** Applies one event; returns false for a skipped one. ERROR events end the watch. */
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

  private skip(why: string): false {
    this.stats.skippedEvents++;
    this.logger.warn('skipping malformed watch data', { reflector: this.name, reason: why });
    return false;
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
