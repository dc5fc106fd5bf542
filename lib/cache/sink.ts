/**
 * The narrow interface a Reflector writes to (client-go's ReflectorStore): the reflector does
 * not care whether it fills a single-object slot, an indexed store or a test double.
 */
export interface ReflectorSink<T> {
  /** The full state after a list, with the list's resourceVersion. The only way to "synced". */
  replace(items: T[], resourceVersion: string): void;
  /** An object the watch reported ADDED. */
  add(obj: T): void;
  /** An object the watch reported MODIFIED. */
  update(obj: T): void;
  /** An object the watch reported DELETED (its last state as the server sent it). */
  delete(obj: T): void;
}

/** Optional capability: sinks that want to see every resourceVersion, bookmarks included. */
export interface ResourceVersionSink {
  /** The resourceVersion the reflector is now at, after a list, an event or a bookmark. */
  updateResourceVersion(resourceVersion: string): void;
}

/** Whether the sink wants every resourceVersion (has `updateResourceVersion`). */
export function isResourceVersionSink(sink: object): sink is ResourceVersionSink {
  return typeof (sink as Partial<ResourceVersionSink>).updateResourceVersion === 'function';
}

/**
 * Optional capability: sinks that want to hear of every failed list or watch attempt (client-go's
 * WatchErrorHandler), e.g. to report an informer unhealthy for a while after one. Called before
 * the reflector backs off; the reflector keeps going whatever the sink does.
 */
export interface FailureSink {
  /** One failed list or watch attempt; `err` is what it failed with. Must not throw. */
  onFailure(err: unknown): void;
}

/** Whether the sink wants to hear of failed attempts (has `onFailure`). */
export function isFailureSink(sink: object): sink is FailureSink {
  return typeof (sink as Partial<FailureSink>).onFailure === 'function';
}
