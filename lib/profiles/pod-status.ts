/**
 * Whether a cached container is gone, judged from its pod's statuses: the reconciler's eviction
 * rule for containers whose remove event was missed. Only a Terminated state (or a container
 * absent from published statuses) counts; Waiting never does, because init and freshly started
 * containers pass through it.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/** The entry fields the rule matches on when the status has no container ID yet. */
export interface ContainerIdentity {
  /** The container's name in its pod spec. */
  containerName: string;
  /** "" when the pod was not known at add time; such an entry never matches by name. */
  podUID: string;
}

/** `containerd://abc` → `abc`; "" when there is no `//` (upstream's TrimRuntimePrefix). */
export function trimRuntimePrefix(id: string): string {
  const at = id.indexOf('//');
  return at < 0 ? '' : id.slice(at + 2);
}

function statusesOf(pod: V1Pod): V1ContainerStatus[] {
  const s = pod.status ?? {};
  return [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? []), ...(s.ephemeralContainerStatuses ?? [])];
}

/**
 * Finds the container's status: by container ID, or, for a status whose ID the kubelet has not
 * published yet (a pre-running init container), by name within the same pod UID. `undefined`
 * when no status matches.
 */
function findStatus(pod: V1Pod, entry: ContainerIdentity, containerID: string): V1ContainerStatus | undefined {
  for (const s of statusesOf(pod)) {
    if (!s.containerID) {
      if (s.name === entry.containerName && (pod.metadata?.uid ?? '') === entry.podUID) return s;
      continue;
    }
    if (trimRuntimePrefix(s.containerID) === containerID) return s;
  }
  return undefined;
}

/**
 * True when the container's status is Terminated, or when the pod publishes statuses and none is
 * this container's (it was reaped). A pod with no statuses at all is kubelet lag, not an exit.
 */
export function isContainerTerminated(pod: V1Pod, entry: ContainerIdentity, containerID: string): boolean {
  const status = findStatus(pod, entry, containerID);
  if (status) return !!status.state?.terminated;
  return statusesOf(pod).length > 0;
}

/** True when the container's status is Running; false when it has none. */
export function isContainerRunning(pod: V1Pod, entry: ContainerIdentity, containerID: string): boolean {
  return !!findStatus(pod, entry, containerID)?.state?.running;
}
