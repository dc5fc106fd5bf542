/**
 * Backoff is client-go's reflector backoff: the delay between failed list/watch attempts. It
 * exists so that a failing apiserver sees a falling request rate from every reflector instead
 * of a retry storm.
 */
import type { Clock } from './clock.js';

/** The backoff's curve; every option has client-go's reflector value as default. */
export interface BackoffOptions {
  /** First delay in ms. Default 800: client-go's reflector value. */
  initial?: number;
  /** Multiplier applied after each delay. Default 2. */
  factor?: number;
  /**
   * Jitter fraction: each delay is drawn from [d, d × (1 + jitter)). Default 1.0, so delays
   * spread over [d, 2d) and reflectors that failed together do not retry together.
   */
  jitter?: number;
  /**
   * Upper bound of the un-jittered delay in ms. Default 30 000: with jitter 1.0 the steady
   * state is one attempt every [30, 60) s, about 0.02 QPS per failing reflector, which is the
   * ~98% cut of traffic to an unhealthy apiserver that client-go documents.
   */
  cap?: number;
  /**
   * If no delay was asked for during this many ms, the next delay starts from `initial` again.
   * Default 120 000 (client-go's 2 minutes): a watch that ran for a while and then failed is a
   * fresh failure, not the continuation of an old outage.
   */
  resetAfter?: number;
  /** Source of randomness in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

/**
 * Delays between failed attempts, doubling with jitter up to a cap and starting over after a quiet
 * period (client-go's reflector backoff): `next()` after each failure, `reset()` after a success.
 */
export class Backoff {
  private readonly initial: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly cap: number;
  private readonly resetAfter: number;
  private readonly random: () => number;
  private current: number;
  private lastDelayAt: number | undefined;

  /**
   * @param clock tells when the last delay was asked for (for `resetAfter`).
   * @param opts the curve; defaults as client-go.
   */
  constructor(
    private readonly clock: Clock,
    opts: BackoffOptions = {},
  ) {
    this.initial = opts.initial ?? 800;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 1;
    this.cap = opts.cap ?? 30_000;
    this.resetAfter = opts.resetAfter ?? 120_000;
    this.random = opts.random ?? Math.random;
    this.current = this.initial;
  }

  /** The next delay in ms; each call counts as one failure. */
  next(): number {
    const now = this.clock.now();
    if (this.lastDelayAt !== undefined && now - this.lastDelayAt > this.resetAfter) this.current = this.initial;
    this.lastDelayAt = now;
    const base = Math.min(this.current, this.cap);
    this.current = Math.min(this.current * this.factor, this.cap);
    return base + (this.jitter > 0 ? this.random() * this.jitter * base : 0);
  }

  /** Forget past failures. */
  reset(): void {
    this.current = this.initial;
    this.lastDelayAt = undefined;
  }
}
