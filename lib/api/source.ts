/**
 * ObjectSource is the seam between refwatch and an API server: get, list and watch for one
 * resource type. The real one speaks HTTP (kubeSource); tests use an in-memory one. Everything
 * above this layer (reflectors, stores, managers) sees only this interface.
 */
import type { ObjectList } from './object.js';
import type { ResourceType } from './resource.js';

export interface ListOptions {
  /** e.g. "metadata.name=foo"; the watch store pins every reflector to one name this way. */
  fieldSelector?: string;
  labelSelector?: string;
  /**
   * "" asks for a quorum read, "0" for whatever the server's cache holds, and any other value
   * for data at least that fresh (with resourceVersionMatch NotOlderThan, the default).
   */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Page size; the server may ignore it (it does for resourceVersion "0"). */
  limit?: number;
  /** Continue token from the previous page. */
  continue?: string;
  signal?: AbortSignal;
}

export interface WatchOptions extends ListOptions {
  /** Ask for BOOKMARK events, which move the resourceVersion on a quiet watch. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this many seconds. */
  timeoutSeconds?: number;
  /** WatchList: send the current state as ADDED events before the live stream. */
  sendInitialEvents?: boolean;
}

export interface GetOptions {
  /** "" (default) is a quorum read; "0" may be served from the apiserver's watch cache. */
  resourceVersion?: string;
  signal?: AbortSignal;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = unknown> {
  type: WatchEventType;
  /** The object; for ERROR a Status; for BOOKMARK an object carrying only a resourceVersion. */
  object: T | any;
}

export interface ObjectSource<T> {
  readonly resource: ResourceType;
  /**
   * False when this source cannot serve WatchList semantics at all (a watch with
   * sendInitialEvents streaming the current state, then a BOOKMARK annotated
   * `k8s.io/initial-events-end`), e.g. an in-memory fake: reflectors then list and watch without
   * trying, as client-go does for clients that report `IsWatchListSemanticsUnSupported`.
   * Undefined or true: reflectors try WatchList and remember the server's verdict per source.
   */
  readonly supportsWatchList?: boolean;
  /** One object. Rejects with StatusError (404 NotFound when absent). */
  get(namespace: string, name: string, opts?: GetOptions): Promise<T>;
  /** One page of objects; namespace "" lists across namespaces or a cluster-scoped resource. */
  list(namespace: string, opts?: ListOptions): Promise<ObjectList<T>>;
  /**
   * A watch stream. Iteration ends when the server closes the stream (normally, e.g. at
   * timeoutSeconds) or when `opts.signal` aborts; a failure to establish it, or a broken
   * connection, rejects the iteration with the cause (StatusError for API failures).
   */
  watch(namespace: string, opts?: WatchOptions): AsyncIterable<WatchEvent<T>>;
}
