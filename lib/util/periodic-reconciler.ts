/**
 * PeriodicReconciler is the one periodic loop in refwatch: the watchdogs, the image GC and the
 * profile cache's reconciler all run their passes on it. It exists so that the rules every such
 * loop needs are written once: a pass never overlaps the previous one, the cadence carries real
 * jitter so a fleet of agents does not reconcile on the same second, a nudge asks for a pass now
 * without stacking passes, stop() ends a running pass through its AbortSignal and waits for it,
 * and every wait is on the injected clock (k8s.io/apimachinery's wait.JitterUntil plus
 * node-agent's nudge channel, as one object).
 *
 * It lives in lib/util, not lib/node where DESIGN.md first placed it with the watchdogs, because
 * two consumer layers share it (lib/node's watchdogs and lib/profiles' reconciler) and a consumer
 * never imports another consumer; it depends on nothing but the clock and the logger. The package
 * exports it as before.
 */
import { realClock, type Clock, type Timer } from './clock.js';
import type { AsyncStoppable } from './dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from './logger.js';

/**
 * Each interval is stretched by up to this fraction at random unless `jitter` says otherwise:
 * 10 %, what node-agent's reconciler asks for (its integer division makes it 0) and what
 * wait.JitterUntil callers in the kubelet commonly pass.
 */
export const DEFAULT_RECONCILE_JITTER = 0.1;

/** Why a pass ran: the first one at start(), a timer, a nudge(), or a direct runNow(). */
export type PassTrigger = 'start' | 'interval' | 'nudge' | 'manual';

/** What the metrics hook hears after every pass, failed ones included. */
export interface PassReport {
  /** The reconciler's name, as given. */
  name: string;
  /** Why the pass ran. */
  trigger: PassTrigger;
  /** How long the pass took on the injected clock, in ms. */
  durationMs: number;
  /** What the pass threw, if it threw; the loop goes on either way. */
  error?: unknown;
}

/** A periodic loop: its name, cadence and pass; `name`, `interval` and `run` are required. */
export interface PeriodicReconcilerOptions {
  /** Names the loop in log lines and pass reports, e.g. `container-watchdog`. */
  name: string;
  /**
   * ms from the end of one pass to the start of the next, before jitter. Must be positive: a
   * zero interval would spin (Go's time.NewTicker(0) panics; this throws a TypeError instead).
   */
  interval: number;
  /**
   * Fraction by which each interval is stretched at random: the delay is drawn from
   * [interval, interval × (1 + jitter)). Default 0.1. 0 gives a fixed cadence.
   */
  jitter?: number;
  /**
   * One pass. Its signal aborts on stop() or when start()'s signal aborts; a pass that ignores
   * it still ends the loop cleanly, stop() just waits longer. A throw is logged and reported,
   * never fatal to the loop.
   */
  run: (signal: AbortSignal) => Promise<void>;
  /** Whether start() runs a pass at once (the watchdogs do) or first waits one interval. Default true. */
  runOnStart?: boolean;
  /** Drives the interval timer. Default: the wall clock. */
  clock?: Clock;
  /**
   * Logs each pass at debug with its duration, at error a pass that threw or a metrics hook
   * that threw, and at debug a pass that stop() or start()'s signal cut short (not a failure).
   * Any LoggerLike (pino, bunyan, the console, refwatch's shape); default: none.
   */
  logger?: LoggerLike;
  /** The metrics hook: called after every pass with its trigger, duration and error. */
  onPass?: (report: PassReport) => void;
  /** Randomness in [0, 1) for the jitter; injectable so tests can pin it. */
  random?: () => number;
}

/**
 * The one periodic loop of refwatch (wait.JitterUntil plus a nudge): a pass never overlaps the
 * previous one, each interval carries jitter, nudge() asks for a pass now without stacking, and stop()
 * (or `await using`) aborts a running pass through its signal and waits for it. Every wait is on the
 * injected clock.
 */
export class PeriodicReconciler implements AsyncStoppable {
  /** Names the loop in log lines and pass reports. */
  readonly name: string;
  private readonly interval: number;
  private readonly jitter: number;
  private readonly runPassFn: (signal: AbortSignal) => Promise<void>;
  private readonly runOnStart: boolean;
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly onPass: ((report: PassReport) => void) | undefined;
  private readonly random: () => number;
  /** Aborted by stop(): ends whatever runs and keeps anything new from starting. */
  private readonly stopping = new AbortController();
  /** The signal of the current start(), combined with stop()'s; undefined while not started. */
  private loopSignal: AbortSignal | undefined;
  private timer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  /** A nudge arrived while a pass was running: run one more as soon as it ends. */
  private nudged = false;

  /**
   * Builds the loop; nothing runs until start() or runNow().
   * @throws TypeError for an interval that is not a positive finite number, or a negative jitter.
   */
  constructor(opts: PeriodicReconcilerOptions) {
    if (!(opts.interval > 0) || !Number.isFinite(opts.interval)) {
      throw new TypeError(`PeriodicReconciler ${opts.name}: interval must be a positive number of ms, got ${opts.interval}`);
    }
    const jitter = opts.jitter ?? DEFAULT_RECONCILE_JITTER;
    if (!(jitter >= 0) || !Number.isFinite(jitter)) throw new TypeError(`PeriodicReconciler ${opts.name}: jitter must be >= 0, got ${jitter}`);
    this.name = opts.name;
    this.interval = opts.interval;
    this.jitter = jitter;
    this.runPassFn = opts.run;
    this.runOnStart = opts.runOnStart ?? true;
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.onPass = opts.onPass;
    this.random = opts.random ?? Math.random;
  }

  /** Whether the loop is started and neither its signal nor stop() has ended it. */
  get running(): boolean {
    return this.loopSignal !== undefined && !this.loopSignal.aborted;
  }

  /** Whether stop() was called; a stopped reconciler never runs again. */
  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** The delay before the next timed pass: the interval stretched by the jitter. */
  nextDelay(): number {
    return this.interval * (1 + this.random() * this.jitter);
  }

  /**
   * Starts the loop: a pass now (unless `runOnStart` is false), then one every interval after
   * the previous pass ended. It runs until `signal` aborts or stop(); after its signal aborted it
   * can be started again, after stop() never. A call while running does nothing.
   */
  start(signal?: AbortSignal): void {
    if (this.running || this.stopped || signal?.aborted) return;
    const loopSignal = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    this.loopSignal = loopSignal;
    loopSignal.addEventListener(
      'abort',
      () => {
        // A later start() may already own the loop; only this start's timer is ours to cancel.
        if (this.loopSignal !== loopSignal) return;
        this.cancelTimer();
        this.nudged = false;
      },
      { once: true },
    );
    if (this.runOnStart) this.runInLoop('start');
    else this.schedule();
  }

  /**
   * Asks for a pass now. Idle: the pending timer is replaced by a pass at once. During a pass:
   * one more pass runs right after it, however many nudges arrive meanwhile (trailing-edge
   * coalescing, so a burst of changes costs two passes at most). Ignored while not started.
   */
  nudge(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.nudged = true;
      return;
    }
    this.cancelTimer();
    this.runInLoop('nudge');
  }

  /**
   * Runs a pass now, or joins the one already running, and resolves when it is done (it never
   * rejects: failures are logged and reported). Its signal aborts with `signal` or stop(), not
   * with start()'s. The loop's timer is left as it is. Resolves at once without running after
   * stop().
   */
  runNow(signal?: AbortSignal): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.stopped) return Promise.resolve();
    // Not the loop's signal: a manual pass belongs to its caller, and ends only with theirs or stop().
    return this.runPass('manual', signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal);
  }

  /** The pass running now, if any; resolves when it ends. */
  current(): Promise<void> | undefined {
    return this.inFlight;
  }

  /** Ends the loop: cancels the timer, aborts a running pass and waits for it. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.cancelTimer();
    this.nudged = false;
    await this.inFlight;
  }

  /** `await using` support: the same as stop(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** A pass on the loop's signal; when one is already running it stands for this one too. */
  private runInLoop(trigger: PassTrigger): void {
    if (this.inFlight || !this.loopSignal) return;
    void this.runPass(trigger, this.loopSignal);
  }

  private runPass(trigger: PassTrigger, signal: AbortSignal): Promise<void> {
    const started = this.clock.now();
    const run = (async () => {
      let error: unknown;
      try {
        await this.runPassFn(signal);
      } catch (err) {
        error = err;
        // A pass that stop() (or start()'s signal) cut short did not fail: say so at debug only.
        if (signal.aborted) this.logger.debug(`${this.name} pass aborted`, { trigger, error: errorMessage(err) });
        else this.logger.error(`${this.name} pass failed`, { trigger, error: errorMessage(err) });
      }
      const durationMs = this.clock.now() - started;
      if (error === undefined) this.logger.debug(`${this.name} pass done`, { trigger, durationMs });
      try {
        this.onPass?.({ name: this.name, trigger, durationMs, ...(error === undefined ? {} : { error }) });
      } catch (err) {
        this.logger.error(`${this.name} pass hook failed`, { error: errorMessage(err) });
      }
    })();
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
      this.afterPass();
    });
    return this.inFlight;
  }

  /** After any pass: a pending nudge runs now, otherwise the next interval starts from here. */
  private afterPass(): void {
    if (!this.running) return;
    if (this.nudged) {
      this.nudged = false;
      this.cancelTimer();
      this.runInLoop('nudge');
    } else if (!this.timer) {
      this.schedule();
    }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // A runNow() pass is under way: it counts as this interval's pass, and the next
      // interval starts when it ends.
      if (!this.inFlight) this.runInLoop('interval');
    }, this.nextDelay());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
