/**
 * Clock is the only way refwatch code reads the time or waits. TTLs, idle recycling, reflector
 * backoff, watch timeouts and the sync wait all go through one injected Clock, so a test can run
 * them on `FakeClock` deterministically instead of sleeping.
 */

/**
 * The longest delay a timer can take: 2^31 - 1 ms, about 24.8 days. Node's setTimeout turns
 * anything longer (or NaN) into 1 ms with a TimeoutOverflowWarning, so one huge delay from a
 * server (a Retry-After of weeks) would become a retry loop that spins. Every Clock clamps to
 * this range itself, so no caller can overflow it by accident.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * `ms` as a timer accepts it: negative and NaN become 0, anything above MAX_TIMER_DELAY
 * (Infinity included) becomes MAX_TIMER_DELAY.
 */
export function clampDelay(ms: number): number {
  if (ms > MAX_TIMER_DELAY) return MAX_TIMER_DELAY;
  return ms > 0 ? ms : 0;
}

/** A scheduled callback; `cancel()` is idempotent and safe after the timer fired. */
export interface Timer {
  /** Stops the callback from running; does nothing once it ran or was cancelled. */
  cancel(): void;
}

/**
 * Time as refwatch reads it: now, one-shot timers and sleeps. Inject `FakeClock` (lib/testing)
 * in tests and move it by hand; the default everywhere is `realClock`.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  now(): number;
  /**
   * Runs `fn` once after `ms` milliseconds unless cancelled first; `ms` is clamped to
   * [0, MAX_TIMER_DELAY] (see `clampDelay`). `background: true` marks
   * housekeeping (connection pings, idle-connection closing) that should not by itself keep
   * the process alive; the wall clock unrefs such timers.
   */
  setTimeout(fn: () => void, ms: number, opts?: { background?: boolean }): Timer;
  /**
   * Resolves `true` after `ms` milliseconds, or `false` as soon as `signal` aborts. It never
   * rejects, so loops can `if (!(await clock.sleep(d, signal))) return;`. An aborted sleep cancels
   * its timer, so nothing is left scheduled.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

/** Sleeps on `clock` and resolves early when `signal` aborts; shared by every Clock. */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wall clock: `Date.now()` and the global timers. */
export class RealClock implements Clock {
  /** `Date.now()`: wall-clock ms, so it can jump when the system time is set. */
  now(): number {
    return Date.now();
  }

  /** The global setTimeout, with `ms` clamped; `background` timers are unref'd. See `Clock.setTimeout`. */
  setTimeout(fn: () => void, ms: number, opts?: { background?: boolean }): Timer {
    const handle = setTimeout(fn, clampDelay(ms));
    if (opts?.background) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }

  /** See `Clock.sleep`: true after `ms`, false as soon as `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return sleepOn(this, ms, signal);
  }
}

/** Shared default; stateless, so one instance serves every component. */
export const realClock: Clock = new RealClock();
