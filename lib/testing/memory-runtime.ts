/**
 * MemoryRuntime is a ContainerRuntime held in memory, for the node watchdogs' specs and for the
 * node-agent example when no containerd is running. Tasks react to signals the way real
 * processes do (SIGQUIT stops a task unless it ignores it, SIGKILL always does), every call is
 * recorded with the clock's time, and any call can be made to fail, so a spec can see the
 * two-phase kill, the order of removal and release, and the fail-safe paths.
 */
import { realClock, type Clock } from '../util/clock.js';
import {
  RuntimeNotFoundError,
  type ContainerRuntime,
  type KillSignal,
  type RuntimeCallOptions,
  type RuntimeContainer,
  type RuntimeImage,
  type TaskState,
} from '../node/runtime.js';

/** The ContainerRuntime calls a MemoryRuntime records and can fail or hold. */
export type RuntimeOperation = 'listContainers' | 'taskState' | 'kill' | 'remove' | 'listImages' | 'removeImage';

/** One call the runtime received. */
export interface RuntimeCall {
  /** Which call it was. */
  op: RuntimeOperation;
  /** Container id or image name; absent for the lists. */
  target?: string;
  /** The signal sent, for `kill`. */
  signal?: KillSignal;
  /** clock.now() when the call arrived. */
  at: number;
}

/** A container to add to a MemoryRuntime, with its task's state and the signals it ignores. */
export interface MemoryContainerSpec {
  /** The container id. */
  id: string;
  /** The container's labels (pod name, namespace, container name...). */
  labels?: Record<string, string>;
  /** The image it runs. */
  image?: string;
  /** Default: clock.now() when added. */
  createdAt?: number;
  /** Default 'running'. */
  task?: TaskState;
  /** Signals the task's process ignores, e.g. ['SIGQUIT'] (SIGKILL cannot be ignored). */
  ignores?: KillSignal[];
}

interface MemoryContainer {
  container: RuntimeContainer;
  task: TaskState;
  ignores: Set<KillSignal>;
}

/** A ContainerRuntime in memory whose tasks react to signals as processes do; see the file header. */
export class MemoryRuntime implements ContainerRuntime {
  /** Every call, in order. */
  readonly calls: RuntimeCall[] = [];
  private readonly clock: Clock;
  private readonly containers = new Map<string, MemoryContainer>();
  private readonly images = new Map<string, RuntimeImage>();
  private readonly faults = new Map<string, () => Error>();
  private readonly hooks = new Map<string, () => void | Promise<void>>();

  /** @param opts.clock stamps calls and default creation times. Default: the wall clock. */
  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? realClock;
  }

  /** Adds a container (and its task) without recording a call; returns it as the runtime lists it. */
  addContainer(spec: MemoryContainerSpec): RuntimeContainer {
    const container: RuntimeContainer = { id: spec.id, labels: { ...spec.labels }, createdAt: spec.createdAt ?? this.clock.now() };
    if (spec.image !== undefined) container.image = spec.image;
    this.containers.set(spec.id, { container, task: spec.task ?? 'running', ignores: new Set(spec.ignores?.filter((s) => s !== 'SIGKILL')) });
    return structuredClone(container);
  }

  /** Adds an image without recording a call. */
  addImage(image: { name: string; createdAt?: number; labels?: Record<string, string> }): void {
    this.images.set(image.name, { name: image.name, createdAt: image.createdAt ?? this.clock.now(), ...(image.labels ? { labels: { ...image.labels } } : {}) });
  }

  /** Whether the container exists. */
  has(id: string): boolean {
    return this.containers.has(id);
  }

  /** The container's task state, without recording a call. */
  stateOf(id: string): TaskState {
    return this.containers.get(id)?.task ?? 'none';
  }

  /** Names of the images held, sorted. */
  imageNames(): string[] {
    return [...this.images.keys()].sort();
  }

  /** Ids of the containers held, sorted. */
  containerIds(): string[] {
    return [...this.containers.keys()].sort();
  }

  /** Makes every later `op` on `target` (or on anything, when omitted) reject with the error `make` returns. */
  fail(op: RuntimeOperation, make: () => Error, target?: string): void {
    this.faults.set(faultKey(op, target), make);
  }

  /** Runs `fn` inside every later `op` on `target` before it takes effect (to block a call, or to look at state mid-pass). */
  during(op: RuntimeOperation, fn: () => void | Promise<void>, target?: string): void {
    this.hooks.set(faultKey(op, target), fn);
  }

  /** As ContainerRuntime.listContainers: recorded, then every container held. */
  async listContainers(opts?: RuntimeCallOptions): Promise<RuntimeContainer[]> {
    await this.enter('listContainers', undefined, opts);
    return [...this.containers.values()].map((c) => structuredClone(c.container));
  }

  /** As ContainerRuntime.taskState: recorded; RuntimeNotFoundError for an unknown id. */
  async taskState(id: string, opts?: RuntimeCallOptions): Promise<TaskState> {
    await this.enter('taskState', id, opts);
    return this.stateOf(id);
  }

  /** As ContainerRuntime.kill: recorded; SIGKILL always stops the task, other signals unless the task ignores them. */
  async kill(id: string, signal: KillSignal, opts?: RuntimeCallOptions): Promise<void> {
    await this.enter('kill', id, opts, signal);
    const c = this.containers.get(id);
    if (!c || c.task === 'none') throw new RuntimeNotFoundError(`task ${id}`);
    if (c.task === 'running' && !c.ignores.has(signal)) c.task = 'stopped';
  }

  /** As ContainerRuntime.remove: recorded; the container and its task are gone. */
  async remove(id: string, opts?: RuntimeCallOptions): Promise<void> {
    await this.enter('remove', id, opts);
    this.containers.delete(id);
  }

  /** As ContainerRuntime.listImages: recorded, then every image held. */
  async listImages(opts?: RuntimeCallOptions): Promise<RuntimeImage[]> {
    await this.enter('listImages', undefined, opts);
    return [...this.images.values()].map((i) => structuredClone(i));
  }

  /** As ContainerRuntime.removeImage: recorded; the image is gone. */
  async removeImage(name: string, opts?: RuntimeCallOptions): Promise<void> {
    await this.enter('removeImage', name, opts);
    this.images.delete(name);
  }

  private async enter(op: RuntimeOperation, target: string | undefined, opts: RuntimeCallOptions | undefined, signal?: KillSignal): Promise<void> {
    const call: RuntimeCall = { op, at: this.clock.now() };
    if (target !== undefined) call.target = target;
    if (signal !== undefined) call.signal = signal;
    this.calls.push(call);
    opts?.signal?.throwIfAborted();
    const hook = this.hooks.get(faultKey(op, target)) ?? this.hooks.get(faultKey(op));
    if (hook) await hook();
    opts?.signal?.throwIfAborted();
    const fault = this.faults.get(faultKey(op, target)) ?? this.faults.get(faultKey(op));
    if (fault) throw fault();
  }
}

function faultKey(op: RuntimeOperation, target?: string): string {
  return target === undefined ? `${op}\u0000*` : `${op}\u0000${target}`;
}
