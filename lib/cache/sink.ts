/**
 * The narrow interface a Reflector writes to (client-go's ReflectorStore): the reflector does
 * not care whether it fills a single-object slot, an indexed store or a test double.
 */
export interface ReflectorSink<T> {
  /** The full state after a list, with the list's resourceVersion. The only way to "synced". */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

/** Optional capability: sinks that want to see every resourceVersion, bookmarks included. */
export interface ResourceVersionSink {
  updateResourceVersion(resourceVersion: string): void;
}

export function isResourceVersionSink(sink: object): sink is ResourceVersionSink {
  return typeof (sink as Partial<ResourceVersionSink>).updateResourceVersion === 'function';
}
