// Ports pkg/kubelet/util/manager/watch_based_manager_test.go (B1–B6 of the reference) and
// covers the store's own contract: the sync wait, idle recycling, immutability, changes(),
// and a close() that leaves nothing running.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1Secret } from '@kubernetes/client-node';
import { firstValueFrom } from 'rxjs';
import { KubeConfig } from '@kubernetes/client-node';
import { StatusError, isForbidden, isNotFound } from '../../lib/api/errors.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import { InvalidNameError } from '../../lib/api/names.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources, type ResourceType } from '../../lib/api/resource.js';
import { NotRegisteredError, StoreClosedError, SyncTimeoutError } from '../../lib/manager/errors.js';
import { isImmutableSecretOrConfigMap } from '../../lib/manager/kind-managers.js';
import { WatchObjectStore, type WatchObjectStoreOptions } from '../../lib/manager/watch-object-store.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { isAbortError } from '../../lib/util/abort.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';

const NS = 'ns';
const NAME = 'name';

function secret(rvOrData: { immutable?: boolean; data?: Record<string, string> } = {}): V1Secret {
  return { metadata: { namespace: NS, name: NAME }, ...rvOrData };
}

const stores: WatchObjectStore<V1Secret>[] = [];

function setup(opts: Partial<WatchObjectStoreOptions<V1Secret>> = {}) {
  const clock = new FakeClock(1_000_000);
  const source = new MemorySource<V1Secret>(resources.secrets);
  const store = new WatchObjectStore<V1Secret>({
    source,
    clock,
    isImmutable: isImmutableSecretOrConfigMap,
    maxIdleTime: 60_000,
    recycleInterval: 0, // upstream's tests call the recycler by hand
    random: () => 0,
    ...opts,
  });
  stores.push(store);
  return { clock, source, store };
}

/** Holds every list of `source` until the returned function is called; then they answer from storage. */
function holdLists(source: MemorySource<V1Secret>): () => void {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  source.onList(async () => {
    await held;
    return undefined;
  });
  return release;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('WatchObjectStore', () => {
  it('answers NotFound once synced, then sees the object appear and disappear (TestSecretCache)', async () => {
    const { source, store } = setup();
    store.addReference(NS, NAME, 'pod');
    const missing = await store.get(NS, NAME).catch((e) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(missing.message).toBe('secret "name" not found');

    source.create(secret());
    await settle();
    await expect(store.get(NS, NAME)).resolves.toMatchObject({ metadata: { name: NAME, namespace: NS } });

    source.remove(NS, NAME);
    await settle();
    await expect(store.get(NS, NAME)).rejects.toThrow('secret "name" not found');

    store.deleteReference(NS, NAME, 'pod');
    await expect(store.get(NS, NAME)).rejects.toThrow('object "ns"/"name" not registered');
  });

  it('starts one list and one watch per object however many pods reference it (TestSecretCacheMultipleRegistrations)', async () => {
    const { source, store } = setup();
    store.addReference(NS, NAME, 'pod');
    await settle();
    expect(source.actions.map((a) => a.verb)).toEqual(['list', 'watch']);
    for (let i = 0; i < 20; i++) {
      store.addReference(NS, NAME, `pod-${i}`);
      store.deleteReference(NS, NAME, `pod-${i}`);
    }
    await settle();
    expect(source.actions).toHaveLength(2);
    store.deleteReference(NS, NAME, 'pod');
    await expect(store.get(NS, NAME)).rejects.toBeInstanceOf(NotRegisteredError);
    expect(source.actions).toHaveLength(2);
  });

  it('pins each reflector to its object: metadata.name field selector in its namespace, list at RV "0", 30–60 min watches', async () => {
    const { source, store } = setup();
    source.create(secret());
    store.addReference(NS, NAME, 'pod');
    await store.get(NS, NAME);
    const [list, watch] = source.actions;
    expect(list).toEqual({ verb: 'list', namespace: NS, options: { fieldSelector: 'metadata.name=name', resourceVersion: '0', limit: undefined } });
    expect(watch.namespace).toBe(NS);
    expect(watch.options).toMatchObject({ fieldSelector: 'metadata.name=name', resourceVersion: source.storage.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 1800 });
  });

  describe('metadata.managedFields', () => {
    const managedFields = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } }];
    const withFields = (data: string): V1Secret => ({ metadata: { namespace: NS, name: NAME, managedFields }, data: { k: data } });

    it('is dropped from cached objects by default, from the list and from watch events', async () => {
      const { source, store } = setup();
      source.create(withFields('djE='));
      store.addReference(NS, NAME, 'pod');
      const listed = await store.get(NS, NAME);
      expect(listed.metadata).toEqual({ namespace: NS, name: NAME, uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.any(String) });
      source.put(withFields('djI='));
      await settle();
      const watched = await store.get(NS, NAME);
      expect(watched.data).toEqual({ k: 'djI=' });
      expect(Object.keys(watched.metadata!)).not.toContain('managedFields');
    });

    it('is kept with keepManagedFields: true', async () => {
      const { source, store } = setup({ keepManagedFields: true });
      source.create(withFields('djE='));
      store.addReference(NS, NAME, 'pod');
      expect((await store.get(NS, NAME)).metadata?.managedFields).toEqual(managedFields);
      source.put(withFields('djI='));
      await settle();
      expect((await store.get(NS, NAME)).metadata?.managedFields).toEqual(managedFields);
    });
  });

  describe('immutable objects stop their reflector (TestImmutableSecretStopsTheReflector)', () => {
    const cases: Array<{ name: string; initial?: V1Secret; eventual?: V1Secret; runningAfterGet: boolean; runningAtEnd?: boolean }> = [
      { name: "secret doesn't exist, created as mutable", eventual: secret(), runningAfterGet: true, runningAtEnd: true },
      { name: "secret doesn't exist, created as immutable", eventual: secret({ immutable: true }), runningAfterGet: true, runningAtEnd: false },
      { name: 'mutable secret modified to mutable', initial: secret(), eventual: secret({ data: { k: 'djI=' } }), runningAfterGet: true, runningAtEnd: true },
      { name: 'mutable secret modified to immutable', initial: secret(), eventual: secret({ immutable: true }), runningAfterGet: true, runningAtEnd: false },
      { name: 'immutable secret', initial: secret({ immutable: true }), runningAfterGet: false },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { source, store } = setup();
        if (c.initial) source.create(c.initial);
        store.addReference(NS, NAME, 'pod');
        const first = await store.get(NS, NAME).catch((e) => e);
        if (c.initial) expect(first.immutable ?? false).toBe(c.initial.immutable ?? false);
        else expect(isNotFound(first)).toBe(true);
        expect(store.inspect(NS, NAME)?.running).toBe(c.runningAfterGet);
        if (!c.eventual) return;

        source.put(c.eventual);
        await settle();
        const eventual = await store.get(NS, NAME);
        expect([eventual.immutable ?? false, eventual.data]).toEqual([c.eventual.immutable ?? false, c.eventual.data]);
        expect(store.inspect(NS, NAME)?.running).toBe(c.runningAtEnd);
      });
    }

    it('keeps serving an immutable object after it changes or disappears upstream, and never re-watches it', async () => {
      const { source, store } = setup();
      source.create(secret({ immutable: true, data: { k: 'djE=' } }));
      store.addReference(NS, NAME, 'pod');
      await store.get(NS, NAME);
      expect(source.openWatchCount).toBe(0);
      source.remove(NS, NAME);
      await settle();
      await expect(store.get(NS, NAME)).resolves.toMatchObject({ data: { k: 'djE=' } });
      expect(source.count('list')).toBe(1);
      expect(store.inspect(NS, NAME)).toEqual({ running: false, synced: true, refs: { pod: 1 } });
    });
  });

  it('stops a reflector not read for maxIdleTime and restarts it on the next get (TestMaxIdleTimeStopsTheReflector)', async () => {
    const { clock, source, store } = setup();
    source.create(secret());
    store.addReference(NS, NAME, 'pod');
    await expect(store.get(NS, NAME)).resolves.toBeDefined();
    expect(store.inspect(NS, NAME)?.running).toBe(true);

    clock.step(90_000);
    store.recycleIdle();
    expect(store.inspect(NS, NAME)).toMatchObject({ running: false, synced: false });
    expect(source.openWatchCount).toBe(0);

    await expect(store.get(NS, NAME)).resolves.toBeDefined();
    expect(store.inspect(NS, NAME)?.running).toBe(true);

    for (let i = 0; i < 3; i++) {
      clock.step(20_000);
      await store.get(NS, NAME);
    }
    store.recycleIdle();
    expect(store.inspect(NS, NAME)?.running).toBe(true);
  });

  it('relists from the last resourceVersion when a recycled reflector restarts', async () => {
    const { clock, source, store } = setup();
    source.create(secret());
    store.addReference(NS, NAME, 'pod');
    await store.get(NS, NAME);
    const rv = source.storage.resourceVersion;
    clock.step(90_000);
    store.recycleIdle();
    source.clearActions();
    await store.get(NS, NAME);
    expect(source.actions[0]).toMatchObject({ verb: 'list', options: { resourceVersion: rv } });
  });

  it('never stops a reflector that has not finished its first list (TestReflectorNotStoppedOnSlowInitialization)', async () => {
    const { clock, source, store } = setup();
    source.create(secret());
    // The list registers its 120 s timer at T0, synchronously with addReference.
    source.onList(async () => {
      await clock.sleep(120_000);
      return undefined;
    });
    store.addReference(NS, NAME, 'pod');
    expect(source.count('list')).toBe(1);

    clock.step(90_000);
    store.recycleIdle();
    expect(store.inspect(NS, NAME)).toMatchObject({ running: true, synced: false });

    const get = store.get(NS, NAME); // last access: T0+90s
    clock.step(1_000);
    await expect(get).rejects.toThrow('failed to sync secret cache: timed out waiting for the condition');

    clock.step(29_000); // T0+120s releases the list
    await settle();
    expect(store.inspect(NS, NAME)?.synced).toBe(true);
    store.recycleIdle(); // T0+120s is not after T0+90s+60s
    expect(store.inspect(NS, NAME)?.running).toBe(true);
    await expect(store.get(NS, NAME)).resolves.toMatchObject({ metadata: { name: NAME } });
  });

  describe('reference counts per UID (TestRefMapHandlesReferencesCorrectly)', () => {
    type Step = ['add' | 'delete', string, string, string];
    const cases: Array<{ name: string; steps: Step[]; expected: number[] }> = [
      {
        name: 'adding and deleting should work',
        steps: [
          ['add', 'ns1', 'secret1', 'pod1'],
          ['add', 'ns1', 'secret1', 'pod1'],
          ['delete', 'ns1', 'secret1', 'pod1'],
          ['delete', 'ns1', 'secret1', 'pod1'],
        ],
        expected: [1, 2, 1, 0],
      },
      { name: 'deleting a non-existent reference should have no effect', steps: [['delete', 'ns1', 'secret1', 'pod1']], expected: [0] },
      {
        name: 'deleting more than adding should not lead to negative refcount',
        steps: [
          ['add', 'ns1', 'secret1', 'pod1'],
          ['delete', 'ns1', 'secret1', 'pod1'],
          ['delete', 'ns1', 'secret1', 'pod1'],
        ],
        expected: [1, 0, 0],
      },
      {
        name: 'deleting should not affect refcount of other objects or referencedFrom',
        steps: [
          ['add', 'ns1', 'secret1', 'pod1'],
          ['delete', 'ns1', 'secret1', 'pod2'],
          ['delete', 'ns1', 'secret2', 'pod1'],
          ['delete', 'ns2', 'secret1', 'pod1'],
        ],
        expected: [1, 1, 1, 1],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { store } = setup();
        c.steps.forEach(([action, ns, name, uid], i) => {
          if (action === 'add') store.addReference(ns, name, uid);
          else store.deleteReference(ns, name, uid);
          expect(store.inspect('ns1', 'secret1')?.refs.pod1 ?? 0).toBe(c.expected[i]);
        });
      });
    }

    it('a stray delete from an unknown UID does not keep the object alive (upstream records -1 here)', () => {
      const { source, store } = setup();
      store.addReference('ns1', 'secret1', 'pod1');
      store.deleteReference('ns1', 'secret1', 'pod2');
      expect(store.inspect('ns1', 'secret1')?.refs).toEqual({ pod1: 1 });
      store.deleteReference('ns1', 'secret1', 'pod1');
      expect(store.inspect('ns1', 'secret1')).toBeUndefined();
      expect(source.openWatchCount).toBe(0);
    });
  });

  describe('the sync wait', () => {
    it('resolves as soon as the first list lands, without polling', async () => {
      const { source, store } = setup();
      source.create(secret());
      const release = holdLists(source);
      store.addReference(NS, NAME, 'pod');
      let settled = false;
      const get = store.get(NS, NAME).finally(() => (settled = true));
      await settle();
      expect(settled).toBe(false);
      release();
      await expect(get).resolves.toMatchObject({ metadata: { name: NAME } });
      expect(source.count('list')).toBe(1);
    });

    it('fails with SyncTimeoutError after syncTimeout and leaves no timer behind', async () => {
      const { clock, source, store } = setup({ syncTimeout: 2_500 });
      source.onList(() => new Promise(() => {}));
      store.addReference(NS, NAME, 'pod');
      const get = store.get(NS, NAME);
      clock.step(2_499);
      await settle();
      clock.step(1);
      const err = await get.catch((e) => e);
      expect(err).toBeInstanceOf(SyncTimeoutError);
      expect(err.message).toBe('failed to sync secret cache: timed out waiting for the condition');
      expect(clock.pendingTimers()).toBe(0);
    });

    it('makes the sync timeout without a stack (it would name only the timer) and leaves other errors theirs', async () => {
      const { clock, source, store } = setup();
      source.onList(() => new Promise(() => {}));
      store.addReference(NS, NAME, 'pod');
      const get = store.get(NS, NAME);
      clock.step(1_000);
      const err = await get.catch((e) => e);
      expect(err.stack).toBe('SyncTimeoutError: failed to sync secret cache: timed out waiting for the condition');
      expect(new Error('after').stack).toMatch(/\n\s+at /);
    });

    it("carries the reflector's failure as the cause of a sync timeout (e.g. 403 Forbidden)", async () => {
      const { clock, source, store } = setup();
      source.onList(() => {
        throw new StatusError(403, 'Forbidden', 'secrets is forbidden: User "reader" cannot list resource "secrets" in the namespace "ns"');
      });
      store.addReference(NS, NAME, 'pod');
      await settle();
      const get = store.get(NS, NAME);
      clock.step(1_000);
      const err = await get.catch((e) => e);
      expect(err).toBeInstanceOf(SyncTimeoutError);
      expect(isForbidden(err.cause)).toBe(true);
    });

    it('fails with NotRegisteredError when the last reference goes while a get waits', async () => {
      const { clock, source, store } = setup();
      source.onList(() => new Promise(() => {}));
      store.addReference(NS, NAME, 'pod');
      const get = store.get(NS, NAME);
      store.deleteReference(NS, NAME, 'pod');
      await expect(get).rejects.toBeInstanceOf(NotRegisteredError);
      expect(clock.pendingTimers()).toBe(0);
    });
  });

  it('runs the idle recycler every minute on the injected clock', async () => {
    const { clock, source, store } = setup({ recycleInterval: 60_000, maxIdleTime: 120_000 });
    source.create(secret());
    store.addReference(NS, NAME, 'pod');
    await store.get(NS, NAME);
    await clock.advance(120_000); // recycler at +60 s and +120 s: not idle for *more than* 120 s yet
    expect(store.inspect(NS, NAME)?.running).toBe(true);
    await clock.advance(60_000);
    expect(store.inspect(NS, NAME)?.running).toBe(false);
    expect(source.openWatchCount).toBe(0);
  });

  it('clamps maxIdleTime to at least one minute', async () => {
    const { clock, source, store } = setup({ maxIdleTime: 1_000 });
    source.create(secret());
    store.addReference(NS, NAME, 'pod');
    await store.get(NS, NAME);
    clock.step(30_000);
    store.recycleIdle();
    expect(store.inspect(NS, NAME)?.running).toBe(true);
    clock.step(31_000);
    store.recycleIdle();
    expect(store.inspect(NS, NAME)?.running).toBe(false);
  });

  describe('changes()', () => {
    it('emits the current object, then every change, and completes when the last reference goes', async () => {
      const { source, store } = setup();
      source.create(secret({ data: { v: 'MQ==' } }));
      store.addReference(NS, NAME, 'pod');
      await store.get(NS, NAME);
      const seen: Array<string | undefined> = [];
      let completed = false;
      store.changes(NS, NAME).subscribe({ next: (s) => seen.push(s?.data?.v), complete: () => (completed = true) });
      source.put(secret({ data: { v: 'Mg==' } }));
      source.remove(NS, NAME);
      await settle();
      store.deleteReference(NS, NAME, 'pod');
      expect(seen).toStrictEqual(['MQ==', 'Mg==', undefined]);
      expect(completed).toBe(true);
    });

    it('waits for the first sync before emitting', async () => {
      const { source, store } = setup();
      source.create(secret());
      store.addReference(NS, NAME, 'pod');
      const first = await firstValueFrom(store.changes(NS, NAME));
      expect(first?.metadata?.name).toBe(NAME);
    });

    it('keeps a subscribed object from being recycled, and restarts a stopped one', async () => {
      const { clock, source, store } = setup();
      source.create(secret());
      store.addReference(NS, NAME, 'pod');
      await store.get(NS, NAME);
      clock.step(90_000);
      store.recycleIdle();
      expect(store.inspect(NS, NAME)?.running).toBe(false);

      const sub = store.changes(NS, NAME).subscribe();
      expect(store.inspect(NS, NAME)?.running).toBe(true);
      await settle();
      clock.step(10 * 60_000);
      store.recycleIdle();
      expect(store.inspect(NS, NAME)?.running).toBe(true);
      sub.unsubscribe();
      expect(store.stats().subscribers).toBe(0);
      clock.step(61_000);
      store.recycleIdle();
      expect(store.inspect(NS, NAME)?.running).toBe(false);
    });

    it('does not re-emit an unchanged object when a relist brings it back', async () => {
      const { clock, source, store } = setup();
      source.create(secret());
      store.addReference(NS, NAME, 'pod');
      const seen: string[] = [];
      store.changes(NS, NAME).subscribe((s) => seen.push(s?.data?.v ?? 'present'));
      await settle();
      source.openWatches()[0].push({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } });
      await clock.advance(2_000); // backoff, then a relist that returns the same object
      expect(source.count('list')).toBe(2);
      source.put(secret({ data: { v: 'Mw==' } }));
      await settle();
      expect(seen).toEqual(['present', 'Mw==']);
    });

    it('errors with NotRegisteredError for an object no pod references', async () => {
      const { store } = setup();
      await expect(firstValueFrom(store.changes(NS, 'nope'))).rejects.toBeInstanceOf(NotRegisteredError);
    });
  });

  describe('close()', () => {
    it('stops every reflector, watch and timer, even with a list blocked forever', async () => {
      const { clock, source, store } = setup({ recycleInterval: 60_000 });
      source.create(secret());
      for (let i = 0; i < 5; i++) store.addReference(NS, NAME, `pod-${i}`);
      store.addReference(NS, 'other', 'pod-x');
      await store.get(NS, NAME);
      source.onList(() => new Promise(() => {}));
      store.addReference(NS, 'blocked', 'pod-y');
      expect(store.stats()).toMatchObject({ objects: 3, runningReflectors: 3, activeReflectorLoops: 3 });
      expect(source.openWatchCount).toBe(2);

      await store.close();
      expect(store.stats()).toMatchObject({ runningReflectors: 0, activeReflectorLoops: 0 });
      expect(source.openWatchCount).toBe(0);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('wakes gets waiting for a sync with StoreClosedError', async () => {
      const { clock, source, store } = setup();
      source.onList(() => new Promise(() => {}));
      store.addReference(NS, NAME, 'pod');
      const get = store.get(NS, NAME);
      await store.close();
      await expect(get).rejects.toBeInstanceOf(StoreClosedError);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('starts nothing afterwards; immutable objects still answer from cache', async () => {
      const { source, store } = setup();
      source.create({ metadata: { namespace: NS, name: 'frozen' }, immutable: true });
      source.create(secret());
      store.addReference(NS, 'frozen', 'pod');
      store.addReference(NS, NAME, 'pod');
      await store.get(NS, 'frozen');
      await store.get(NS, NAME);
      await store.close();
      source.clearActions();

      store.addReference(NS, 'new', 'pod');
      await expect(store.get(NS, 'new')).rejects.toThrow('failed to sync secret cache: the store is closed');
      await expect(store.get(NS, NAME)).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.get(NS, 'frozen')).resolves.toMatchObject({ immutable: true });
      await settle();
      expect(source.actions).toEqual([]);
      expect(store.inspect(NS, 'new')).toEqual({ running: false, synced: false, refs: { pod: 1 } });
    });

    it('completes open changes() streams', async () => {
      const { source, store } = setup();
      source.create(secret());
      store.addReference(NS, NAME, 'pod');
      let completed = false;
      store.changes(NS, NAME).subscribe({ complete: () => (completed = true) });
      await store.close();
      expect(completed).toBe(true);
      expect(store.stats().subscribers).toBe(0);
    });

    it('is idempotent', async () => {
      const { store } = setup();
      store.addReference(NS, NAME, 'pod');
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });

  describe('names that would steer a request', () => {
    // RBAC roles and other resources allow such names (only path-unsafe ones are universal),
    // so the generic store escapes them; it is the secret and configmap managers that refuse
    // names a Secret cannot have.
    const widgets: ResourceType = { group: 'example.io', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
    const hostileNames: Array<[string, string]> = [
      ['a,metadata.namespace=b', 'metadata.name=a\\,metadata.namespace\\=b'],
      ['foo,metadata.name!=zzz', 'metadata.name=foo\\,metadata.name!\\=zzz'],
      ['=foo', 'metadata.name=\\=foo'],
      ['x=y', 'metadata.name=x\\=y'],
      ['trailing,', 'metadata.name=trailing\\,'],
      ['back\\slash', 'metadata.name=back\\\\slash'],
    ];

    function widgetStore() {
      const source = new MemorySource<KubeObject>(widgets);
      const store = new WatchObjectStore<KubeObject>({ source, clock: new FakeClock(), recycleInterval: 0, random: () => 0 });
      cleanups.push(() => store.close());
      // Decoys: what each unescaped selector would have matched instead.
      for (const [namespace, name] of [
        [NS, 'a'],
        ['b', 'a'],
        [NS, 'foo'],
        [NS, 'trailing'],
        [NS, 'x'],
        [NS, 'zzz'],
      ]) {
        source.create({ metadata: { namespace, name } });
      }
      return { source, store };
    }

    for (const [name, selector] of hostileNames) {
      it(`pins the reflector for ${JSON.stringify(name)} to exactly that name with an escaped selector`, async () => {
        const { source, store } = widgetStore();
        source.create({ metadata: { namespace: NS, name }, spec: { mine: true } } as KubeObject);
        store.addReference(NS, name, 'pod');
        await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name }, spec: { mine: true } });
        expect(source.actions.map((a) => [a.verb, a.namespace, a.options.fieldSelector])).toEqual([
          ['list', NS, selector],
          ['watch', NS, selector],
        ]);
      });
    }

    it('sends the escaped selector over HTTP exactly as written, and the API server finds the one object', async () => {
      const server = await ApiServer.start({ tls: false, resources: [widgets] });
      cleanups.push(() => server.stop());
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: server.url, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const client = new KubeClient(kc);
      cleanups.push(() => client.close());
      const store = new WatchObjectStore<KubeObject>({ source: client.source(widgets), recycleInterval: 0 });
      cleanups.push(() => store.close());
      for (const [name] of hostileNames) server.storage.create(widgets, { metadata: { namespace: NS, name } });
      for (const name of ['a', 'foo', 'trailing', 'x', 'zzz']) server.storage.create(widgets, { metadata: { namespace: NS, name } });
      for (const [name] of hostileNames) store.addReference(NS, name, 'pod');
      for (const [name] of hostileNames) await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name } });
      // The first sync is one WatchList watch per object (the embedded server serves WatchList).
      const seen = server.requests.filter((r) => r.verb === 'watch' && r.sendInitialEvents).map((r) => [r.fieldSelector, r.code]);
      expect(seen.sort()).toEqual(hostileNames.map(([, selector]) => [selector, 200]).sort());
    });

    const unsafe: Array<[string, string, string]> = [
      ['a secret named ".."', NS, '..'],
      ['a secret named "."', NS, '.'],
      ['a name with a slash', NS, 'b/c'],
      ['the namespace ".."', '..', 'x'],
      ['a namespace with a slash', 'a/b', 'c'],
      ['an empty name', NS, ''],
    ];
    for (const [what, namespace, name] of unsafe) {
      it(`never lists or watches for ${what}, counts its references, and fails its reads with InvalidNameError`, async () => {
        const { source, store } = setup();
        store.addReference(namespace, name, 'pod');
        store.addReference(NS, NAME, 'pod');
        await settle();
        expect(source.actions.map((a) => [a.verb, a.namespace, a.options.fieldSelector])).toEqual([
          ['list', NS, `metadata.name=${NAME}`],
          ['watch', NS, `metadata.name=${NAME}`],
        ]);
        await expect(store.get(namespace, name)).rejects.toThrow(InvalidNameError);
        const err = await firstValueFrom(store.changes(namespace, name)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidNameError);
        expect(store.inspect(namespace, name)).toEqual({ running: false, synced: false, refs: { pod: 1 } });
        store.deleteReference(namespace, name, 'pod');
        expect(store.stats()).toMatchObject({ objects: 1, references: 1, runningReflectors: 1 });
        expect(source.actions).toHaveLength(2);
      });
    }
  });

  it('ignores objects a server sends for another name (a selector not applied) and counts them in stats()', async () => {
    const { source, store } = setup();
    source.onList(async () => ({ metadata: { resourceVersion: '5' }, items: [{ metadata: { namespace: NS, name: 'someone-else', resourceVersion: '4' } }, secret()] }));
    store.addReference(NS, NAME, 'pod');
    await expect(store.get(NS, NAME)).resolves.toMatchObject({ metadata: { name: NAME } });
    expect(store.stats()).toMatchObject({ objects: 1, foreignObjects: 1 });
  });

  it('keeps "a/b" + "c" and "a" + "b/c" apart: their references never mix', () => {
    const { store } = setup();
    store.addReference('a', 'b/c', 'pod-in-a');
    store.addReference('a/b', 'c', 'pod-in-a-b');
    expect(store.inspect('a', 'b/c')?.refs).toEqual({ 'pod-in-a': 1 });
    expect(store.inspect('a/b', 'c')?.refs).toEqual({ 'pod-in-a-b': 1 });
    store.deleteReference('a/b', 'c', 'pod-in-a-b');
    expect(store.inspect('a/b', 'c')).toBeUndefined();
    expect(store.stats()).toMatchObject({ objects: 1, references: 1 });
  });

  it('a get whose signal aborts while the first list is pending rejects with AbortError; the object stays registered and the list goes on', async () => {
    const { clock, source, store } = setup({ syncTimeout: 5_000 });
    source.create(secret({ data: { k: 'v1' } }));
    const release = holdLists(source);
    store.addReference(NS, NAME, 'pod');
    const controller = new AbortController();
    const waiting = store.get(NS, NAME, { signal: controller.signal });
    const other = store.get(NS, NAME);
    await settle();
    controller.abort();
    const err = await waiting.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(store.inspect(NS, NAME)).toEqual({ running: true, synced: false, refs: { pod: 1 } });
    release();
    await settle();
    await expect(other).resolves.toMatchObject({ data: { k: 'v1' } });
    await expect(store.get(NS, NAME)).resolves.toMatchObject({ data: { k: 'v1' } });
    // The aborted get's sync timer went with it: running the clock past it rejects nothing.
    await clock.advance(10_000);
    expect(source.count('list')).toBe(1);
  });

  it('a get with an already aborted signal rejects at once and starts nothing', async () => {
    const { source, store } = setup();
    store.addReference(NS, NAME, 'pod');
    await settle();
    const lists = source.count('list');
    const err = await store.get(NS, NAME, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(source.count('list')).toBe(lists);
    expect(store.stats()).toMatchObject({ objects: 1, references: 1 });
  });

  it('closes at the end of an `await using` block, also when the block throws: no watch, loop or timer left', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create(secret());
    await expectAwaitUsingCloses(
      () => new WatchObjectStore<V1Secret>({ source, clock }),
      async (store) => {
        await settle();
        return source.openWatchCount === 0 && store.stats().activeReflectorLoops === 0 && clock.pendingTimers() === 0;
      },
      async (store) => {
        store.addReference(NS, NAME, 'pod');
        await store.get(NS, NAME);
      },
    );
  });
});
