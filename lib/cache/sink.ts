/**
 * The narrow interface a Reflector writes to (client-go's ReflectorStore): the reflector does
 * not care whether it fills a single-object slot, an indexed store or a test double.
 */
export interface ReflectorSink<T> {
  /** The full state after a list, with the list's resourceVersion. The only way to "synced". */
  replace(items: T[], resourceVersion: string): void;
  /** An ADDED event. */
  add(obj: T): void;
  /** A MODIFIED event. */
  update(obj: T): void;
  /** A DELETED event (the object's last state). */
  delete(obj: T): void;
}

/** Optional capability: sinks that want to see every resourceVersion, bookmarks included. */
export interface ResourceVersionSink {
  /** Every resourceVersion the reflector moves to, from events and bookmarks. */
  updateResourceVersion(resourceVersion: string): void;
}

/** Whether `sink` implements ResourceVersionSink. */
export function isResourceVersionSink(sink: object): sink is ResourceVersionSink {
  return typeof (sink as Partial<ResourceVersionSink>).updateResourceVersion === 'function';
}

/**
 * Optional capability: sinks that want to hear of every failed list or watch attempt (client-go's
 * WatchErrorHandler), e.g. to report an informer unhealthy for a while after one. Called before
 * the reflector backs off; the reflector keeps going whatever the sink does.
 */
export interface FailureSink {
  /** A list or watch attempt failed with `err`; the reflector backs off next. */
  onFailure(err: unknown): void;
}

/** Whether `sink` implements FailureSink. */
export function isFailureSink(sink: object): sink is FailureSink {
  return typeof (sink as Partial<FailureSink>).onFailure === 'function';
}
