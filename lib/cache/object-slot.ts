/**
 * ObjectSlot is the store behind one per-object reflector: at most one object, a "synced" flag
 * that only a list (replace) can set, a promise to wait for that flag, and change listeners.
 *
 * Upstream keeps a generic keyed cache.Store per watched object and notes a dedicated
 * single-item store would halve its ~600 B overhead, "not until we see a good reason". With
 * thousands of watched objects in a JS heap that reason exists, so this is that dedicated store.
 * Objects for any other name (which a correct server never sends under a name field selector)
 * are ignored.
 */
import { metaOf, resourceVersionOf } from '../api/object.js';
import type { ReflectorSink } from './sink.js';

/** Told the slot's value (undefined: the object does not exist) after each change. */
export type SlotListener<T> = (value: T | undefined) => void;

/** The single-object store of one per-object reflector; see the file comment. */
export class ObjectSlot<T> implements ReflectorSink<T> {
  private current: T | undefined;
  private synced = false;
  /** Created on first use: most slots never have a waiter or a listener at a given moment. */
  private syncWaiters: Set<() => void> | undefined;
  private listeners: Set<SlotListener<T>> | undefined;
  private foreign = 0;

  /**
   * @param namespace the object's namespace ("" for cluster-scoped ones).
   * @param name its name; objects with another name are ignored.
   */
  constructor(
    /** The object's namespace, "" for cluster-scoped ones. */
    readonly namespace: string,
    /** The object's name. */
    readonly name: string,
  ) {}

  /** The object, or undefined when it does not exist (or nothing was synced yet). */
  get value(): T | undefined {
    return this.current;
  }

  /**
   * How many objects the server sent that were not this slot's (another name or namespace) and
   * were ignored. A correct server sends none; a count here means a proxy or server that does
   * not apply the field selector. The watch store sums it in `stats().foreignObjects`.
   */
  get foreignObjects(): number {
    return this.foreign;
  }

  /** Whether a list (or WatchList) has filled the slot since it was made or last unset. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Calls `fn` once the slot is synced (at once if it already is). Returns a function that
   * cancels the wait, so a waiter that gave up leaves nothing behind.
   */
  onceSynced(fn: () => void): () => void {
    if (this.synced) {
      fn();
      return () => {};
    }
    const waiter = () => fn();
    (this.syncWaiters ??= new Set()).add(waiter);
    return () => {
      this.syncWaiters?.delete(waiter);
    };
  }

  /** Marks the contents as possibly stale: the next reader must wait for a fresh list. */
  unsetSynced(): void {
    this.synced = false;
  }

  /** Called with the new value whenever it changes after a sync, and on each first sync. */
  subscribe(listener: SlotListener<T>): () => void {
    (this.listeners ??= new Set()).add(listener);
    return () => {
      this.listeners?.delete(listener);
    };
  }

  /** A list's result: the slot takes its object (or none) and is synced. */
  replace(items: T[], _resourceVersion: string): void {
    const previous = this.current;
    const wasSynced = this.synced;
    this.current = items.find((item) => this.owns(item));
    this.foreign += items.filter((item) => !this.owns(item)).length;
    this.synced = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = undefined;
    for (const waiter of waiters ?? []) waiter();
    if (!wasSynced || !sameVersion(previous, this.current)) this.emit();
  }

  /** An ADDED event for the object. */
  add(obj: T): void {
    this.set(obj);
  }

  /** A MODIFIED event for the object. */
  update(obj: T): void {
    this.set(obj);
  }

  /** A DELETED event: the object no longer exists. */
  delete(obj: T): void {
    if (!this.owns(obj)) return void this.foreign++;
    if (this.current === undefined) return;
    this.current = undefined;
    if (this.synced) this.emit();
  }

  private set(obj: T): void {
    if (!this.owns(obj)) return void this.foreign++;
    const previous = this.current;
    this.current = obj;
    if (this.synced && !sameVersion(previous, obj)) this.emit();
  }

  private owns(obj: T): boolean {
    const meta = metaOf(obj);
    if (meta?.name !== this.name) return false;
    return meta.namespace === undefined || meta.namespace === '' || meta.namespace === this.namespace;
  }

  private emit(): void {
    if (!this.listeners) return;
    for (const listener of [...this.listeners]) listener(this.current);
  }
}

/** Same object version: same identity, or same uid and resourceVersion. */
function sameVersion(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const rvA = resourceVersionOf(a);
  return rvA !== undefined && rvA !== '' && rvA === resourceVersionOf(b) && metaOf(a)?.uid === metaOf(b)?.uid;
}
