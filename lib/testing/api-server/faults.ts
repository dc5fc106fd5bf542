/**
 * Fault injection for the embedded API server: the failures a client of a real cluster meets
 * (watches cut mid-stream, 429 throttling with Retry-After, 5xx, slow lists, a corrupt watch
 * line, compaction, an apiserver restart, a small HTTP/2 stream limit), each switched on by one
 * call, so a test can prove how refwatch recovers. Timed faults run on the server's Clock.
 */
import { StatusError } from '../../api/errors.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Verb } from './accounting.js';

/**
 * The statuses `failNext` can inject: 429 (throttled by max-in-flight or priority and fairness)
 * and the two 5xx a client meets from an overloaded or restarting apiserver. Each gets the
 * reason and message kube-apiserver sends with it, so clients classify them as they would live.
 */
export type InjectedCode = 429 | 500 | 503;

/**
 * How the server answers a WatchList request (a watch with sendInitialEvents=true): 'serve' as
 * kube-apiserver 1.32+ does (the current state as ADDED events, then a BOOKMARK annotated
 * k8s.io/initial-events-end); 'refuse' with 422 Invalid, as a server with the WatchList gate off
 * does; 'ignore' as a server from before WatchList does, serving a plain watch (the parameters
 * dropped, so no bookmark ends the initial events).
 */
export type WatchListMode = 'serve' | 'refuse' | 'ignore';

/** Which requests `failNext` fails and how; a rule matches a request only if every filter given matches. */
export interface FailureOptions {
  /** The status to answer with. */
  code: InjectedCode;
  /**
   * Sent as the Retry-After header and details.retryAfterSeconds. Default 1 for 429 (what
   * kube-apiserver's max-in-flight filter sends); none for 500 and 503 unless given.
   */
  retryAfterSeconds?: number;
  /** Only requests with these verbs fail (and count against k). Default: every verb. */
  verbs?: Verb[];
  /** Only requests for this resource (plural, e.g. "secrets") fail. Default: every resource. */
  resource?: string;
}

/** What the server does for the faults; the server implements it, tests never see it. */
export interface FaultHost {
  /** The server's clock: periodic faults run on it, so specs drive them with FakeClock. */
  readonly clock: Clock;
  /** Breaks every open watch stream; returns how many. */
  dropWatches(): number;
  /** Writes a non-JSON line into every open watch stream; returns how many. */
  garbageOnWatches(): number;
  /** Compacts the storage's history up to the current resourceVersion. */
  compact(): void;
  /** Takes the listener down for `downMs` on the clock and back up; resolves once listening again. */
  restart(downMs: number): Promise<void>;
  /** Sets the HTTP/2 stream limit advertised to connections opened from now on. */
  setMaxConcurrentStreams(n: number): void;
}

interface FailureRule extends FailureOptions {
  remaining: number;
}

/**
 * The faults armed for upcoming requests, read by the request handler: kept apart from the
 * `Faults` API so that tests see only the switches and the handler only the state.
 */
export class FaultPlan {
  private readonly failures: FailureRule[] = [];
  /** Milliseconds every list waits before it is answered; 0 = off. */
  listDelayMs = 0;
  /** How WatchList requests are answered now. */
  watchList: WatchListMode;
  private garbageNext = false;

  /** @param defaultWatchList the WatchList behaviour the server started with; `clear` returns to it. */
  constructor(private readonly defaultWatchList: WatchListMode = 'serve') {
    this.watchList = defaultWatchList;
  }

  /**
   * Queues a rule failing the next `k` matching requests (behind any earlier rules); `k` 0 arms
   * nothing. Throws RangeError unless `k` is a non-negative integer.
   */
  addFailures(k: number, opts: FailureOptions): void {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`failNext: k must be a non-negative integer, got ${k}`);
    if (k > 0) this.failures.push({ ...opts, remaining: k });
  }

  /** The injected error for this request, if a rule matches it; consumes one of that rule's k. */
  takeFailure(verb: Verb, resource: string): StatusError | undefined {
    const rule = this.failures.find((r) => (!r.verbs || r.verbs.includes(verb)) && (r.resource === undefined || r.resource === resource));
    if (!rule) return undefined;
    if (--rule.remaining === 0) this.failures.splice(this.failures.indexOf(rule), 1);
    return injectedError(rule);
  }

  /** Arms one garbage line for the next watch; arming twice still owes only one. */
  armGarbage(): void {
    this.garbageNext = true;
  }

  /** True once after `armGarbage` (the `garbageOnNextWatch` fault), then false until armed again. */
  takeGarbage(): boolean {
    const armed = this.garbageNext;
    this.garbageNext = false;
    return armed;
  }

  /** Back to the state the server started with: no failures, no list delay, no garbage, the start's WatchList mode. */
  clear(): void {
    this.failures.length = 0;
    this.listDelayMs = 0;
    this.watchList = this.defaultWatchList;
    this.garbageNext = false;
  }
}

/**
 * The switches a test flips on `ApiServer.faults`: each arms or fires one failure of a real
 * cluster. Faults last until `reset()` (or, for counted ones, until used up); the server's stop
 * cancels the periodic ones, so none outlives it.
 */
export class Faults {
  private readonly periodic = new Set<Timer>();

  /**
   * Made by the server, which passes the actions only it can take (`host`) and the plan its
   * request handler reads; tests reach an instance through `ApiServer.faults`.
   */
  constructor(
    private readonly host: FaultHost,
    private readonly plan: FaultPlan,
  ) {}

  /**
   * Ends every open watch stream abruptly: a connection reset for HTTP/1.1 (which also drops
   * that connection), RST_STREAM for HTTP/2. Returns how many streams were dropped.
   */
  dropWatches(): number {
    return this.host.dropWatches();
  }

  /** `dropWatches()` every `ms` on the server's clock, until the returned function is called or the server stops. */
  dropWatchesEvery(ms: number): () => void {
    if (!(ms > 0)) throw new RangeError(`dropWatchesEvery: ms must be positive, got ${ms}`);
    let timer: Timer;
    const schedule = () => {
      timer = this.host.clock.setTimeout(() => {
        this.periodic.delete(timer);
        this.host.dropWatches();
        schedule();
      }, ms);
      this.periodic.add(timer);
    };
    schedule();
    return () => {
      timer.cancel();
      this.periodic.delete(timer);
    };
  }

  /**
   * Answers the next `k` requests that match with a Status of `opts.code` (429 with a
   * Retry-After header). Rules queue up: a request consumes from the first rule it matches.
   */
  failNext(k: number, opts: FailureOptions): void {
    this.plan.addFailures(k, opts);
  }

  /** Every list waits `ms` on the server's clock before it is answered; 0 turns it off. */
  delayLists(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`delayLists: ms must be >= 0, got ${ms}`);
    this.plan.listDelayMs = ms;
  }

  /**
   * How WatchList requests (sendInitialEvents=true) are answered from now on: served, refused
   * with 422 as by a server with the WatchList gate off, or ignored as by a server that predates
   * it. Same as the `watchList` start option; `reset()` goes back to that option.
   */
  watchList(mode: WatchListMode): void {
    this.plan.watchList = mode;
  }

  /** Writes one non-JSON line into every open watch stream; returns how many streams got it. */
  garbageOnWatch(): number {
    return this.host.garbageOnWatches();
  }

  /** The next watch to start gets a non-JSON line before its first event. */
  garbageOnNextWatch(): void {
    this.plan.armGarbage();
  }

  /** Compacts the storage: watches and continue tokens from older resourceVersions get 410. */
  compact(): void {
    this.host.compact();
  }

  /**
   * Stops listening and destroys every connection at once (clients get ECONNREFUSED, not a
   * slow answer), stays down for `downMs` on the server's clock, then listens again on the same
   * port with the same storage and resourceVersion counter. Resolves when listening again (or
   * at once when the server stops meanwhile).
   */
  restart(downMs: number): Promise<void> {
    return this.host.restart(downMs);
  }

  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS for HTTP/2 connections opened from now on (existing ones
   * keep theirs). Same as the `maxConcurrentStreams` start option.
   */
  maxStreamsPerConnection(n: number): void {
    this.host.setMaxConcurrentStreams(n);
  }

  /** Disarms every fault: pending failures, list delay, next-watch garbage, periodic drops, the WatchList mode. */
  reset(): void {
    this.plan.clear();
    this.cancelTimers();
  }

  /** Cancels the periodic faults' timers; the server calls it on stop. */
  cancelTimers(): void {
    for (const timer of this.periodic) timer.cancel();
    this.periodic.clear();
  }
}

function injectedError(rule: FailureRule): StatusError {
  const retryAfterSeconds = rule.retryAfterSeconds ?? (rule.code === 429 ? 1 : undefined);
  const details = retryAfterSeconds === undefined ? undefined : { retryAfterSeconds };
  switch (rule.code) {
    case 429:
      return new StatusError(429, 'TooManyRequests', 'Too many requests, please try again later.', details);
    case 503:
      return new StatusError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request (injected fault)', details);
    default:
      return new StatusError(500, 'InternalError', 'Internal error occurred: injected fault', details);
  }
}
