/**
 * ContainerdRuntime is the ContainerRuntime over containerd's own gRPC API, the runtime miren
 * talks to: one namespace's containers (with their labels), their tasks (state, signals,
 * deletion with the processes killed), container deletion with snapshot cleanup, and images.
 * It speaks containerd 1.6's API, which later releases still serve. A CRI adapter could sit
 * behind the same interface later.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { realClock, type Clock } from '../../util/clock.js';
import type { AsyncCloseable } from '../../util/dispose.js';
import { RuntimeNotFoundError, type ContainerRuntime, type KillSignal, type RuntimeCallOptions, type RuntimeContainer, type RuntimeImage, type TaskState } from '../runtime.js';
import { ContainerdConnection, ContainerdError, isGrpcNotFound } from './connection.js';

/**
 * A call that has not answered within this many ms is cancelled: 30 s. Local calls answer in
 * milliseconds; a task delete waits for the shim and a container list of a busy node takes
 * longer, but a call hung for longer means a wedged containerd, and the watchdogs' pass bounds
 * should not be the only thing that notices.
 */
export const DEFAULT_CALL_TIMEOUT = 30_000;

/** containerd's identifier rule (namespaces, containers): alphanumerics joined by single `.`, `_` or `-`, at most 76 characters. */
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const MAX_IDENTIFIER_LENGTH = 76;

const SIGNALS: Record<KillSignal, number> = { SIGQUIT: 3, SIGKILL: 9 };

/** Where containerd listens, which namespace to work in, and call deadlines. */
export interface ContainerdRuntimeOptions {
  /** Path of containerd's gRPC socket, e.g. `/run/containerd/containerd.sock`. */
  address: string;
  /** The containerd namespace every call is scoped to (miren uses `miren`, the CRI plugin `k8s.io`). */
  namespace: string;
  /** Per-call timeout in ms. Default 30 s. */
  callTimeout?: number;
  /** Drives the call timeouts. Default: the wall clock. */
  clock?: Clock;
}

/** Timestamps as the protos carry them (int64 seconds as a string). */
interface Timestamp {
  seconds: string;
  nanos: number;
}

interface ContainerRecord {
  id: string;
  labels: Record<string, string>;
  image: string;
  snapshotter: string;
  snapshot_key: string;
  created_at: Timestamp | null;
}

interface ProcessRecord {
  status: 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';
  pid: number;
  exit_status: number;
}

interface ImageRecord {
  name: string;
  labels: Record<string, string>;
  created_at: Timestamp | null;
}

/**
 * The ContainerRuntime over containerd's own gRPC API (1.6 and later): one namespace's containers,
 * tasks, snapshots and images. Every call takes a signal and has a deadline (default 30 s); close() or
 * `await using` cancels calls in flight and closes the connection.
 */
export class ContainerdRuntime implements ContainerRuntime, AsyncCloseable {
  /** The containerd namespace every call is scoped to. */
  readonly namespace: string;
  private readonly connection: ContainerdConnection;

  /** Throws a TypeError for a namespace containerd would reject. Connects lazily, on the first call. */
  constructor(opts: ContainerdRuntimeOptions) {
    checkIdentifier('namespace', opts.namespace);
    this.namespace = opts.namespace;
    this.connection = new ContainerdConnection({
      address: opts.address,
      namespace: opts.namespace,
      clock: opts.clock ?? realClock,
      callTimeout: opts.callTimeout ?? DEFAULT_CALL_TIMEOUT,
    });
  }

  /** The gRPC channel's state, `SHUTDOWN` after close(); and the calls in flight. For leak checks. */
  connectionStats(): { state: string; inFlight: number } {
    return { state: connectivityName(this.connection.state()), inFlight: this.connection.inFlight };
  }

  /** containerd's version and revision; a cheap liveness probe. */
  async version(opts?: RuntimeCallOptions): Promise<{ version: string; revision: string }> {
    const res = await this.connection.call<{ version: string; revision: string }>('version', 'Version', {}, opts);
    return { version: res.version, revision: res.revision };
  }

  /** Creates the namespace (with labels) unless it exists. */
  async ensureNamespace(labels: Record<string, string> = {}, opts?: RuntimeCallOptions): Promise<void> {
    try {
      await this.connection.call('namespaces', 'Create', { namespace: { name: this.namespace, labels } }, opts);
    } catch (err) {
      if (!(err instanceof ContainerdError && err.code === grpcStatus.ALREADY_EXISTS)) throw err;
    }
  }

  /** Deletes the namespace; containerd refuses (FAILED_PRECONDITION) while it holds anything. A missing one counts as deleted. */
  async deleteNamespace(opts?: RuntimeCallOptions): Promise<void> {
    try {
      await this.connection.call('namespaces', 'Delete', { name: this.namespace }, opts);
    } catch (err) {
      if (!isGrpcNotFound(err)) throw err;
    }
  }

  /** The namespace's containers with their labels, image and creation time. */
  async listContainers(opts?: RuntimeCallOptions): Promise<RuntimeContainer[]> {
    const res = await this.connection.call<{ containers: ContainerRecord[] }>('containers', 'List', { filters: [] }, opts);
    return res.containers.map((c) => {
      const out: RuntimeContainer = { id: c.id, labels: { ...c.labels } };
      if (c.image) out.image = c.image;
      const createdAt = epochMs(c.created_at);
      if (createdAt !== undefined) out.createdAt = createdAt;
      return out;
    });
  }

  /**
   * The container's task state: `running` (created, running or paused), `stopped`, or `none` without a
   * task or container.
   * @throws TypeError for an id containerd would reject.
   */
  async taskState(id: string, opts?: RuntimeCallOptions): Promise<TaskState> {
    checkIdentifier('container id', id);
    const process = await this.task(id, opts);
    if (!process) return 'none';
    return process.status === 'STOPPED' || process.status === 'UNKNOWN' ? 'stopped' : 'running';
  }

  /**
   * Signals the task's main process. Rejects with RuntimeNotFoundError when the container has no task.
   * @throws TypeError for an id containerd would reject.
   */
  async kill(id: string, signal: KillSignal, opts?: RuntimeCallOptions): Promise<void> {
    checkIdentifier('container id', id);
    try {
      await this.connection.call('tasks', 'Kill', { container_id: id, exec_id: '', signal: SIGNALS[signal], all: false }, opts);
    } catch (err) {
      if (isGrpcNotFound(err)) throw new RuntimeNotFoundError(`task ${id}`);
      throw err;
    }
  }

  /**
   * The container's task's exit, once it has exited: its status (128 + signal for a signalled
   * process) and time. Waits as long as the task runs, up to the call timeout unless `timeout`
   * says otherwise. Rejects with RuntimeNotFoundError when there is no task.
   */
  async wait(id: string, opts: RuntimeCallOptions & { timeout?: number } = {}): Promise<{ exitStatus: number; exitedAt: number | undefined }> {
    checkIdentifier('container id', id);
    try {
      const res = await this.connection.call<{ exit_status: number; exited_at: Timestamp | null }>('tasks', 'Wait', { container_id: id, exec_id: '' }, opts);
      return { exitStatus: res.exit_status, exitedAt: epochMs(res.exited_at) };
    } catch (err) {
      if (isGrpcNotFound(err)) throw new RuntimeNotFoundError(`task ${id}`);
      throw err;
    }
  }

  /**
   * Removes the container the way the containerd client's `task.Delete(WithProcessKill)` then
   * `container.Delete(WithSnapshotCleanup)` do: kills the task's processes and waits for them,
   * deletes the task, the container, then its snapshot. A part already gone counts as removed.
   * The container record is only deleted once its task is: deleting it under a live task would
   * orphan the shim.
   */
  async remove(id: string, opts?: RuntimeCallOptions): Promise<void> {
    checkIdentifier('container id', id);
    let container: ContainerRecord;
    try {
      container = (await this.connection.call<{ container: ContainerRecord }>('containers', 'Get', { id }, opts)).container;
    } catch (err) {
      if (isGrpcNotFound(err)) return;
      throw err;
    }
    const process = await this.task(id, opts);
    if (process) {
      if (process.status !== 'STOPPED') {
        await ignoreNotFound(this.connection.call('tasks', 'Kill', { container_id: id, exec_id: '', signal: SIGNALS.SIGKILL, all: true }, opts));
        await ignoreNotFound(this.connection.call('tasks', 'Wait', { container_id: id, exec_id: '' }, opts));
      }
      await ignoreNotFound(this.connection.call('tasks', 'Delete', { container_id: id }, opts));
    }
    await ignoreNotFound(this.connection.call('containers', 'Delete', { id }, opts));
    if (container.snapshot_key && container.snapshotter) {
      await ignoreNotFound(this.connection.call('snapshots', 'Remove', { snapshotter: container.snapshotter, key: container.snapshot_key }, opts));
    }
  }

  /** The namespace's images with their creation time and labels. */
  async listImages(opts?: RuntimeCallOptions): Promise<RuntimeImage[]> {
    const res = await this.connection.call<{ images: ImageRecord[] }>('images', 'List', { filters: [] }, opts);
    return res.images.map((i) => ({ name: i.name, createdAt: epochMs(i.created_at) ?? 0, labels: { ...i.labels } }));
  }

  /**
   * Deletes the image record; containerd's garbage collector then frees the content and
   * snapshots nothing else holds, in the background, or before this resolves with `sync` (what
   * emptying a namespace before deleting it needs).
   */
  async removeImage(name: string, opts: RuntimeCallOptions & { sync?: boolean } = {}): Promise<void> {
    if (typeof name !== 'string' || name === '') throw new TypeError('removeImage: the image name must be a non-empty string');
    await ignoreNotFound(this.connection.call('images', 'Delete', { name, sync: opts.sync ?? false }, opts));
  }

  /** Cancels calls in flight and closes the connection. Later calls reject. Idempotent. */
  async close(): Promise<void> {
    this.connection.close();
  }

  /** `await using` support: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async task(id: string, opts?: RuntimeCallOptions): Promise<ProcessRecord | undefined> {
    try {
      return (await this.connection.call<{ process: ProcessRecord | null }>('tasks', 'Get', { container_id: id, exec_id: '' }, opts)).process ?? undefined;
    } catch (err) {
      if (isGrpcNotFound(err)) return undefined;
      throw err;
    }
  }
}

function checkIdentifier(what: string, value: string): void {
  if (typeof value !== 'string' || value.length > MAX_IDENTIFIER_LENGTH || !IDENTIFIER.test(value)) {
    throw new TypeError(`containerd ${what} ${JSON.stringify(String(value).slice(0, 80))} is not a valid identifier`);
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (!isGrpcNotFound(err)) throw err;
  }
}

function epochMs(ts: Timestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds);
  if (!Number.isFinite(seconds) || (seconds === 0 && ts.nanos === 0)) return undefined;
  return seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

function connectivityName(state: number): string {
  return ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'][state] ?? String(state);
}
