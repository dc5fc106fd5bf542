/**
 * A deadline on the injected clock, as an AbortSignal: Go's context.WithTimeout for the
 * watchdogs' bounded passes. AbortSignal.timeout would run on the wall clock, which FakeClock
 * cannot drive, so the timer goes through Clock like every other wait in refwatch.
 */
import type { Clock } from '../util/clock.js';

/** The reason a deadline's signal carries when it fires. */
export class DeadlineExceededError extends Error {
  /**
   * @param what names the bounded work.
   * @param ms its deadline.
   */
  constructor(what: string, ms: number) {
    super(`${what} exceeded its ${ms} ms deadline`);
    this.name = 'DeadlineExceededError';
  }
}

/** A deadline as an AbortSignal, with the timer's cancel. */
export interface Deadline {
  /** Aborts when the deadline passes (reason DeadlineExceededError) or when the parent aborts. */
  readonly signal: AbortSignal;
  /** Cancels the timer; call it when the work is done so no timer is left behind. */
  done(): void;
}

/**
 * A signal that aborts after `ms` on `clock` (with a DeadlineExceededError naming `what`) or when
 * `parent` aborts. Call done() when the work ends.
 */
export function deadline(clock: Clock, ms: number, what: string, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(new DeadlineExceededError(what, ms)), ms);
  const signal = parent ? AbortSignal.any([parent, controller.signal]) : controller.signal;
  return { signal, done: () => timer.cancel() };
}
