/**
 * SyncPacer spaces out the full syncs (lists and WatchList streams) of many reflectors: a token
 * bucket on the injected clock that every reflector of one owner draws from before it syncs.
 * 100,000 per-object reflectors started at once would otherwise send 100,000 lists in the same
 * instant, which kube-apiserver's priority-and-fairness answers with 429s, and each 429 retried
 * on its own backoff only keeps the burst going. Here a 429 pauses the whole bucket for its
 * Retry-After and halves its rate, which then recovers step by step while no 429 comes.
 */
import type { Clock, Timer } from '../util/clock.js';

/** The bucket's shape. */
export interface SyncPacerOptions {
  /**
   * Syncs per second once the burst is spent. Default 2,000: faster than the cold start of
   * 10,000 watched objects measured on the bench machine (about 1,000–1,600 syncs per second
   * against a real kube-apiserver), so it does not slow that case, while a 100,000-object start
   * is spread over about 50 s instead of arriving at once.
   */
  qps?: number;
  /** Syncs allowed at once from a full bucket. Default 2,000 (one second's worth). */
  burst?: number;
  /**
   * The rate never falls below this after 429s. Default 50 syncs per second, so a throttled
   * owner still makes progress once the server's Retry-After has passed.
   */
  minQps?: number;
  /**
   * After this long without a 429, a halved rate doubles again (up to `qps`). Default 10 s,
   * several times kube-apiserver's usual Retry-After of 1 s.
   */
  recoverAfterMs?: number;
}

/** A shared token bucket for reflector syncs; see the file comment. */
export class SyncPacer {
  private readonly maxQps: number;
  private readonly minQps: number;
  private readonly burst: number;
  private readonly recoverAfterMs: number;
  private qps: number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = -Infinity;
  private lastThrottleAt = -Infinity;
  /** Syncs waiting for a token, in arrival order; a Set so a stopped reflector leaves in O(1). */
  private readonly waiting = new Set<() => void>();
  private timer: Timer | undefined;

  /**
   * @param clock drives the refill and the Retry-After pauses.
   * @param opts the bucket's shape; defaults as documented on SyncPacerOptions.
   */
  constructor(
    private readonly clock: Clock,
    opts: SyncPacerOptions = {},
  ) {
    this.maxQps = opts.qps ?? 2_000;
    this.burst = opts.burst ?? this.maxQps;
    this.minQps = Math.min(opts.minQps ?? 50, this.maxQps);
    this.recoverAfterMs = opts.recoverAfterMs ?? 10_000;
    if (!(this.maxQps > 0) || !(this.burst >= 1)) throw new RangeError(`SyncPacer: qps must be > 0 and burst >= 1, got ${this.maxQps} and ${this.burst}`);
    this.qps = this.maxQps;
    this.tokens = this.burst;
    this.refilledAt = clock.now();
  }

  /** Syncs waiting for their turn (for tests and dashboards). */
  get queued(): number {
    return this.waiting.size;
  }

  /** The current rate in syncs per second (lower than `qps` after a 429). */
  get rate(): number {
    return this.qps;
  }

  /**
   * Runs `go` when a token is free: at once (synchronously) if one is and nobody waits, else in
   * arrival order. Returns a function that gives up the place in the queue.
   */
  acquire(go: () => void): () => void {
    this.refill();
    if (this.waiting.size === 0 && this.tokens >= 1 && this.clock.now() >= this.pausedUntil) {
      this.tokens--;
      go();
      return noop;
    }
    const waiter = () => go();
    this.waiting.add(waiter);
    this.schedule();
    return () => {
      this.waiting.delete(waiter);
      if (this.waiting.size === 0) this.cancelTimer();
    };
  }

  /**
   * The server answered a sync with 429: nothing more is let through before `retryAfterMs` has
   * passed, and the rate halves (not below `minQps`).
   */
  throttled(retryAfterMs: number): void {
    const now = this.clock.now();
    this.refill();
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.max(0, retryAfterMs));
    this.qps = Math.max(this.minQps, this.qps / 2);
    this.tokens = Math.min(this.tokens, 1);
    this.lastThrottleAt = now;
    if (this.waiting.size > 0) {
      this.cancelTimer();
      this.schedule();
    }
  }

  private refill(): void {
    const now = this.clock.now();
    while (this.qps < this.maxQps && now - this.lastThrottleAt >= this.recoverAfterMs) {
      this.qps = Math.min(this.maxQps, this.qps * 2);
      this.lastThrottleAt += this.recoverAfterMs;
    }
    // No tokens accrue while paused: the pause ends a burst, it does not save one up.
    const from = Math.max(this.refilledAt, Math.min(now, this.pausedUntil));
    if (now > from) this.tokens = Math.min(this.burst, this.tokens + ((now - from) / 1000) * this.qps);
    this.refilledAt = now;
  }

  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    const now = this.clock.now();
    const untilToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.qps) * 1000;
    const delay = Math.max(this.pausedUntil - now, 0) + untilToken;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, Math.ceil(delay));
  }

  private release(): void {
    this.refill();
    if (this.clock.now() >= this.pausedUntil) {
      for (const waiter of this.waiting) {
        if (this.tokens < 1) break;
        this.tokens--;
        this.waiting.delete(waiter);
        waiter();
        if (this.clock.now() < this.pausedUntil) break; // a waiter's sync was throttled meanwhile
      }
    }
    this.schedule();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

function noop(): void {}
