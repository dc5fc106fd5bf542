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
  containerName: string;
  /** The container's init PID in the host PID namespace; 1 marks the host itself. */
  pid?: number;
  namespace: string;
  podName: string;
  /** Read once, at add: the ignore rules and the `kubescape.io/user-defined-profile` overlay. */
  podLabels?: Record<string, string>;
}

export interface ContainerEvent {
  type: 'add' | 'remove';
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
