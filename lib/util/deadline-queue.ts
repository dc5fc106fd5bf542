/**
 * DeadlineQueue runs many timeouts that share one delay on a single clock timer. With one delay
 * the deadlines come due in the order they were set, so a queue in insertion order is all the
 * bookkeeping needed: one timer for the head, re-armed for the next head when it fires. The
 * watch store uses it for the sync timeouts of waiting gets, of which a kubelet-shaped reader
 * can have one per watched object at once (100,000 timers otherwise). Deadlines of differing
 * lengths (the transport's watch deadlines) need lib/api's DeadlineWheel instead.
 */
import type { Clock, Timer } from './clock.js';

interface Entry {
  /** When it is due, on the clock. */
  at: number;
  fn: () => void;
}

/** Timeouts of one fixed delay on one clock timer; see the file comment. */
export class DeadlineQueue {
  /** In insertion order, which is deadline order; a Set, so cancelling is O(1). */
  private readonly entries = new Set<Entry>();
  private timer: Timer | undefined;

  /** @param clock the clock the delays run on. */
  constructor(
    private readonly clock: Clock,
    /** The delay of every timeout in this queue, in ms. */
    readonly delayMs: number,
  ) {}

  /** Timeouts pending (for tests and leak checks). */
  get size(): number {
    return this.entries.size;
  }

  /** Runs `fn` once `delayMs` from now unless cancelled first; `cancel()` is idempotent. */
  setTimeout(fn: () => void): Timer {
    const entry: Entry = { at: this.clock.now() + this.delayMs, fn };
    this.entries.add(entry);
    if (!this.timer) this.arm(entry.at);
    return { cancel: () => this.cancel(entry) };
  }

  private cancel(entry: Entry): void {
    if (!this.entries.delete(entry) || this.entries.size > 0) return;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(at: number): void {
    this.timer = this.clock.setTimeout(() => this.fire(), at - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const due: Entry[] = [];
    for (const entry of this.entries) {
      if (entry.at > now) break;
      due.push(entry);
    }
    for (const entry of due) this.entries.delete(entry);
    // Armed before the callbacks run, so a callback that sets a new timeout does not arm twice.
    const next = this.entries.values().next();
    if (!next.done) this.arm(next.value.at);
    for (const entry of due) entry.fn();
  }
}
