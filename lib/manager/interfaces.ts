/**
 * The two contracts of the kubelet's object manager (pkg/kubelet/util/manager/manager.go).
 * A Manager turns "this pod exists" into references on the objects it uses; a Store holds
 * those objects, fresh enough, for as long as anything references them. Consumers (the
 * secret and configmap managers, the profile cache) only ever see these interfaces, and the
 * optional capability of a store that can say when an object changed (ObservableStore).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';

/** Options of a read that may wait (for a first list, a fetch, a sync). */
export interface GetObjectOptions {
  /**
   * Stops waiting when it aborts: the read rejects with refwatch's AbortError (lib/util/abort.ts;
   * `isAbortError(err)` is true). Nothing else changes: the object stays registered, its
   * watch or fetch goes on for the other readers, and the next read is served as usual.
   */
  signal?: AbortSignal;
}

/**
 * A manager: pods in, the objects they reference out. What the secret and configmap managers,
 * and createObjectManager's result, implement.
 */
export interface Manager<T> {
  /**
   * The object, if some registered pod references it. Rejects with NotRegisteredError when no
   * registered pod does, with a 404 StatusError when it does not exist, with
   * SyncTimeoutError when the watch store could not sync it in time, with InvalidNameError
   * (without any request) when the namespace or name cannot be one, and with an AbortError
   * when `opts.signal` aborts first.
   */
  getObject(namespace: string, name: string, opts?: GetObjectOptions): Promise<T>;
  /**
   * Registers every object the pod references. It must be cheap and never block on the
   * network: the kubelet calls it on every pod sync. It is idempotent, and a second call for
   * the same pod (namespace, name and UID) is an update: references are diffed against the
   * previous call, new ones added first, dropped ones deleted after. It never throws; a
   * malformed pod (unreadable metadata, an invalid namespace) is reported to the logger and
   * ignored, and a referenced name that cannot be a name is reported and left out while the
   * pod's other references are registered.
   */
  registerPod(pod: V1Pod): void;
  /**
   * Releases the references of the pod registered under the same namespace, name and UID,
   * using the references recorded at registration (not the spec passed here). Idempotent;
   * never throws.
   */
  unregisterPod(pod: V1Pod): void;
  /** Stops everything the manager started (reflectors, timers). Idempotent. */
  close(): Promise<void>;
}

/** What a store holds, for dashboards and leak checks; every refwatch store reports at least this. */
export interface StoreStats {
  /** Referenced objects. */
  objects: number;
  /** References to them, summed over referencing UIDs. */
  references: number;
}

/** Where a manager keeps the objects its pods reference, refcounted by pod UID. */
export interface Store<T> {
  /**
   * Counts one more reference from `referencedFrom` (a pod UID). Repeated additions are
   * allowed and counted. Never blocks: the first `get` waits for the data instead.
   */
  addReference(namespace: string, name: string, referencedFrom: string): void;
  /**
   * Undoes one `addReference`. The object is forgotten only when every addition has been
   * matched by a deletion. Deleting what was never added does nothing.
   */
  deleteReference(namespace: string, name: string, referencedFrom: string): void;
  /** The object; rejects as Manager.getObject describes. */
  get(namespace: string, name: string, opts?: GetObjectOptions): Promise<T>;
  /** Stops whatever the store runs in the background. Idempotent. */
  close?(): Promise<void>;
}

/**
 * A store that can also say when an object changed: a stream of the object's current value and
 * every change (WatchObjectStore is one). The profile cache subscribes per dependency when all
 * its stores are observable, and falls back to periodic refreshes when any is not.
 */
export interface ObservableStore<T> extends Store<T> {
  /**
   * The object's current value, then every change (undefined while it does not exist), until
   * unsubscribed.
   */
  changes(namespace: string, name: string): Observable<T | undefined>;
}

/** Whether the store has `changes()`, the capability that makes a consumer event-driven. */
export function isObservableStore<T>(store: Store<T>): store is ObservableStore<T> {
  return typeof (store as Partial<ObservableStore<T>>).changes === 'function';
}
