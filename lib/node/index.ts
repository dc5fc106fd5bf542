/**
 * The node toolkit's public names, listed by hand (miren runtime's controllers/sandbox): the
 * desired state (pods of this node) against the runtime's actual state (containerd), and the
 * watchdogs that make one match the other: the orphan reaper, image and blob GC, and the port
 * monitor. Their periodic loop, PeriodicReconciler, is in lib/util (the profile cache's
 * reconciler runs on it too), as is DeadlineExceededError, the reason a bounded pass ends with.
 */
export {
  RuntimeNotFoundError,
  isRuntimeNotFound,
  type ContainerRuntime,
  type KillSignal,
  type RuntimeCallOptions,
  type RuntimeContainer,
  type RuntimeImage,
  type TaskState,
} from './runtime.js';
export { ownerIsLive, type DesiredState, type Owner, type OwnerStatus } from './desired-state.js';
export { MANAGED_REGISTRY_PREFIX, manifestDigests, parseArtifactId, type Artifact, type ArtifactCatalog, type ArtifactStatus, type ArtifactVersion } from './artifact-catalog.js';

export {
  ContainerWatchdog,
  DEFAULT_CHECK_INTERVAL,
  DEFAULT_GRACE_WINDOW,
  DEFAULT_KILL_GRACE,
  DEFAULT_OWNER_LABEL,
  DEFAULT_PASS_TIMEOUT,
  IP_LABEL_PREFIX,
  ipsFromLabels,
  type CleanupResult,
  type ContainerWatchdogOptions,
} from './container-watchdog.js';
export {
  DEFAULT_DISK_PRESSURE_THRESHOLD,
  DEFAULT_IMAGE_GC_TIMEOUT,
  DEFAULT_ORPHAN_GRACE_PERIOD,
  DEFAULT_PRESSURE_CHECK_INTERVAL,
  DEFAULT_SCHEDULED_GC_INTERVAL,
  ImageWatchdog,
  type CollectionReport,
  type FilesystemStats,
  type GCTrigger,
  type ImageGCResult,
  type ImageWatchdogOptions,
} from './image-watchdog.js';
export { DEFAULT_BLOB_MIN_AGE, runBlobGC, type BlobGCOptions, type BlobGCResult } from './blob-gc.js';
export {
  DEFAULT_INITIAL_DELAY,
  DEFAULT_POLL_INTERVAL,
  PortMonitor,
  type BoundPort,
  type MonitorTarget,
  type PortMonitorOptions,
  type PortStatus,
  type PortTracker,
} from './port-monitor.js';
export {
  isPortListening,
  listeningPorts,
  parseHexAddress,
  parseListenSockets,
  type ListenSocket,
  type ListeningPorts,
  type ProcOptions,
  type ProcReadOptions,
} from './proc-net-tcp.js';

export { NodePodReflector, NodePodsClosedError, type NodePodLister, type NodePodReflectorOptions } from './node-pods.js';
export {
  PodDesiredState,
  normalizeImageName,
  podContainerIds,
  podImages,
  podOwner,
  podOwnerId,
  podOwnerStatus,
  podUpdatedAt,
  type PodDesiredStateOptions,
} from './pod-desired-state.js';

export { ContainerdRuntime, DEFAULT_CALL_TIMEOUT, type ContainerdRuntimeOptions } from './containerd/containerd-runtime.js';
export { ContainerdError } from './containerd/connection.js';
