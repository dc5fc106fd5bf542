/**
 * The manager layer's own failures, worded exactly as the kubelet words them, so messages in
 * logs and events read the same as upstream's.
 */

/** `object "ns"/"name" not registered`: no registered pod references the object. */
export class NotRegisteredError extends Error {
  constructor(
    readonly namespace: string,
    readonly objectName: string,
  ) {
    super(`object ${JSON.stringify(namespace)}/${JSON.stringify(objectName)} not registered`);
    this.name = 'NotRegisteredError';
  }
}

/**
 * `failed to sync secret cache: timed out waiting for the condition`. When the reflector was
 * failing meanwhile (403 Forbidden, connection refused...), that failure is the `cause`.
 */
export class SyncTimeoutError extends Error {
  constructor(
    readonly resource: string,
    cause?: unknown,
  ) {
    super(`failed to sync ${resource} cache: timed out waiting for the condition`, cause === undefined ? undefined : { cause });
    this.name = 'SyncTimeoutError';
  }
}

/** The store was closed; nothing is watched any more, so nothing can be answered fresh. */
export class StoreClosedError extends Error {
  constructor(readonly resource: string) {
    super(`failed to sync ${resource} cache: the store is closed`);
    this.name = 'StoreClosedError';
  }
}

/** `unexpected object type: ...`: a manager got something that is not its kind of object. */
export class UnexpectedObjectError extends Error {
  constructor(description: string) {
    super(`unexpected object type: ${description}`);
    this.name = 'UnexpectedObjectError';
  }
}

export function isNotRegistered(err: unknown): err is NotRegisteredError {
  return err instanceof NotRegisteredError;
}
