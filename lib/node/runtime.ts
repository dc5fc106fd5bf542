/**
 * ContainerRuntime is the node's actual state as the watchdogs see it: the containers and images
 * a runtime holds, and the few operations that bring it in line with the desired state. It is
 * deliberately small (list, task state, signal, remove) so that containerd's gRPC API, a CRI
 * client or an in-memory double can sit behind it; miren's watchdogs use exactly these calls of
 * the containerd client.
 */

/** A container's task: a live process (created, running or paused), one that exited, or none. */
export type TaskState = 'running' | 'stopped' | 'none';

/** The two signals of the watchdog's two-phase kill. */
export type KillSignal = 'SIGQUIT' | 'SIGKILL';

/** Options every runtime call takes. */
export interface RuntimeCallOptions {
  /** Ends the call early; it then rejects. */
  signal?: AbortSignal;
}

/** A container as the runtime lists it. */
export interface RuntimeContainer {
  /** The runtime's container id, unique within its namespace. */
  id: string;
  /** The container's labels; the watchdog only touches containers carrying its owner label. */
  labels: Record<string, string>;
  /** The image it was created from, when the runtime records one. */
  image?: string;
  /** Creation time in epoch ms, when the runtime records one. */
  createdAt?: number;
}

/** An image as the runtime lists it. */
export interface RuntimeImage {
  /** The image's name (reference), e.g. `cluster.local:5000/app:a-1`. */
  name: string;
  /** Creation time in epoch ms (when the runtime first stored this name). */
  createdAt: number;
  /** The image's labels, when the runtime records any. */
  labels?: Record<string, string>;
}

/**
 * Contract for implementations:
 * - Every call may reject on a transport failure; the watchdogs treat a rejection as "unknown"
 *   and never as "absent".
 * - `remove` and `removeImage` resolve when the object is gone, including when it did not exist
 *   (NotFound counts as removed, so two agents racing to clean up both succeed).
 * - `remove` deletes the container's task first (killing its processes), then the container,
 *   then its snapshot; a container that still exists when it resolves is a bug.
 * - `kill` signals the task's main process; it rejects with RuntimeNotFoundError when the
 *   container has no task.
 */
export interface ContainerRuntime {
  /** Every container of the runtime's namespace, with its labels. */
  listContainers(opts?: RuntimeCallOptions): Promise<RuntimeContainer[]>;
  /** The state of the container's task; `none` for a container without one or one that does not exist. */
  taskState(id: string, opts?: RuntimeCallOptions): Promise<TaskState>;
  /** Signals the container's task; rejects with RuntimeNotFoundError when it has none. */
  kill(id: string, signal: KillSignal, opts?: RuntimeCallOptions): Promise<void>;
  /**
   * Removes the container: task (processes killed), container, snapshot. Resolves when it is gone,
   * also when it did not exist.
   */
  remove(id: string, opts?: RuntimeCallOptions): Promise<void>;
  /** Every image of the runtime's namespace. */
  listImages(opts?: RuntimeCallOptions): Promise<RuntimeImage[]>;
  /** Removes the image record; resolves when it is gone, also when it did not exist. */
  removeImage(name: string, opts?: RuntimeCallOptions): Promise<void>;
}

/** The runtime has no such container, task or image. */
export class RuntimeNotFoundError extends Error {
  /** @param what names what is missing, e.g. `task abc`. */
  constructor(what: string) {
    super(`${what}: not found`);
    this.name = 'RuntimeNotFoundError';
  }
}

/** Whether `err` is a RuntimeNotFoundError. */
export function isRuntimeNotFound(err: unknown): err is RuntimeNotFoundError {
  return err instanceof RuntimeNotFoundError;
}
