/**
 * DeadlineWheel: the deadlines of many long-lived things (open watches) on one timer of the
 * injected clock instead of one timer each. A timer per watch costs about 0.45 KB (issue 9);
 * here a deadline is a slot in a Set. Deadlines are rounded up to the wheel's resolution, so
 * watches opened within the same second share a bucket, and the one timer is armed for the
 * earliest bucket only. Watch deadlines differ per watch (a random timeout each), which is why
 * this is a wheel; timeouts that all share one delay (the watch store's waiting gets) use
 * lib/util's DeadlineQueue, a plain FIFO that never scans buckets.
 */
import type { Clock, Timer } from '../util/clock.js';

/** Something with a deadline: `expire()` is called once it passed. */
export interface Expiring {
  /**
   * The deadline passed. Called once, from the clock's timer, with the item already off the
   * wheel (no `remove` needed). It must not throw: its bucket is gone from the wheel by then,
   * so a throw would leave the rest of that bucket never expired.
   */
  expire(): void;
}

/**
 * Default bucket width. A watch deadline is its timeoutSeconds plus a 30 s grace, so a second
 * more is noise; finer buckets would only multiply buckets under the real clock.
 */
const DEFAULT_RESOLUTION_MS = 1_000;

/**
 * Deadlines bucketed by time, fired by one timer. A deadline fires at or after its time, never
 * before, and at most one resolution late. The one timer is an ordinary one: while any deadline
 * is on the wheel, it keeps a process alive as the per-item timers it replaces would.
 */
export class DeadlineWheel {
  private readonly buckets = new Map<number, Set<Expiring>>();
  private timer: Timer | undefined;
  private armedFor = Infinity;

  /**
   * @param clock whose timer fires the deadlines (FakeClock in specs).
   * @param resolutionMs bucket width, in ms: deadlines are rounded up to a multiple of it.
   *   Default 1 s, for deadlines of minutes; keep it well below the shortest deadline added.
   */
  constructor(
    private readonly clock: Clock,
    private readonly resolutionMs = DEFAULT_RESOLUTION_MS,
  ) {}

  /** Deadlines on the wheel, for tests and stats. */
  get size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }

  /** Calls `item.expire()` once `ms` (rounded up to the resolution) have passed; returns the key for `remove`. */
  add(item: Expiring, ms: number): number {
    const at = Math.ceil((this.clock.now() + ms) / this.resolutionMs) * this.resolutionMs;
    let bucket = this.buckets.get(at);
    if (!bucket) this.buckets.set(at, (bucket = new Set()));
    bucket.add(item);
    if (at < this.armedFor) this.arm(at);
    return at;
  }

  /** Takes `item` off the wheel; the timer goes with the last deadline. */
  remove(item: Expiring, key: number): void {
    const bucket = this.buckets.get(key);
    if (!bucket?.delete(item) || bucket.size > 0) return;
    this.buckets.delete(key);
    if (this.buckets.size === 0) this.disarm();
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.armedFor = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (const [at, bucket] of this.buckets) {
      if (at > now) continue;
      this.buckets.delete(at);
      for (const item of bucket) item.expire();
    }
    let next = Infinity;
    for (const at of this.buckets.keys()) if (at < next) next = at;
    if (next < Infinity && next < this.armedFor) this.arm(next);
  }
}
