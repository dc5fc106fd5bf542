/**
 * The reconciler's clock work (node-agent `tickLoop`): every interval, one pass (evict containers
 * that are gone, retry pending ones), then, when the cache polls, a refresh of every entry in the
 * background. Both are single-flight: a pass never overlaps another, a refresh never stacks on a
 * slow one. The cadence is the shared PeriodicReconciler's; all waiting is on the injected clock,
 * so tests step it instead of sleeping.
 */
import { PeriodicReconciler } from '../util/periodic-reconciler.js';
import type { Clock } from '../util/clock.js';
import type { AsyncStoppable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import type { ReconcilerPhase } from './metrics.js';

/** The interval when none (or a non-positive one) is configured: upstream's code default. */
export const DEFAULT_RECONCILE_INTERVAL = 30_000;
/**
 * Each interval is stretched by up to this fraction at random, so agents started together (a
 * DaemonSet rollout) do not all hit the API server on the same second. Upstream asks for 10 %
 * but its integer division makes the factor always 1.
 */
export const RECONCILE_JITTER = 0.1;

/** What the reconciler loop runs, and when. */
export interface ReconcilerLoopOptions {
  /** Drives the tick and times the phases. */
  clock: Clock;
  /** ms between the end of one pass and the start of the next, before jitter. */
  interval: number;
  /** Randomness in [0, 1) for the jitter. */
  random: () => number;
  /** Evict and retry; awaited, so passes never overlap. */
  pass: (signal: AbortSignal) => Promise<void>;
  /** Refresh every entry; single-flight, run by runRefresh() and, with `refreshOnTick`, after each pass. */
  refresh: (signal: AbortSignal) => Promise<void>;
  /** Start a background refresh after each pass: the cache polls instead of receiving events. */
  refreshOnTick: boolean;
  /** Hears how long each pass (`evict`) and refresh took, in ms; the cache reports it as a metric. */
  onDuration: (phase: ReconcilerPhase, ms: number) => void;
  /** Hears a pass or a refresh that failed (at error) and each pass done (at debug). Any LoggerLike; default: none. */
  logger?: LoggerLike;
}

/**
 * The profile cache's reconciler (node-agent's `tickLoop`): a pass every interval with jitter, on
 * PeriodicReconciler, then with `refreshOnTick` a background refresh of every entry; passes never
 * overlap and refreshes never stack.
 */
export class ReconcilerLoop implements AsyncStoppable {
  private readonly opts: ReconcilerLoopOptions;
  private readonly logger: NormalizedLogger;
  private readonly periodic: PeriodicReconciler;
  private refreshInFlight: Promise<void> | undefined;
  /** Aborted by stop(): ends a running refresh and keeps a new one from starting. */
  private readonly stopping = new AbortController();

  /** Builds the loop; it ticks only after start(). */
  constructor(opts: ReconcilerLoopOptions) {
    this.opts = opts;
    this.logger = toLogger(opts.logger);
    this.periodic = new PeriodicReconciler({
      name: 'profile cache reconciler',
      interval: opts.interval,
      jitter: RECONCILE_JITTER,
      random: opts.random,
      // Upstream's ticker first fires one interval after start.
      runOnStart: false,
      clock: opts.clock,
      logger: this.logger,
      onPass: (report) => opts.onDuration('evict', report.durationMs),
      run: async (signal) => {
        try {
          await opts.pass(signal);
        } finally {
          if (opts.refreshOnTick && !signal.aborted) void this.runRefresh(signal);
        }
      },
    });
  }

  /** Whether start() has run and neither its signal nor stop() has ended the loop. */
  get running(): boolean {
    return this.periodic.running;
  }

  /** The delay before the next pass: the interval stretched by the jitter. */
  nextDelay(): number {
    return this.periodic.nextDelay();
  }

  /** Starts ticking until `signal` aborts or stop(); a second call while running does nothing. */
  start(signal: AbortSignal): void {
    this.periodic.start(signal);
  }

  /**
   * One pass now (joining one already running), then the background refresh if polling. Resolves
   * when the pass is done, not the refresh.
   */
  runPass(signal?: AbortSignal): Promise<void> {
    return this.periodic.runNow(signal);
  }

  /** A refresh of every entry now, joining one already running. */
  runRefresh(signal?: AbortSignal): Promise<void> {
    if (this.refreshInFlight) return this.refreshInFlight;
    const refresh = this.opts.refresh;
    const combined = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    const started = this.opts.clock.now();
    const run = (async () => {
      try {
        await refresh(combined);
      } catch (err) {
        this.logger.error('profile cache refresh failed', { error: errorMessage(err) });
      }
      this.opts.onDuration('refresh', this.opts.clock.now() - started);
    })();
    this.refreshInFlight = run.finally(() => (this.refreshInFlight = undefined));
    return this.refreshInFlight;
  }

  /** The pass and refresh running now, if any. */
  inFlight(): Promise<void>[] {
    return [this.periodic.current(), this.refreshInFlight].filter((p): p is Promise<void> => p !== undefined);
  }

  /** Cancels the timer and everything in flight, and waits for it to finish. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.periodic.stop(), this.refreshInFlight]);
  }

  /** `await using` support: the same as stop(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
