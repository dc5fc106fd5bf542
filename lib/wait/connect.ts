/**
 * The event side of wait tasks, wired for you: every add or update an Informer (or a watch
 * store's `changes()` stream) reports goes to `WaitHooks.notify`, every delete to
 * `notifyDeleted`, so hooks close as soon as the cache holds the state waited for. This is the
 * loop openkruise runs as its Sandbox and Checkpoint wait reconcilers.
 */
import type { Observable, Subscription } from 'rxjs';
import type { KubeObject } from '../api/object.js';
import type { InformerEvent } from '../cache/informer.js';
import { waitHookRefOf, type WaitHookRef, type WaitHooks } from './wait-hooks.js';

/**
 * Feeds an informer's events to `hooks` until the returned subscription is unsubscribed (or
 * the informer closes). Objects reach the hooks after the informer stored them, so a waiter's
 * double-check that reads the informer sees at least the state that woke it.
 */
export function connectWaitHooks<T extends KubeObject>(hooks: WaitHooks, informer: { events(): Observable<InformerEvent<T>> }): Subscription {
  return informer.events().subscribe((event) => {
    if (event.type !== 'DELETED') return hooks.notify(event.object);
    const ref = waitHookRefOf(event.object);
    if (ref) hooks.notifyDeleted(ref);
  });
}

/**
 * Feeds one object's change stream (e.g. `WatchObjectStore.changes(ns, name)`, which emits
 * undefined while the object does not exist) to `hooks`. `ref` names the object, since an
 * absent object cannot name itself.
 */
export function connectWaitHooksToChanges<T extends KubeObject>(hooks: WaitHooks, changes: Observable<T | undefined>, ref: WaitHookRef): Subscription {
  return changes.subscribe((obj) => {
    if (obj === undefined) hooks.notifyDeleted(ref);
    else hooks.notify({ apiVersion: ref.apiVersion, kind: ref.kind, ...obj });
  });
}
