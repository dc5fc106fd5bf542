/**
 * SingleFlight (golang.org/x/sync/singleflight): concurrent calls with the same key share one
 * execution and its result. The read-through fallback uses it so that a burst of waiters
 * missing the same object in the cache makes one live GET, not one each.
 */
import { raceAbort } from '../util/abort.js';

/**
 * Shares one execution of a keyed call among the callers that ask for it while it runs, as Go's
 * singleflight.Group.Do; nothing is cached once it settles.
 */
export class SingleFlight {
  private readonly calls = new Map<string, Promise<unknown>>();

  /**
   * Runs `fn` unless a call with `key` is in flight, in which case its promise is returned.
   * The key is forgotten once the call settles, so the next call runs again (no caching).
   * A synchronous throw from `fn` rejects every caller like a rejection does. `signal` ends this
   * caller's wait only (it rejects with an AbortError at once, or before `fn` runs when already
   * aborted): the shared call goes on for the others, as Go callers leave DoChan on ctx.Done().
   */
  do<R>(key: string, fn: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    let call = this.calls.get(key) as Promise<R> | undefined;
    if (!call && !signal?.aborted) {
      const started: Promise<R> = (async () => fn())().finally(() => {
        if (this.calls.get(key) === started) this.calls.delete(key);
      });
      this.calls.set(key, started);
      call = started;
    }
    if (!signal) return call!;
    return raceAbort(call ?? new Promise<R>(() => {}), signal);
  }

  /** Calls in flight; 0 when idle. */
  get inFlight(): number {
    return this.calls.size;
  }
}
