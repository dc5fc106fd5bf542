// Ports pkg/kubelet/util/manager/cache_based_manager_test.go (A1–A5 of the reference) for the
// TTL store, plus the store's own rules: refresh with RV "0", older objects, errors.
import { describe, expect, it } from '@jest/globals';
import type { V1Secret } from '@kubernetes/client-node';
import { StatusError, isNotFound } from '../../lib/api/errors.js';
import { InvalidNameError } from '../../lib/api/names.js';
import { resources } from '../../lib/api/resource.js';
import { NotRegisteredError } from '../../lib/manager/errors.js';
import { TtlObjectStore } from '../../lib/manager/ttl-object-store.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { isAbortError } from '../../lib/util/abort.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';

/** A source whose get answers an empty Secret, like client-go's zero-value fake clientset. */
function emptySecretSource(): MemorySource<V1Secret> {
  return new MemorySource<V1Secret>(resources.secrets).onGet(() => ({}));
}

function storeOver(source: MemorySource<V1Secret>, opts: { clock?: FakeClock; ttl: number; getTtl?: () => [number, boolean] }) {
  return new TtlObjectStore<V1Secret>({
    getObject: (ns, name, o) => source.get(ns, name, o),
    ttl: opts.ttl,
    getTtl: opts.getTtl,
    clock: opts.clock ?? new FakeClock(),
  });
}

async function expectRegistered(store: TtlObjectStore<V1Secret>, ns: string, name: string, shouldExist: boolean) {
  if (shouldExist) await expect(store.get(ns, name)).resolves.toBeDefined();
  else await expect(store.get(ns, name)).rejects.toThrow(`object "${ns}"/"${name}" not registered`);
}

describe('TtlObjectStore', () => {
  it('counts references without fetching, fetches on get, and forgets objects at zero (TestSecretStore)', async () => {
    const source = emptySecretSource();
    const store = storeOver(source, { ttl: 0 });
    store.addReference('ns1', 'name1', 'pod1');
    store.addReference('ns2', 'name2', 'pod2');
    store.addReference('ns1', 'name1', 'pod3');
    store.addReference('ns1', 'name1', 'pod4');
    store.deleteReference('ns1', 'name1', 'pod1');
    store.deleteReference('ns2', 'name2', 'pod2');
    store.addReference('ns3', 'name3', 'pod5');
    expect(source.actions).toHaveLength(0);

    await store.get('ns1', 'name1');
    await expect(store.get('ns2', 'name2')).rejects.toBeInstanceOf(NotRegisteredError);
    await store.get('ns3', 'name3');
    expect(source.actions.map((a) => [a.verb, a.namespace, a.name])).toEqual([
      ['get', 'ns1', 'name1'],
      ['get', 'ns3', 'name3'],
    ]);
    expect(store.referenceCount('ns1', 'name1')).toBe(2); // the UID is ignored: a plain count

    await expectRegistered(store, 'ns1', 'name1', true);
    await expectRegistered(store, 'ns2', 'name2', false);
    await expectRegistered(store, 'ns3', 'name3', true);
    await expectRegistered(store, 'ns4', 'name4', false);
  });

  it('caches a NotFound and reports it (TestSecretStoreDeletingSecret)', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    const store = storeOver(source, { ttl: 0 });
    store.addReference('ns', 'name', 'pod');
    const secret = { metadata: { namespace: 'ns', name: 'name', resourceVersion: '10' } };
    source.onGet(() => secret);
    await expect(store.get('ns', 'name')).resolves.toEqual(secret);

    source.onGet(() => {
      throw new StatusError(404, 'NotFound', 'secrets "name" not found');
    });
    const err = await store.get('ns', 'name').catch((e) => e);
    expect(isNotFound(err)).toBe(true);
  });

  it('with TTL 0 every sequential get fetches (TestSecretStoreGetAlwaysRefresh)', async () => {
    const source = emptySecretSource();
    const store = storeOver(source, { ttl: 0 });
    for (let i = 0; i < 10; i++) store.addReference(`ns-${i}`, `name-${i}`, `pod-${i}`);
    for (let i = 0; i < 100; i++) await store.get(`ns-${i % 10}`, `name-${i % 10}`);
    expect(source.count('get')).toBe(100);
  });

  it('concurrent gets of one object share one fetch, even with TTL 0 (differs from upstream: it serialises them)', async () => {
    const source = emptySecretSource();
    const store = storeOver(source, { ttl: 0 });
    for (let i = 0; i < 10; i++) store.addReference(`ns-${i}`, `name-${i}`, `pod-${i}`);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(`ns-${i % 10}`, `name-${i % 10}`)));
    expect(results).toHaveLength(100);
    expect(source.count('get')).toBe(10);
  });

  it('with a TTL the first get per object fetches and the rest are served from cache (TestSecretStoreGetNeverRefresh)', async () => {
    const source = emptySecretSource();
    const store = storeOver(source, { ttl: 60_000 });
    for (let i = 0; i < 10; i++) store.addReference(`ns-${i}`, `name-${i}`, `pod-${i}`);
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(`ns-${i % 10}`, `name-${i % 10}`)));
    for (let i = 0; i < 100; i++) await store.get(`ns-${i % 10}`, `name-${i % 10}`);
    expect(source.count('get')).toBe(10);
  });

  it('takes the TTL from getTtl when it answers, the default otherwise, and "fresh" is strictly before expiry (TestCustomTTL)', async () => {
    const clock = new FakeClock();
    const source = emptySecretSource();
    let ttl = 0;
    let ttlExists = false;
    const store = storeOver(source, { clock, ttl: 60_000, getTtl: () => [ttl, ttlExists] });
    const getsAfter = async () => {
      source.clearActions();
      await store.get('ns', 'name');
      return source.count('get');
    };

    store.addReference('ns', 'name', 'pod');
    await store.get('ns', 'name'); // fetched at T0

    ttl = 0;
    ttlExists = true;
    expect(await getsAfter()).toBe(1); // last update now T0

    ttl = 5 * 60_000;
    expect(await getsAfter()).toBe(0);
    clock.step(4 * 60_000);
    expect(await getsAfter()).toBe(0);
    clock.step(60_000); // T0+5m: no longer strictly before expiry
    expect(await getsAfter()).toBe(1); // last update now T0+5m

    ttlExists = false; // default 1 minute applies
    clock.step(55_000);
    expect(await getsAfter()).toBe(0);
    clock.step(5_000);
    expect(await getsAfter()).toBe(1);
  });

  it('addReference invalidates the cached object, so a new pod never sees data older than itself', async () => {
    const source = emptySecretSource();
    const store = storeOver(source, { ttl: 60_000 });
    store.addReference('ns', 's', 'pod1');
    await store.get('ns', 's');
    await store.get('ns', 's');
    expect(source.count('get')).toBe(1);
    store.addReference('ns', 's', 'pod2');
    await store.get('ns', 's');
    expect(source.count('get')).toBe(2);
  });

  it('a first fetch is a quorum read and a refresh of a fetched object reads with resourceVersion "0"', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { namespace: 'ns', name: 's' } });
    const store = storeOver(source, { clock, ttl: 1_000 });
    store.addReference('ns', 's', 'pod');
    await store.get('ns', 's');
    clock.step(1_000);
    await store.get('ns', 's');
    expect(source.actions.map((a) => a.options.resourceVersion)).toStrictEqual([undefined, '0']);
  });

  it('a refetch after an error is a quorum read again', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    const store = storeOver(source, { ttl: 60_000 });
    store.addReference('ns', 's', 'pod');
    await expect(store.get('ns', 's')).rejects.toThrow('secrets "s" not found'); // NotFound is cached...
    source.create({ metadata: { namespace: 'ns', name: 's' } });
    await expect(store.get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } }); // ...and re-checked on every get
    expect(source.actions.map((a) => a.options.resourceVersion)).toStrictEqual([undefined, undefined]);
  });

  it('never replaces a cached object with an older one fetched later', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    const store = storeOver(source, { clock, ttl: 1_000 });
    store.addReference('ns', 's', 'pod');
    source.onGet(() => ({ metadata: { name: 's', resourceVersion: '20' }, data: { v: 'new' } }));
    await store.get('ns', 's');
    source.onGet(() => ({ metadata: { name: 's', resourceVersion: '10' }, data: { v: 'old' } }));
    clock.step(1_000);
    await expect(store.get('ns', 's')).resolves.toMatchObject({ data: { v: 'new' } });
    // The stale answer did not refresh the timestamp, so the next get asks again.
    await store.get('ns', 's');
    expect(source.count('get')).toBe(3);
  });

  it('returns a first-fetch error without caching it, so the next get retries (TestCacheInvalidation tail)', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    const store = storeOver(source, { ttl: 60_000 });
    store.addReference('ns', 's', 'pod');
    source.onGet(() => {
      throw new StatusError(410, 'Expired', 'expired');
    });
    await expect(store.get('ns', 's')).rejects.toThrow('expired');
    source.clearReactors();
    source.create({ metadata: { namespace: 'ns', name: 's' } });
    await expect(store.get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
  });

  it('serves the cached object when a refresh fails transiently', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { namespace: 'ns', name: 's' }, data: { k: 'dg==' } });
    const store = storeOver(source, { clock, ttl: 1_000 });
    store.addReference('ns', 's', 'pod');
    await store.get('ns', 's');
    source.onGet(() => {
      throw new StatusError(500, 'InternalError', 'etcd is down');
    });
    clock.step(1_000);
    await expect(store.get('ns', 's')).resolves.toMatchObject({ data: { k: 'dg==' } });
  });

  it('deleteReference of an unknown object is a no-op and counts never go negative', async () => {
    const store = storeOver(emptySecretSource(), { ttl: 0 });
    store.deleteReference('ns', 'missing', 'pod');
    store.addReference('ns', 's', 'pod');
    store.deleteReference('ns', 's', 'pod');
    store.deleteReference('ns', 's', 'pod');
    expect(store.referenceCount('ns', 's')).toBe(0);
    expect(store.stats().objects).toBe(0);
  });

  for (const [namespace, name] of [
    ['ns', '..'],
    ['ns', '.'],
    ['ns', 'a/b'],
    ['..', 's'],
    ['a/b', 'c'],
  ]) {
    it(`refuses ${JSON.stringify(namespace)}/${JSON.stringify(name)} with InvalidNameError without calling getObject`, async () => {
      const source = emptySecretSource();
      const store = storeOver(source, { ttl: 0 });
      store.addReference(namespace, name, 'pod');
      await expect(store.get(namespace, name)).rejects.toThrow(InvalidNameError);
      expect(source.actions).toEqual([]);
      expect(store.referenceCount(namespace, name)).toBe(1);
    });
  }

  it('keeps "a/b" + "c" and "a" + "b/c" apart: their counts never mix', () => {
    const store = storeOver(emptySecretSource(), { ttl: 0 });
    store.addReference('a', 'b/c', 'p1');
    store.addReference('a/b', 'c', 'p2');
    store.addReference('a/b', 'c', 'p3');
    expect([store.referenceCount('a', 'b/c'), store.referenceCount('a/b', 'c'), store.stats().objects]).toEqual([1, 2, 2]);
  });

  it('a get whose signal aborts during the fetch rejects with AbortError; the fetch still lands in the cache for the next get', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { namespace: 'ns', name: 's' }, data: { k: 'v1' } });
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    source.onGet(async () => {
      await answered;
      return undefined;
    });
    const store = storeOver(source, { ttl: 60_000 });
    store.addReference('ns', 's', 'pod');
    const controller = new AbortController();
    const waiting = store.get('ns', 's', { signal: controller.signal });
    controller.abort();
    expect(isAbortError(await waiting.catch((e: unknown) => e))).toBe(true);
    expect(store.referenceCount('ns', 's')).toBe(1);
    release();
    await expect(store.get('ns', 's')).resolves.toMatchObject({ data: { k: 'v1' } });
    await expect(store.get('ns', 's')).resolves.toMatchObject({ data: { k: 'v1' } });
    expect(source.count('get')).toBe(1); // the aborted get's fetch was shared, then cached
  });

  it('runs close() at the end of an `await using` block, also when the block throws', async () => {
    let closes = 0;
    await expectAwaitUsingCloses(
      () => {
        const store = storeOver(emptySecretSource(), { ttl: 0 });
        const close = store.close.bind(store);
        store.close = () => (closes++, close());
        return store;
      },
      () => closes > 0,
      async (store) => {
        store.addReference('ns', 's', 'pod');
        await store.get('ns', 's');
        closes = 0; // each block counts its own store's close
      },
    );
  });
});
