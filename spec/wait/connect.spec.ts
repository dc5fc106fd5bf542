// The wait reconcilers' loop as a helper: an Informer's events, or a watch store's
// changes(), close the hooks of waiting tasks; the end to end path from a write to a woken
// waiter needs no clock step (no poll), and unsubscribing stops it.
import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import { Informer } from '../../lib/cache/informer.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { connectWaitHooks, connectWaitHooksToChanges } from '../../lib/wait/connect.js';
import { WaitHooks, waitHookKey } from '../../lib/wait/wait-hooks.js';
import { newWaitTask } from '../../lib/wait/wait-task.js';

type Cm = V1ConfigMap & KubeObject;
const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'rollout' };
const isReady = (cm: Cm) => cm.data?.ready === 'true';

describe('connectWaitHooks (Informer events)', () => {
  it('wakes a waiter on the event that satisfies it, without any poll or clock step', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<Cm>(resources.configMaps);
    source.create({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'false' } });
    const informer = new Informer<Cm>({ source, clock });
    const hooks = new WaitHooks();
    const sub = connectWaitHooks(hooks, informer);
    informer.start();
    await informer.synced();
    const obj = informer.get('ns', 'rollout')!;
    const update = async (cm: Cm) => informer.get(cm.metadata!.namespace!, cm.metadata!.name!) ?? cm;
    const waiting = newWaitTask({ hooks, clock, object: obj, action: 'Rollout', check: isReady, update }).wait(60_000);
    await settle();
    source.put({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'other' } });
    await settle();
    expect(hooks.get(waitHookKey(ref))?.closed).toBe(false);
    source.put({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'true' } });
    await settle();
    await expect(waiting).resolves.toBeUndefined();
    expect(clock.now()).toBe(0);
    expect(hooks.size).toBe(0);
    sub.unsubscribe();
    expect(informer.stats().subscribers).toBe(0);
    await informer.close();
  });

  it('closes the hook on a delete, so the waiter fails fast through its double-check', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<Cm>(resources.configMaps);
    source.create({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'false' } });
    const informer = new Informer<Cm>({ source, clock });
    const hooks = new WaitHooks();
    connectWaitHooks(hooks, informer);
    informer.start();
    await informer.synced();
    const update = async (cm: Cm) => {
      const found = informer.get('ns', 'rollout');
      if (!found) throw new Error(`configmap ${cm.metadata?.name} not found in cache`);
      return found;
    };
    const waiting = newWaitTask({ hooks, clock, object: informer.get('ns', 'rollout')!, action: 'Rollout', check: isReady, update })
      .wait(60_000)
      .catch((e) => e);
    await settle();
    source.remove('ns', 'rollout');
    await settle();
    expect((await waiting).message).toBe('configmap rollout not found in cache');
    expect(clock.now()).toBe(0);
    await informer.close();
  });
});

describe('connectWaitHooksToChanges (a watch store)', () => {
  it('notifies changes of one object and notifies a delete when it disappears', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<Cm>(resources.configMaps);
    source.create({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'false' } });
    const store = new WatchObjectStore<Cm>({ source, clock, recycleInterval: 0 });
    store.addReference('ns', 'rollout', 'me');
    const hooks = new WaitHooks();
    const sub = connectWaitHooksToChanges(hooks, store.changes('ns', 'rollout'), ref);
    const key = waitHookKey(ref);
    const first = hooks.acquire(key, 'Rollout', isReady);
    await settle();
    expect(first.closed).toBe(false);
    source.put({ metadata: { namespace: 'ns', name: 'rollout' }, data: { ready: 'true' } });
    await settle();
    expect(first.closed).toBe(true);
    hooks.release(key, first);

    const second = hooks.acquire(key, 'Rollout', () => false);
    source.remove('ns', 'rollout');
    await settle();
    expect(second.closed).toBe(true);
    hooks.release(key, second);
    sub.unsubscribe();
    expect(store.stats().subscribers).toBe(0);
    await store.close();
  });
});
