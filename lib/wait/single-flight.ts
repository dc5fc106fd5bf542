/**
 * SingleFlight (golang.org/x/sync/singleflight): concurrent calls with the same key share one
 * execution and its result. The read-through fallback uses it so that a burst of waiters
 * missing the same object in the cache makes one live GET, not one each.
 */
export class SingleFlight {
  private readonly calls = new Map<string, Promise<unknown>>();

  /**
   * Runs `fn` unless a call with `key` is in flight, in which case its promise is returned.
   * The key is forgotten once the call settles, so the next call runs again (no caching).
   * A synchronous throw from `fn` rejects every caller like a rejection does.
   */
  do<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const current = this.calls.get(key);
    if (current) return current as Promise<R>;
    const call = (async () => fn())().finally(() => {
      if (this.calls.get(key) === call) this.calls.delete(key);
    });
    this.calls.set(key, call);
    return call;
  }

  /** Calls in flight; 0 when idle. */
  get inFlight(): number {
    return this.calls.size;
  }
}
