/**
 * FakeClock is a Clock that only moves when a test says so, like client-go's testing clock.
 * Timers fire in deadline order while the clock is stepped past them; `advance` also lets the
 * promise callbacks that each timer releases run before the next timer fires, so chains of
 * async work (a sleep, then a list, then another sleep) play out as they would in real time.
 */
import { clampDelay, sleepOn, type Clock, type Timer } from '../util/clock.js';

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/** A Clock that moves only when the test calls `step` or `advance`; see the file header. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Set<Scheduled>();

  /** @param start the initial time in ms (default 0). */
  constructor(start = 0) {
    this.t = start;
  }

  /** The fake time, in ms. */
  now(): number {
    return this.t;
  }

  /** As the wall clock does, `ms` is clamped to [0, MAX_TIMER_DELAY], so fake time sees what real time would. */
  setTimeout(fn: () => void, ms: number): Timer {
    const entry: Scheduled = { at: this.t + clampDelay(ms), seq: this.seq++, fn };
    this.timers.add(entry);
    return { cancel: () => void this.timers.delete(entry) };
  }

  /** Resolves true after `ms` of fake time, false when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return sleepOn(this, ms, signal);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * those callbacks schedule within the window), synchronously and in order.
   */
  step(ms: number): void {
    const target = this.t + ms;
    for (let due = this.nextDue(target); due; due = this.nextDue(target)) this.fire(due);
    this.t = target;
  }

  /**
   * Like `step`, but lets pending promise callbacks and I/O callbacks run before and after each
   * timer. Use it when the code under test awaits between timers.
   */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await settle();
    for (let due = this.nextDue(target); due; due = this.nextDue(target)) {
      this.fire(due);
      await settle();
    }
    this.t = target;
    await settle();
  }

  /** Timers scheduled and not yet fired or cancelled; 0 after a clean shutdown. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** The deadline of the earliest pending timer, if any. */
  nextTimerAt(): number | undefined {
    return this.nextDue(Infinity)?.at;
  }

  private nextDue(limit: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const entry of this.timers) {
      if (entry.at > limit) continue;
      if (!best || entry.at < best.at || (entry.at === best.at && entry.seq < best.seq)) best = entry;
    }
    return best;
  }

  private fire(entry: Scheduled): void {
    this.timers.delete(entry);
    this.t = Math.max(this.t, entry.at);
    entry.fn();
  }
}

/**
 * Waits until queued promise callbacks and already-due I/O callbacks have run: a few turns of
 * the event loop, no wall-clock sleeping.
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
