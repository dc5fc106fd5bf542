/**
 * The manager layer's own failures, worded exactly as the kubelet words them, so messages in
 * logs and events read the same as upstream's.
 */

/** `object "ns"/"name" not registered`: no registered pod references the object. */
export class NotRegisteredError extends Error {
  /**
   * @param namespace the namespace that was asked for.
   * @param objectName the name that was asked for.
   */
  constructor(
    /** The namespace that was asked for. */
    readonly namespace: string,
    /** The name that was asked for (`name` is the error's own). */
    readonly objectName: string,
  ) {
    super(`object ${JSON.stringify(namespace)}/${JSON.stringify(objectName)} not registered`);
    this.name = 'NotRegisteredError';
  }
}

/**
 * `failed to sync secret cache: timed out waiting for the condition`. When the reflector was
 * failing meanwhile (403 Forbidden, connection refused...), that failure is the `cause`.
 *
 * It carries no stack trace: it is made in the sync deadline's timer callback, so a stack would
 * name only the timer, never the caller; and a kubelet-shaped reader retries a timed-out get at
 * once, so at 100,000 unsynced objects this error is made tens of thousands of times a second,
 * where capturing stacks was a fifth of the process's CPU.
 */
export class SyncTimeoutError extends Error {
  /**
   * @param resource the resource's name in the message ("secret").
   * @param cause the reflector's last failure, if it was failing.
   */
  constructor(
    /** The resource's name in the message, e.g. "secret". */
    readonly resource: string,
    cause?: unknown,
  ) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`failed to sync ${resource} cache: timed out waiting for the condition`, cause === undefined ? undefined : { cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'SyncTimeoutError';
  }
}

/** The store was closed; nothing is watched any more, so nothing can be answered fresh. */
export class StoreClosedError extends Error {
  /** @param resource the resource's name in the message ("secret"). */
  constructor(
    /** The resource's name in the message, e.g. "secret". */
    readonly resource: string,
  ) {
    super(`failed to sync ${resource} cache: the store is closed`);
    this.name = 'StoreClosedError';
  }
}

/** `unexpected object type: ...`: a manager got something that is not its kind of object. */
export class UnexpectedObjectError extends Error {
  /** @param description what arrived instead, e.g. "kind ConfigMap"; never the object's contents. */
  constructor(description: string) {
    super(`unexpected object type: ${description}`);
    this.name = 'UnexpectedObjectError';
  }
}

/** Whether `err` is a NotRegisteredError: no registered pod references the object asked for. */
export function isNotRegistered(err: unknown): err is NotRegisteredError {
  return err instanceof NotRegisteredError;
}
