/**
 * Small value rules the node components share: how an unset duration falls back to its
 * default, and how a thrown value becomes an Error for a result's `failed` map.
 */
import { isAbortError } from '../util/abort.js';
import { errorMessage } from '../util/logger.js';

/**
 * `value` when it is a positive finite number, else `fallback`. Upstream treats a zero
 * duration as "unset"; so does refwatch, and a negative or NaN one too, instead of spinning a
 * loop or panicking on a zero ticker.
 */
export function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 && Number.isFinite(value) ? value : fallback;
}

/** A thrown value as an Error (a string or a plain object is wrapped with its message). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/**
 * The error a call that failed under `signal` stands for: the signal's reason (a
 * DeadlineExceededError, say) when the failure was the abort itself, else the failure.
 */
export function failureUnder(signal: AbortSignal, err: unknown): Error {
  if (signal.aborted && isAbortError(err)) return toError(signal.reason);
  return toError(err);
}
