/**
 * WaitHooks is the meeting point of waiters and the event stream (openkruise's waitHooks map
 * and WaitReconciler): a waiter registers a hook for one object and one action; every event
 * for that object runs the hook's check, and a satisfied check, a failing check or a delete
 * closes the hook. Closing only wakes the waiters; each decides the outcome by re-reading the
 * object itself (the double-check), so an event never has to carry the final answer.
 *
 * One action per object: waiters with the same action share a refcounted hook; a different
 * action is refused while the hook lives. Release is compare-and-delete, so a waiter leaving
 * never removes a hook that another waiter, or a newer hook under the same key, still uses.
 */
import { metaOf, type KubeObject } from '../api/object.js';
import { WaitTaskConflictError } from './errors.js';

/** Decides whether an object reached the state; throw to fail the wait with that error. */
export type Check<T> = (obj: T) => boolean;

/** What a hook is keyed by. */
export interface WaitHookRef {
  /** The object's apiVersion, e.g. `agents.kruise.io/v1alpha1`. */
  apiVersion: string;
  /** The object's kind, e.g. `Sandbox`. */
  kind: string;
  /** The object's namespace; "" for a cluster-scoped one. */
  namespace: string;
  /** The object's name. */
  name: string;
}

/**
 * `apiVersion/kind/namespace/name`, e.g. "agents.kruise.io/v1alpha1/Sandbox/default/x": objects
 * of different kinds with the same name never share a hook (upstream uses the Go type name).
 */
export function waitHookKey(ref: WaitHookRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The ref of an object, or undefined when it lacks apiVersion, kind or name. */
export function waitHookRefOf(obj: KubeObject): WaitHookRef | undefined {
  const meta = metaOf(obj);
  if (typeof obj?.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof meta?.name !== 'string') return undefined;
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: meta.namespace ?? '', name: meta.name };
}

/** One object's hook: the first acquirer's action and check, a closed flag, and its waiters. */
export class WaitEntry<T = any> {
  private isClosed = false;
  private refCount = 0;
  private readonly closeListeners = new Set<() => void>();

  /** Made by WaitHooks.acquire; not constructed directly. */
  constructor(
    /** The action of the first acquirer; another action is refused while the hook lives. */
    readonly action: string,
    private readonly checker: Check<T>,
    /** The first acquirer's signal (upstream's entry context); informational. */
    readonly signal?: AbortSignal,
  ) {}

  /** Closed hooks stay closed; waiters that join one wake at once and double-check. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Waiters holding the hook. */
  get refs(): number {
    return this.refCount;
  }

  /** Runs the first acquirer's check. Throws what the check throws. */
  check(obj: T): boolean {
    return this.checker(obj);
  }

  /** Wakes every waiter. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) listener();
  }

  /** Calls `fn` on close (at once if closed); returns the function that removes it. */
  onClose(fn: () => void): () => void {
    if (this.isClosed) {
      fn();
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => void this.closeListeners.delete(fn);
  }

  /** @internal refcounting, for WaitHooks only. */
  retain(): void {
    this.refCount++;
  }

  /** @internal */
  releaseRef(): number {
    return --this.refCount;
  }
}

/**
 * The hooks of every object being waited on, keyed by waitHookKey: waiters acquire and release them,
 * the event stream notifies them (connectWaitHooks does it for an informer). One action per object;
 * same-action waiters share a refcounted hook.
 */
export class WaitHooks {
  private readonly entries = new Map<string, WaitEntry>();

  /** Live hooks; 0 once every waiter has returned (a leak check). */
  get size(): number {
    return this.entries.size;
  }

  /** The hook under `key`, if any. */
  get(key: string): WaitEntry | undefined {
    return this.entries.get(key);
  }

  /** The keys of the live hooks. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Joins the hook under `key` (same action) or creates it with this check and signal.
   * @throws WaitTaskConflictError when the hook belongs to another action; nothing is counted.
   */
  acquire<T>(key: string, action: string, check: Check<T>, signal?: AbortSignal): WaitEntry<T> {
    let entry = this.entries.get(key) as WaitEntry<T> | undefined;
    if (!entry) this.entries.set(key, (entry = new WaitEntry<T>(action, check, signal)));
    if (entry.action !== action) throw new WaitTaskConflictError(entry.action, action);
    entry.retain();
    return entry;
  }

  /** Drops one reference; the last one removes the hook, but only if `key` still maps to `entry`. */
  release(key: string, entry: WaitEntry): void {
    if (entry.releaseRef() === 0 && this.entries.get(key) === entry) this.entries.delete(key);
  }

  /**
   * Call on every add or update event: runs the hook's check on `obj` and closes the hook when
   * the check is satisfied or throws. Objects without apiVersion, kind or name are ignored.
   */
  notify(obj: KubeObject): void {
    const ref = waitHookRefOf(obj);
    const entry = ref && this.entries.get(waitHookKey(ref));
    if (!entry || entry.closed) return;
    let done: boolean;
    try {
      done = entry.check(obj);
    } catch {
      // The waiter's double-check runs the same check and reports the error.
      done = true;
    }
    if (done) entry.close();
  }

  /** Call when the object is gone: closes its hook so waiters double-check (and fail fast). */
  notifyDeleted(ref: WaitHookRef): void {
    this.entries.get(waitHookKey(ref))?.close();
  }
}
