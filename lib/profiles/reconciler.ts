/**
 * The reconciler's clock work (node-agent `tickLoop`): every interval, one pass (evict containers
 * that are gone, retry pending ones), then, when the cache polls, a refresh of every entry in the
 * background. Both are single-flight: a pass never overlaps another, a refresh never stacks on a
 * slow one. All waiting is on the injected clock, so tests step it instead of sleeping.
 */
import type { Clock, Timer } from '../util/clock.js';
import { errorMessage, type Logger } from '../util/logger.js';
import type { ReconcilerPhase } from './metrics.js';

/** The interval when none (or a non-positive one) is configured: upstream's code default. */
export const DEFAULT_RECONCILE_INTERVAL = 30_000;
/**
 * Each interval is stretched by up to this fraction at random, so agents started together (a
 * DaemonSet rollout) do not all hit the API server on the same second. Upstream asks for 10 %
 * but its integer division makes the factor always 1.
 */
export const RECONCILE_JITTER = 0.1;

export interface ReconcilerLoopOptions {
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
  onDuration: (phase: ReconcilerPhase, ms: number) => void;
  logger: Logger;
}

export class ReconcilerLoop {
  private readonly opts: ReconcilerLoopOptions;
  private timer: Timer | undefined;
  private loopSignal: AbortSignal | undefined;
  private passInFlight: Promise<void> | undefined;
  private refreshInFlight: Promise<void> | undefined;
  /** Aborted by stop(): ends whatever runs and keeps anything new from starting. */
  private readonly stopping = new AbortController();

  constructor(opts: ReconcilerLoopOptions) {
    this.opts = opts;
  }

  /** Whether start() has run and neither its signal nor stop() has ended the loop. */
  get running(): boolean {
    return this.loopSignal !== undefined && !this.loopSignal.aborted && !this.stopping.signal.aborted;
  }

  /** The delay before the next pass: the interval stretched by the jitter. */
  nextDelay(): number {
    return this.opts.interval * (1 + this.opts.random() * RECONCILE_JITTER);
  }

  /** Starts ticking until `signal` aborts or stop(); a second call while running does nothing. */
  start(signal: AbortSignal): void {
    if (this.running || signal.aborted || this.stopping.signal.aborted) return;
    this.loopSignal = AbortSignal.any([signal, this.stopping.signal]);
    this.loopSignal.addEventListener('abort', () => this.cancelTimer(), { once: true });
    this.schedule();
  }

  /**
   * One pass now (joining one already running), then the background refresh if polling. Resolves
   * when the pass is done, not the refresh.
   */
  runPass(signal?: AbortSignal): Promise<void> {
    if (this.passInFlight) return this.passInFlight;
    const combined = this.combine(signal);
    const started = this.opts.clock.now();
    const run = (async () => {
      try {
        await this.opts.pass(combined);
      } catch (err) {
        this.opts.logger.warn('profile cache reconciler pass failed', { error: errorMessage(err) });
      }
      this.opts.onDuration('evict', this.opts.clock.now() - started);
      if (this.opts.refreshOnTick && !combined.aborted) void this.runRefresh(combined);
    })();
    this.passInFlight = run.finally(() => (this.passInFlight = undefined));
    return this.passInFlight;
  }

  /** A refresh of every entry now, joining one already running. */
  runRefresh(signal?: AbortSignal): Promise<void> {
    if (this.refreshInFlight) return this.refreshInFlight;
    const refresh = this.opts.refresh;
    const combined = this.combine(signal);
    const started = this.opts.clock.now();
    const run = (async () => {
      try {
        await refresh(combined);
      } catch (err) {
        this.opts.logger.warn('profile cache refresh failed', { error: errorMessage(err) });
      }
      this.opts.onDuration('refresh', this.opts.clock.now() - started);
    })();
    this.refreshInFlight = run.finally(() => (this.refreshInFlight = undefined));
    return this.refreshInFlight;
  }

  /** The pass and refresh running now, if any. */
  inFlight(): Promise<void>[] {
    return [this.passInFlight, this.refreshInFlight].filter((p): p is Promise<void> => p !== undefined);
  }

  /** Cancels the timer and everything in flight, and waits for it to finish. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.cancelTimer();
    await Promise.all([this.passInFlight, this.refreshInFlight]);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.runPass(this.loopSignal).then(() => this.schedule());
    }, this.nextDelay());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private combine(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
  }
}
