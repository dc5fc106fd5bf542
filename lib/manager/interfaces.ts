/**
 * The two contracts of the kubelet's object manager (pkg/kubelet/util/manager/manager.go).
 * A Manager turns "this pod exists" into references on the objects it uses; a Store holds
 * those objects, fresh enough, for as long as anything references them. Consumers (the
 * secret and configmap managers, the profile cache) only ever see these two interfaces.
 */
import type { V1Pod } from '@kubernetes/client-node';

export interface Manager<T> {
  /**
   * The object, if some registered pod references it. Rejects with NotRegisteredError when no
   * registered pod does, with a 404 StatusError when it does not exist, with
   * SyncTimeoutError when the watch store could not sync it in time, and with InvalidNameError
   * (without any request) when the namespace or name cannot be one.
   */
  getObject(namespace: string, name: string): Promise<T>;
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
  get(namespace: string, name: string): Promise<T>;
  /** Stops whatever the store runs in the background. Idempotent. */
  close?(): Promise<void>;
}
