/**
 * The one abort and deadline toolkit: the AbortError every refwatch call rejects with when its
 * signal ends it, the predicate that recognises it (and the platform's own AbortError), a race
 * that lets a loop stop waiting the moment its signal fires even when the promise it waits on
 * (a blocked list, a silent watch) does not listen to the signal itself, and `deadline()`: one
 * AbortSignal for a call that ends when its caller, its time or its owner says so.
 * Every timer goes through the injected Clock: AbortSignal.timeout would run on the wall clock,
 * which FakeClock cannot drive.
 */
import type { Clock, Timer } from './clock.js';

/** What a signal ended. `during`, when known, names what the call was still waiting for. */
export class AbortError extends Error {
  /** What the call was waiting for when its signal fired ("connecting to https://h:6443 (TLS handshake)"). */
  readonly during: string | undefined;

  /**
   * @param message for people; default "operation aborted".
   * @param opts.during what the call was still waiting for, if known.
   */
  constructor(message = 'operation aborted', opts: { during?: string } = {}) {
    super(message);
    this.name = 'AbortError';
    this.during = opts.during;
  }
}

/**
 * True for refwatch's AbortError and for any other error named AbortError (the platform's
 * DOMException from fetch, streams or `AbortSignal.abort()`); compare with this, never by name.
 * The name is read off any object, not only an `instanceof Error`: a DOMException made in
 * another realm (a vm context, a test runner's sandbox) is not one of this realm's Errors.
 */
export function isAbortError(err: unknown): boolean {
  return err instanceof AbortError || (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError');
}

/**
 * Resolves like `promise`, or rejects as soon as `signal` aborts: with an AbortError, or with
 * what `aborted()` makes (e.g. an error that says what was being waited for). The promise's
 * own later rejection is then swallowed, so it never surfaces as unhandled.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, aborted: () => Error = () => new AbortError()): Promise<T> {
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

/** The reason a deadline's signal carries when its time is up: Go's context.DeadlineExceeded. */
export class DeadlineExceededError extends Error {
  /**
   * @param what names the bounded work ("image GC").
   * @param ms its deadline.
   */
  constructor(what: string, ms: number) {
    super(`${what} exceeded its ${ms} ms deadline`);
    this.name = 'DeadlineExceededError';
  }
}

/** Why a Deadline's signal fired. */
export type DeadlineReason = 'caller' | 'timeout' | 'closed';

/**
 * One AbortSignal for a call that can end three ways: its caller gives up (the parent signal;
 * the signal's reason is then the parent's), its time is up (reason: a DeadlineExceededError),
 * or its owner shuts down (`abort('closed')`, reason: an AbortError); `reason` says which. It
 * links to the parent by hand and `end()` unlinks it, because AbortSignal.any would leave a
 * listener on a long-lived parent (a reflector's signal, reused for every list) per call.
 */
export class Deadline {
  /** Fires when the first of the three ends comes. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private why: DeadlineReason | undefined;
  private timer: Timer | undefined;
  private readonly onParentAbort = () => this.abort('caller');

  /**
   * @param clock runs the timeout, so FakeClock can drive it.
   * @param ms time until the signal fires with reason 'timeout', on `clock`.
   * @param parent the caller's signal; already aborted means aborted at once.
   * @param what names the bounded work in the DeadlineExceededError; default "the operation".
   */
  constructor(
    clock: Clock,
    /** The time the call was given, in ms. */
    readonly ms: number,
    private readonly parent?: AbortSignal,
    private readonly what = 'the operation',
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
    this.controller.abort(this.reasonFor(why));
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

  private reasonFor(why: DeadlineReason): unknown {
    switch (why) {
      case 'caller':
        return this.parent?.reason;
      case 'timeout':
        return new DeadlineExceededError(this.what, this.ms);
      case 'closed':
        return new AbortError(`${this.what} was ended: its owner closed`);
    }
  }
}

/**
 * A Deadline of `ms` on `clock`, linked to `signal`: Go's context.WithTimeout. Call `end()`
 * when the work is done, so no timer or listener is left behind.
 * @param what names the work in the DeadlineExceededError the signal carries on timeout.
 */
export function deadline(clock: Clock, ms: number, signal?: AbortSignal, what?: string): Deadline {
  return new Deadline(clock, ms, signal, what);
}
