/**
 * ObjectSource is the seam between refwatch and an API server: get, list and watch for one
 * resource type. The real one speaks HTTP (kubeSource); tests use an in-memory one. Everything
 * above this layer (reflectors, stores, managers) sees only this interface.
 */
import type { ObjectList } from './object.js';
import type { ResourceType } from './resource.js';

/** What a list asks for; a watch takes the same (WatchOptions). Every field is optional. */
export interface ListOptions {
  /**
   * e.g. "metadata.name=foo"; the watch store pins every reflector to one name this way. Build
   * it with `oneTermEqualSelector`, which escapes the value. Default: no field selection.
   */
  fieldSelector?: string;
  /** e.g. "app=web,tier!=db", in kubectl's syntax. Default: no label selection. */
  labelSelector?: string;
  /**
   * "" asks for a quorum read, "0" for whatever the server's cache holds, and any other value
   * for data at least that fresh (with resourceVersionMatch NotOlderThan, the default).
   */
  resourceVersion?: string;
  /**
   * How `resourceVersion` is matched: NotOlderThan (the default), or Exact for a list at exactly
   * that version, which fails with 410 Expired once etcd has compacted it. Servers refuse it
   * without a resourceVersion.
   */
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Page size; the server may ignore it (it does for resourceVersion "0"). */
  limit?: number;
  /** Continue token from the previous page; it expires with the data it reads (410 Expired). */
  continue?: string;
  /**
   * Ends the call: a list rejects with an AbortError (see `isAbortError`), a watch's iteration
   * ends (see `ObjectSource.watch`).
   */
  signal?: AbortSignal;
}

/** What a watch asks for: a list's options plus the watch's own. */
export interface WatchOptions extends ListOptions {
  /** Ask for BOOKMARK events, which move the resourceVersion on a quiet watch. */
  allowWatchBookmarks?: boolean;
  /**
   * The server ends the watch normally after this many seconds, so a reflector re-watches and
   * notices a server that stopped sending. Default: the server's own limit (kube-apiserver
   * picks 30 to 60 minutes at random).
   */
  timeoutSeconds?: number;
  /**
   * WatchList: send the current state as ADDED events before the live stream, ending it with a
   * BOOKMARK annotated `k8s.io/initial-events-end`. The server requires allowWatchBookmarks
   * and resourceVersionMatch NotOlderThan with it.
   */
  sendInitialEvents?: boolean;
}

/** What a get asks for. */
export interface GetOptions {
  /** "" (default) is a quorum read; "0" may be served from the apiserver's watch cache. */
  resourceVersion?: string;
  /** Ends the get: it rejects with an AbortError (see `isAbortError`). */
  signal?: AbortSignal;
}

/**
 * What a watch event says: an object ADDED, MODIFIED or DELETED; a BOOKMARK (only the
 * resourceVersion moved); or an ERROR (the watch failed: 410 Expired, usually, and the caller
 * must list again).
 */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch stream, as the server sends it. */
export interface WatchEvent<T = unknown> {
  /** What happened; decides what `object` is. */
  type: WatchEventType;
  /** The object; for ERROR a Status; for BOOKMARK an object carrying only a resourceVersion. */
  object: T | any;
}

/**
 * Get, list and watch of one resource type on one API server: everything refwatch needs from a
 * cluster. Failures reject with StatusError for API errors (test them with `isNotFound`,
 * `isGone`...), so an in-memory source must fail the same way for the layers above to react
 * as they would to a real server.
 */
export interface ObjectSource<T> {
  /** The resource type every call reads. */
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
  /**
   * The same watch with callbacks instead of an iterator, for callers that keep thousands open:
   * no promise per event and no suspended async function per watch. The request is sent at
   * once. Optional: a source without it is watched with `watch`.
   */
  watchEvents?(namespace: string, opts: WatchOptions, handler: WatchHandler<T>): WatchHandle;
}

/** Receives one watch's events; see ObjectSource.watchEvents. */
export interface WatchHandler<T> {
  /** Each event, in order, as it arrives. An exception ends the watch, with `onEnd(exception)`. */
  onEvent(event: WatchEvent<T>): void;
  /**
   * Called exactly once, when the watch ends: with no argument when the server closed it, the
   * stream broke, it passed its deadline, its signal fired or `stop()` was called (then
   * synchronously from `stop()`); with the cause when it could not be established (StatusError,
   * TransportError, or an AbortError when the signal fired before the server answered), as
   * `watch`'s iteration rejects.
   */
  onEnd(err?: unknown): void;
}

/** A watch started with callbacks. */
export interface WatchHandle {
  /** Abandons the watch: the request is cancelled, no more events come, `onEnd()` is called if it was not yet. */
  stop(): void;
}
