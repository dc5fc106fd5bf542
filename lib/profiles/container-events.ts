/**
 * What the profile cache is told about containers. node-agent feeds it inspektor-gadget's
 * container-collection events and looks the rest up in its Kubernetes object cache; these are the
 * few fields of both that the cache reads, so any container runtime watcher can drive it.
 */
import type { InstanceID } from './names.js';

/** One container as the runtime watcher reports it. */
export interface ContainerInfo {
  /** The runtime's container ID, without the `containerd://` prefix; the cache's key. */
  containerID: string;
  /** The container's name in its pod spec; matches the overlay sections and the pod's container statuses. */
  containerName: string;
  /** The container's init PID in the host PID namespace; 1 marks the host itself. */
  pid?: number;
  /**
   * The pod's namespace; every profile object of the container is read from it. "" for containers not
   * run by Kubernetes (see IgnoreRules).
   */
  namespace: string;
  /** The pod's name, for the pod lookup and the ignore rules. */
  podName: string;
  /** Read once, at add: the ignore rules and the `kubescape.io/user-defined-profile` overlay. */
  podLabels?: Record<string, string>;
}

/**
 * What the runtime watcher reports: a container started (`add`) or ended (`remove`); fed to
 * `ContainerProfileCache.containerCallback`.
 */
export interface ContainerEvent {
  /** `add` registers the container and builds its entry in the background; `remove` forgets it at once. */
  type: 'add' | 'remove';
  /** The container the event is about; `containerID` is the key. */
  container: ContainerInfo;
}

/**
 * What node-agent's container watcher learns about a running container (its
 * `WatchedContainerData`), as far as the profile cache needs it.
 */
export interface SharedContainerData {
  /** Source of the profile object names (see names.ts). */
  instanceID: InstanceID;
  /** The workload ID (`wlid://cluster-<c>/namespace-<ns>/<kind>-<name>`). */
  wlid: string;
  /**
   * The container was already running when the agent started. Only then is a profile marked
   * `partial` accepted: for a container seen starting, a partial profile was learned from an
   * earlier incarnation.
   */
  preRunningContainer?: boolean;
}
