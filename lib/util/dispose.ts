/**
 * `await using` for refwatch's resources. Whatever owns a reflector, a socket, a timer or a loop
 * ends with `close()` (or, for a loop, `stop()`); its `[Symbol.asyncDispose]` is that same call,
 * so `await using cache = new ContainerProfileCache(...)` closes the cache when the block ends,
 * also when the block throws. These interfaces name that contract once, for every layer.
 *
 * Node defines `Symbol.asyncDispose` and `Symbol.dispose` since 20.4 (and 18.18); refwatch's
 * engines start at 20.19, so no polyfill is needed or installed. For TypeScript, @types/node
 * declares both symbols and the `Disposable` and `AsyncDisposable` interfaces, which is all
 * `await using` needs with a target below ESNext (the compiler's helper then runs the disposal).
 * refwatch's `lib` stays ES2023 without `esnext.disposable` on purpose: that library also
 * declares `AsyncDisposableStack` and `SuppressedError`, which Node 20 does not have, so code
 * using them would type-check and fail at run time.
 */

/**
 * A resource that ends with `close()`, and with `await using`: `[Symbol.asyncDispose]()` is
 * `close()`. Implementations keep close() idempotent, so an explicit close() inside the block
 * followed by the disposal at its end is harmless.
 */
export interface AsyncCloseable extends AsyncDisposable {
  /** Stops everything the resource started and resolves once it has stopped. Idempotent. */
  close(): Promise<void>;
}

/**
 * A loop that ends with `stop()`, and with `await using`: `[Symbol.asyncDispose]()` is `stop()`.
 * Implementations keep stop() idempotent.
 */
export interface AsyncStoppable extends AsyncDisposable {
  /** Ends the loop, waiting for work in flight. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `resource` with `[Symbol.asyncDispose]` calling its `close()`, for resources built as object
 * literals rather than classes (a class declares the method itself). Returns the same object.
 */
export function closeable<T extends { close(): Promise<void> }>(resource: T): T & AsyncCloseable {
  return Object.assign(resource, { [Symbol.asyncDispose]: () => resource.close() });
}
