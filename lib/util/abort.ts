/**
 * Helpers that let a loop stop waiting the moment its AbortSignal fires, even when the promise
 * it waits on (a blocked list, a silent watch) does not listen to the signal itself, and a
 * Deadline that ends a call when its caller, its time or its owner says so.
 */
import type { Clock, Timer } from './clock.js';

/** Thrown by `raceAbort` when the signal wins. */
export class AbortedError extends Error {
  constructor() {
    super('operation aborted');
    this.name = 'AbortError';
  }
}

/**
 * Resolves like `promise`, or rejects as soon as `signal` aborts: with AbortedError, or with
 * what `aborted()` makes (e.g. an error that says what was being waited for).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, aborted: () => Error = () => new AbortedError()): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof AbortedError || (err instanceof Error && err.name === 'AbortError');
}

/** Why a Deadline's signal fired. */
export type DeadlineReason = 'caller' | 'timeout' | 'closed';

/**
 * One AbortSignal for a call that can end three ways: its caller gives up (the parent signal),
 * its time is up, or its owner shuts down (`abort('closed')`); `reason` says which. It links to
 * the parent by hand and `end()` unlinks it, because AbortSignal.any would leave a listener on
 * a long-lived parent (a reflector's signal, reused for every list) per call.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private why: DeadlineReason | undefined;
  private timer: Timer | undefined;
  private readonly onParentAbort = () => this.abort('caller');

  /**
   * @param ms time until the signal fires with reason 'timeout', on `clock`.
   * @param parent the caller's signal; already aborted means aborted at once.
   */
  constructor(
    clock: Clock,
    readonly ms: number,
    private readonly parent?: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    if (parent?.aborted) {
      this.abort('caller');
      return;
    }
    parent?.addEventListener('abort', this.onParentAbort, { once: true });
    this.timer = clock.setTimeout(() => this.abort('timeout'), ms);
  }

  /** Why the signal fired; undefined while it has not. */
  get reason(): DeadlineReason | undefined {
    return this.why;
  }

  /** Fires the signal now with `why`, unless it already fired. */
  abort(why: DeadlineReason): void {
    if (this.why) return;
    this.why = why;
    this.timer?.cancel();
    this.controller.abort();
  }

  /** Stops the clock only: the parent still aborts the signal (a watch's stream outlives its deadline). */
  disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Stops the clock and unlinks from the parent; nothing of the call stays scheduled or listening. */
  end(): void {
    this.disarm();
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
