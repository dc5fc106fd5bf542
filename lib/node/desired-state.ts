/**
 * DesiredState is what the node should be running, as the watchdogs read it: owners (miren's
 * sandboxes, Kubernetes pods) with a status, the time of their last transition, and the runtime
 * containers each one accounts for. The watchdogs compare it with the ContainerRuntime's actual
 * state; PodDesiredState implements it over the pods refwatch keeps fresh for one node.
 */
import type { RuntimeCallOptions } from './runtime.js';

/** miren's sandbox statuses; every one but DEAD means "keep my containers". */
export type OwnerStatus = 'PENDING' | 'NOT_READY' | 'RUNNING' | 'DEAD';

/** Something that owns runtime containers: a sandbox, a pod. */
export interface Owner {
  /** The id the owner label of its containers carries. */
  id: string;
  /** Its status; every status but DEAD keeps its containers. */
  status: OwnerStatus;
  /** Epoch ms of the owner's last status change; the grace window for DEAD owners counts from it. */
  updatedAt: number;
  /** The runtime container ids this owner accounts for. */
  containers: string[];
  /** The images its containers run; the image GC never deletes these while the owner is not DEAD. */
  images?: string[];
}

/**
 * Contract for implementations:
 * - `list` returns the owners this node is responsible for, from an index that may lag behind
 *   the source of truth. It rejects rather than return a partial or unsynced list: an owner
 *   missing from it costs an authoritative `get`, and a wrongly empty list costs one per owner.
 * - `get` is that authoritative read of one owner: `undefined` only when the source of truth
 *   says it does not exist (or is not this node's); any other failure rejects, and the watchdog
 *   keeps the owner's containers.
 */
export interface DesiredState {
  /** The owners this node is responsible for, from an index; rejects rather than return a partial list. */
  list(opts?: RuntimeCallOptions): Promise<Owner[]>;
  /**
   * The authoritative read of one owner: undefined only when it does not exist (or is not this
   * node's); any other failure rejects.
   */
  get(id: string, opts?: RuntimeCallOptions): Promise<Owner | undefined>;
}

/**
 * Whether an owner still holds its containers at `now`: any status but DEAD, or DEAD for less
 * than `graceWindow` ms (a sandbox passing through DEAD on its way to a restart keeps them).
 */
export function ownerIsLive(owner: Owner, now: number, graceWindow: number): boolean {
  return owner.status !== 'DEAD' || now - owner.updatedAt < graceWindow;
}
