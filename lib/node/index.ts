/**
 * The node toolkit (miren runtime's controllers/sandbox): the desired state (pods of this node)
 * against the runtime's actual state (containerd), and the watchdogs that make one match the
 * other: the orphan reaper, image and blob GC, and the port monitor. Their periodic loop,
 * PeriodicReconciler, is in lib/util (the profile cache's reconciler runs on it too).
 */
export * from './runtime.js';
export * from './desired-state.js';
export * from './artifact-catalog.js';

export * from './container-watchdog.js';
export * from './image-watchdog.js';
export * from './blob-gc.js';
export * from './port-monitor.js';
export * from './proc-net-tcp.js';
export { DeadlineExceededError } from '../util/abort.js';

export * from './node-pods.js';
export * from './pod-desired-state.js';

export * from './containerd/containerd-runtime.js';
export { ContainerdError } from './containerd/connection.js';
