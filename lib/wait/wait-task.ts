/**
 * Wait tasks block until one object reaches a state (openkruise's WaitTask and
 * WaitForObjectSatisfied): a check on the object, a hook so the event stream can wake the
 * waiter, a slow poll in case it does not, and a final re-read that decides. Two kinds:
 *
 * - lazy (`newWaitTask`): `wait` first checks the object as given, then acquires the hook;
 * - pre-acquired (`newAcquiredWaitTask`): the hook is taken at construction, so a caller can
 *   reserve the object (a Pause) before changing it, and no opposite wait (a Resume) can start
 *   in between. Single use: `wait` once, or `release`.
 *
 * The sequence, exactly as upstream: unrefreshed check (lazy only) → zero timeout fails →
 * acquire → refreshed check → wait for a close of the hook, a poll tick (refreshed check) or
 * the timeout/abort → double-check (refreshed) decides. Every timer is on the injected Clock.
 */
import type { KubeObject } from '../api/object.js';
import { deadline } from '../util/abort.js';
import { realClock, type Clock, type Timer } from '../util/clock.js';
import { WaitNotSatisfiedError, WaitTaskUsedError } from './errors.js';
import { waitHookKey, waitHookRefOf, type Check, type WaitEntry, type WaitHooks } from './wait-hooks.js';

/**
 * Upstream's defaultWaitPollInterval. The poll is a second path for when the event path fails
 * to close a hook (a lost event, a slow consumer); it reads the same cache, so it cannot beat
 * a stale informer, only a missed wake-up. 10 s keeps it a safety net, not a load.
 */
export const DEFAULT_WAIT_POLL_INTERVAL = 10_000;

/** Returns a fresh copy of the object: the cache first, a live read as fallback. */
export type Update<T> = (obj: T) => Promise<T>;

/** What a wait task waits on, how it checks and re-reads the object, and how long it polls. */
export interface WaitTaskOptions<T extends KubeObject> {
  /** Where the hook is registered; the event side notifies the same WaitHooks. */
  hooks: WaitHooks;
  /** The object waited on; needs apiVersion, kind and metadata.name (they form the hook key). */
  object: T;
  /** One action per object at a time; e.g. "Pause". */
  action: string;
  /** Satisfied when it returns true; a throw fails the wait with that error. */
  check: Check<T>;
  /** Re-reads the object; a rejection fails the wait with that error. */
  update: Update<T>;
  /**
   * Ends the wait early like a timeout (then the double-check decides). Captured at
   * construction, as upstream captures its context, so `update` closures can share it.
   */
  signal?: AbortSignal;
  /** Drives the timeout and the poll. Default: the wall clock. */
  clock?: Clock;
  /**
   * Milliseconds between refreshed checks while waiting. Default DEFAULT_WAIT_POLL_INTERVAL
   * (10 s). 0 or less turns the poll off: only a hook close, the timeout or the signal wake
   * the waiter.
   */
  pollInterval?: number;
}

/**
 * A wait for one object to reach a state: made by newWaitTask (lazy) or newAcquiredWaitTask
 * (pre-acquired); `using` releases a pre-acquired one that never waited.
 */
export interface WaitTask<T> extends Disposable {
  /** The action waited for, e.g. "Pause". */
  readonly action: string;
  /** The object the task was built for (the same reference). */
  readonly object: T;
  /** The hook key. */
  readonly key: string;
  /** The hook a pre-acquired task holds (also after it was given back); undefined for lazy tasks. */
  readonly hook: WaitEntry<T> | undefined;
  /**
   * Resolves once the check is satisfied. Rejects with the check's or update's error, with
   * WaitNotSatisfiedError when the time ran out (or the signal aborted) and the double-check
   * still failed, with WaitTaskConflictError when another action holds the object (lazy), or
   * WaitTaskUsedError on a second use of a pre-acquired task.
   */
  wait(timeoutMs: number): Promise<void>;
  /**
   * Pre-acquired tasks: gives the hook back when `wait` will not be called. Idempotent, and a
   * no-op once `wait` started (it releases on return). Lazy tasks: a no-op.
   */
  release(): void;
  /**
   * `using` support: the same as release(), so `using task = newAcquiredWaitTask(...)` gives the
   * hook back when the block ends if `wait` was never called, also when the block throws.
   */
  [Symbol.dispose](): void;
}

/** A lazy task: nothing is registered until `wait`. @throws TypeError for an object without apiVersion, kind or name. */
export function newWaitTask<T extends KubeObject>(opts: WaitTaskOptions<T>): WaitTask<T> {
  return new LazyWaitTask(opts);
}

/**
 * A pre-acquired task: takes the hook now. Use it as
 * `const task = newAcquiredWaitTask(...); try { mutate(); await task.wait(t) } finally { task.release() }`.
 * @throws WaitTaskConflictError when another action holds the object; TypeError as newWaitTask.
 */
export function newAcquiredWaitTask<T extends KubeObject>(opts: WaitTaskOptions<T>): WaitTask<T> {
  return new AcquiredWaitTask(opts);
}

abstract class BaseWaitTask<T extends KubeObject> implements WaitTask<T> {
  readonly action: string;
  readonly object: T;
  readonly key: string;
  protected readonly hooks: WaitHooks;
  protected readonly check: Check<T>;
  protected readonly update: Update<T>;
  protected readonly signal: AbortSignal | undefined;
  protected readonly clock: Clock;
  protected readonly pollInterval: number;
  protected readonly ref: { namespace: string; name: string };

  constructor(opts: WaitTaskOptions<T>) {
    const ref = waitHookRefOf(opts.object);
    if (!ref) throw new TypeError('a wait task needs an object with apiVersion, kind and metadata.name');
    this.key = waitHookKey(ref);
    this.ref = { namespace: ref.namespace, name: ref.name };
    this.action = opts.action;
    this.object = opts.object;
    this.hooks = opts.hooks;
    this.check = opts.check;
    this.update = opts.update;
    this.signal = opts.signal;
    this.clock = opts.clock ?? realClock;
    this.pollInterval = opts.pollInterval ?? DEFAULT_WAIT_POLL_INTERVAL;
  }

  abstract readonly hook: WaitEntry<T> | undefined;
  abstract wait(timeoutMs: number): Promise<void>;
  abstract release(): void;

  [Symbol.dispose](): void {
    this.release();
  }

  /** Steps 4–6: refreshed check, wait, double-check; the hook is already held. */
  protected async waitAcquired(entry: WaitEntry<T>, timeoutMs: number): Promise<void> {
    if (await this.refreshedCheck()) return;
    // Reached only by pre-acquired tasks: a lazy one fails before acquiring.
    if (!(timeoutMs > 0)) throw new WaitNotSatisfiedError(this.ref, this.action, false);
    let polled = false;
    let wake: (() => void) | undefined;
    const poke = () => wake?.();
    const stopListening = entry.onClose(poke);
    // Fires on the timeout and on the task's own signal alike: either ends the wait.
    const bounded = deadline(this.clock, timeoutMs, this.signal);
    bounded.signal.addEventListener('abort', poke, { once: true });
    const ended = () => entry.closed || bounded.signal.aborted;
    let poll: Timer | undefined;
    try {
      while (!ended()) {
        polled = false;
        if (this.pollInterval > 0) {
          poll = this.clock.setTimeout(() => {
            polled = true;
            poke();
          }, this.pollInterval);
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        poll?.cancel();
        if (ended()) break;
        // The next tick is scheduled after this check returns: a slow update never piles up.
        if (polled && (await this.refreshedCheck())) return;
      }
      if (await this.refreshedCheck()) return;
      throw new WaitNotSatisfiedError(this.ref, this.action, true);
    } finally {
      stopListening();
      bounded.end();
      poll?.cancel();
      bounded.signal.removeEventListener('abort', poke);
    }
  }

  private async refreshedCheck(): Promise<boolean> {
    return this.check(await this.update(this.object));
  }
}

class LazyWaitTask<T extends KubeObject> extends BaseWaitTask<T> {
  readonly hook = undefined;

  async wait(timeoutMs: number): Promise<void> {
    if (this.check(this.object)) return;
    if (!(timeoutMs > 0)) throw new WaitNotSatisfiedError(this.ref, this.action, false);
    const entry = this.hooks.acquire(this.key, this.action, this.check, this.signal);
    try {
      await this.waitAcquired(entry, timeoutMs);
    } finally {
      this.hooks.release(this.key, entry);
    }
  }

  release(): void {}
}

class AcquiredWaitTask<T extends KubeObject> extends BaseWaitTask<T> {
  private readonly entry: WaitEntry<T>;
  private state: 'ready' | 'started' | 'released' = 'ready';

  constructor(opts: WaitTaskOptions<T>) {
    super(opts);
    this.entry = this.hooks.acquire(this.key, this.action, this.check, this.signal);
  }

  get hook(): WaitEntry<T> {
    return this.entry;
  }

  wait(timeoutMs: number): Promise<void> {
    if (this.state !== 'ready') return Promise.reject(new WaitTaskUsedError());
    this.state = 'started';
    return this.waitAcquired(this.entry, timeoutMs).finally(() => this.hooks.release(this.key, this.entry));
  }

  release(): void {
    if (this.state !== 'ready') return;
    this.state = 'released';
    this.hooks.release(this.key, this.entry);
  }
}
