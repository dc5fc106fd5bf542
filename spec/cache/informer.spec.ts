// The Informer's contract: a list then watch into an indexed store, reads from memory,
// events after the store changed (relists included), frozen objects, the owned and external
// lifecycles, health on the injected clock, and a close() that leaves nothing running. Most
// cases run on a MemorySource; the last block runs through the real transport against the
// embedded API server.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { StatusError, isForbidden, newExpired } from '../../lib/api/errors.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources, type ResourceType } from '../../lib/api/resource.js';
import { IndexNotFoundError } from '../../lib/cache/indexer.js';
import { Informer, InformerClosedError, InformerSyncAbortedError, WATCH_ERROR_SETTLE, type InformerEvent, type InformerOptions } from '../../lib/cache/informer.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import type { LogFields } from '../../lib/util/logger.js';
import { until, untilIo } from '../faults/harness.js';

const widgets: ResourceType = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };

interface Widget extends KubeObject {
  metadata: { namespace: string; name: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string };
  spec?: { color?: string; tags?: string[] };
}

function widget(namespace: string, name: string, color = 'red', tags: string[] = []): Widget {
  return { metadata: { namespace, name }, spec: { color, tags } };
}

const byColor = (w: Widget) => (w.spec?.color ? [w.spec.color] : []);
const byTag = (w: Widget) => w.spec?.tags ?? [];

const informers: Informer<Widget>[] = [];

function setup(opts: Partial<InformerOptions<Widget>> = {}) {
  const clock = new FakeClock(1_000_000);
  const source = new MemorySource<Widget>(widgets);
  const warnings: Array<[string, LogFields | undefined]> = [];
  const informer = new Informer<Widget>({
    source,
    clock,
    indexers: { color: byColor, tag: byTag },
    random: () => 0,
    logger: { debug() {}, warn: (msg, fields) => warnings.push([msg, fields]) },
    ...opts,
  });
  informers.push(informer);
  const events: InformerEvent<Widget>[] = [];
  return { clock, source, informer, events, warnings, record: () => informer.events().subscribe((e) => events.push(e)) };
}

async function started(s: ReturnType<typeof setup>) {
  s.informer.start();
  await s.informer.synced();
  await settle();
  return s;
}

afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.close()));
});

describe('Informer reads', () => {
  it('lists once, then answers get and list from memory', async () => {
    const s = setup();
    s.source.create(widget('a', 'w1'));
    s.source.create(widget('b', 'w2', 'blue'));
    await started(s);
    expect(s.informer.get('a', 'w1')?.spec?.color).toBe('red');
    expect(s.informer.get('a', 'w2')).toBeUndefined();
    expect(
      s.informer
        .list()
        .map((w) => w.metadata.name)
        .sort(),
    ).toEqual(['w1', 'w2']);
    expect(s.informer.list({ namespace: 'b' }).map((w) => w.metadata.name)).toEqual(['w2']);
    expect(s.informer.list({ namespace: '' })).toHaveLength(2);
    expect(s.informer.list({ namespace: 'c' })).toEqual([]);
    const lists = s.source.count('list');
    s.informer.get('a', 'w1');
    s.informer.list({ index: { name: 'color', value: 'red' } });
    expect(s.source.count('list')).toBe(lists);
    expect(s.source.count('get')).toBe(0);
  });

  it('stores objects without metadata.managedFields unless keepManagedFields is set', async () => {
    const managedFields = [{ manager: 'kubectl', operation: 'Update' }];
    for (const keep of [false, true]) {
      const s = setup({ keepManagedFields: keep });
      s.source.create({ ...widget('a', 'w1'), metadata: { ...widget('a', 'w1').metadata, managedFields } } as Widget);
      await started(s);
      expect((s.informer.get('a', 'w1')?.metadata as { managedFields?: unknown }).managedFields).toEqual(keep ? managedFields : undefined);
    }
  });

  it('lists and watches one namespace with the selectors it was given', async () => {
    const s = setup({ namespace: 'team-a', labelSelector: 'app=x', fieldSelector: 'metadata.name!=skip' });
    await started(s);
    const calls = s.source.actions.map((a) => [a.verb, a.namespace, a.options.labelSelector, a.options.fieldSelector]);
    expect(calls).toEqual([
      ['list', 'team-a', 'app=x', 'metadata.name!=skip'],
      ['watch', 'team-a', 'app=x', 'metadata.name!=skip'],
    ]);
    expect(s.informer.namespace).toBe('team-a');
  });

  it('keeps index -> value -> keys current through adds, updates, deletes and a relist', async () => {
    const s = setup();
    s.source.onWatch(() => true); // the test pushes watch events itself
    s.source.create(widget('a', 'w1', 'red', ['x', 'y']));
    s.source.create(widget('b', 'w2', 'red'));
    await started(s);
    const names = (opts: Parameters<Informer<Widget>['list']>[0]) =>
      s.informer
        .list(opts)
        .map((w) => `${w.metadata.namespace}/${w.metadata.name}`)
        .sort();
    expect(names({ index: { name: 'color', value: 'red' } })).toEqual(['a/w1', 'b/w2']);
    expect(names({ index: { name: 'tag', value: 'y' } })).toEqual(['a/w1']);
    expect(names({ namespace: 'b', index: { name: 'color', value: 'red' } })).toEqual(['b/w2']);
    expect(s.informer.list({ index: { name: 'color', value: 'red' }, limit: 1 })).toHaveLength(1);

    const [watch] = s.source.openWatches();
    watch.push({ type: 'MODIFIED', object: { ...widget('a', 'w1', 'blue', ['y']), metadata: { namespace: 'a', name: 'w1', resourceVersion: '2000' } } });
    watch.push({ type: 'ADDED', object: { ...widget('a', 'w3', 'red'), metadata: { namespace: 'a', name: 'w3', resourceVersion: '2001' } } });
    watch.push({ type: 'DELETED', object: { ...widget('b', 'w2', 'red'), metadata: { namespace: 'b', name: 'w2', resourceVersion: '2002' } } });
    await settle();
    expect(names({ index: { name: 'color', value: 'red' } })).toEqual(['a/w3']);
    expect(names({ index: { name: 'color', value: 'blue' } })).toEqual(['a/w1']);
    expect(names({ index: { name: 'tag', value: 'x' } })).toEqual([]);
    expect(s.informer.indexValues('color').sort()).toEqual(['blue', 'red']);
    expect(names({ namespace: 'b' })).toEqual([]);
  });

  it('refuses an index that was not registered', async () => {
    const s = await started(setup());
    expect(() => s.informer.list({ index: { name: 'size', value: 'x' } })).toThrow(IndexNotFoundError);
    expect(() => s.informer.list({ index: { name: 'size', value: 'x' } })).toThrow('index with name size does not exist');
  });

  it('stores an object whose index function throws, leaves it out of that index, and warns', async () => {
    const s = setup({ indexers: { color: byColor, broken: (w) => (w.metadata.name === 'bad' ? (null as unknown as string[]).slice() : ['ok']) } });
    s.source.create(widget('a', 'bad'));
    s.source.create(widget('a', 'good'));
    await started(s);
    expect(s.informer.get('a', 'bad')).toBeDefined();
    expect(s.informer.list({ index: { name: 'color', value: 'red' } })).toHaveLength(2);
    expect(s.informer.list({ index: { name: 'broken', value: 'ok' } }).map((w) => w.metadata.name)).toEqual(['good']);
    expect(s.warnings).toEqual([['index function failed; object left out of that index', expect.objectContaining({ index: 'broken', object: 'a/bad' })]]);
  });

  it('hands out deep-frozen cached objects in tests: a mutation throws instead of corrupting the cache', async () => {
    const s = setup();
    s.source.create(widget('a', 'w1', 'red', ['x']));
    await started(s);
    const w = s.informer.get('a', 'w1')!;
    expect(s.informer.get('a', 'w1')).toBe(w);
    expect(Object.isFrozen(w) && Object.isFrozen(w.spec) && Object.isFrozen(w.spec!.tags)).toBe(true);
    expect(() => {
      w.spec!.color = 'blue';
    }).toThrow(TypeError);
    const copy = structuredClone(w);
    copy.spec!.color = 'blue';
    expect(s.informer.get('a', 'w1')!.spec!.color).toBe('red');
  });

  it('does not freeze with freeze: false', async () => {
    const s = setup({ freeze: false });
    s.source.create(widget('a', 'w1'));
    await started(s);
    expect(Object.isFrozen(s.informer.get('a', 'w1'))).toBe(false);
  });

  it('fills in apiVersion and kind on list items that come without them (built-in kinds)', async () => {
    const s = setup();
    s.source.onList(async () => ({ metadata: { resourceVersion: '5' }, items: [widget('a', 'w1')] }));
    await started(s);
    expect(s.informer.get('a', 'w1')).toMatchObject({ apiVersion: 'example.com/v1', kind: 'Widget' });
  });
});

describe('Informer events', () => {
  it('reports adds, updates with the previous object, and deletes after the first sync, not the initial list', async () => {
    const s = setup();
    s.source.create(widget('a', 'w1'));
    s.record();
    await started(s);
    expect(s.events).toEqual([]);
    s.source.create(widget('a', 'w2'));
    s.source.put({ ...widget('a', 'w1', 'blue') });
    s.source.remove('a', 'w2');
    await settle();
    expect(s.events.map((e) => [e.type, e.object.metadata.name, e.object.spec?.color, e.previous?.spec?.color])).toEqual([
      ['ADDED', 'w2', 'red', undefined],
      ['MODIFIED', 'w1', 'blue', 'red'],
      ['DELETED', 'w2', 'red', 'red'],
    ]);
    expect(s.events.every((e) => e.finalStateUnknown === undefined)).toBe(true);
  });

  it('emits after the store changed: a subscriber reading the informer sees the new state', async () => {
    const s = await started(setup());
    const seen: Array<string | undefined> = [];
    s.informer.events().subscribe((e) => seen.push(s.informer.get('a', e.object.metadata.name)?.spec?.color ?? 'absent'));
    s.source.create(widget('a', 'w1', 'green'));
    s.source.remove('a', 'w1');
    await settle();
    expect(seen).toEqual(['green', 'absent']);
  });

  it('is cold per subscriber, and unsubscribing removes the listener', async () => {
    const s = await started(setup());
    const a: string[] = [];
    const b: string[] = [];
    const subA = s.informer.events().subscribe((e) => a.push(e.object.metadata.name));
    const subB = s.informer.events().subscribe((e) => b.push(e.object.metadata.name));
    expect(s.informer.stats().subscribers).toBe(2);
    s.source.create(widget('a', 'w1'));
    await settle();
    subA.unsubscribe();
    expect(s.informer.stats().subscribers).toBe(1);
    s.source.create(widget('a', 'w2'));
    await settle();
    expect([a, b]).toEqual([['w1'], ['w1', 'w2']]);
    subB.unsubscribe();
    expect(s.informer.stats().subscribers).toBe(0);
  });

  it('after a relist, reports what changed while the watch was down: DELETED with finalStateUnknown for objects gone, ADDED and MODIFIED for the rest', async () => {
    const s = setup();
    s.source.onWatch(() => true); // watches see nothing by themselves: only a relist can
    for (const name of ['keep', 'change', 'gone']) s.source.create(widget('a', name));
    s.record();
    await started(s);
    const kept = s.informer.get('a', 'keep');
    s.source.put(widget('a', 'change', 'blue'));
    s.source.remove('a', 'gone');
    s.source.create(widget('a', 'new'));
    s.source.openWatches()[0].fail(newExpired('too old resource version'));
    await until(() => s.informer.get('a', 'new') !== undefined, { clock: s.clock, what: 'relist' });
    expect(s.events.map((e) => [e.type, e.object.metadata.name, e.finalStateUnknown ?? false]).sort()).toEqual([
      ['ADDED', 'new', false],
      ['DELETED', 'gone', true],
      ['MODIFIED', 'change', false],
    ]);
    const deleted = s.events.find((e) => e.type === 'DELETED')!;
    expect(deleted.object.spec?.color).toBe('red'); // the last state seen
    expect(s.informer.get('a', 'keep')).toBe(kept); // unchanged: same reference, no event
    expect(s.informer.get('a', 'gone')).toBeUndefined();
  });

  it('completes every subscription on close, and completes a subscription made after close at once', async () => {
    const s = await started(setup());
    let completed = 0;
    s.informer.events().subscribe({ complete: () => completed++ });
    await s.informer.close();
    expect(completed).toBe(1);
    s.informer.events().subscribe({ complete: () => completed++ });
    expect(completed).toBe(2);
    expect(s.informer.stats().subscribers).toBe(0);
  });
});

describe('Informer lifecycle', () => {
  it('synced() resolves after the first list and does not start the informer (an external owner does)', async () => {
    const s = setup();
    let synced = false;
    void s.informer.synced().then(() => (synced = true));
    await settle();
    expect([synced, s.source.count('list')]).toEqual([false, 0]);
    s.informer.start();
    s.informer.start(); // idempotent
    await settle();
    expect([synced, s.informer.hasSynced, s.source.count('list')]).toEqual([true, true, 1]);
    await expect(s.informer.synced()).resolves.toBeUndefined();
  });

  it("synced(signal) rejects when the signal aborts first, with the reflector's failure (a 403) as the cause", async () => {
    const s = setup();
    const forbidden = new StatusError(403, 'Forbidden', 'widgets.example.com is forbidden: User "reader" cannot list resource "widgets"');
    s.source.onList(async () => {
      throw forbidden;
    });
    s.informer.start();
    const ac = new AbortController();
    const waiting = s.informer.synced(ac.signal).catch((e) => e);
    await settle();
    ac.abort();
    const err = await waiting;
    expect(err).toBeInstanceOf(InformerSyncAbortedError);
    expect(err.message).toBe('timed out waiting for caches to sync (widgets.example.com)');
    expect(isForbidden(err.cause)).toBe(true);
    await expect(s.informer.synced(AbortSignal.abort('gave up'))).rejects.toBeInstanceOf(InformerSyncAbortedError);
  });

  it('close() rejects pending synced() calls, stops the loop while the first list is in flight, and leaves no timer or watch', async () => {
    const s = setup();
    s.source.onList(() => new Promise(() => {})); // never answers
    s.informer.start();
    const waiting = s.informer.synced().catch((e) => e);
    await settle();
    expect(s.informer.stats().running).toBe(true);
    await Promise.all([s.informer.close(), s.informer.close()]);
    expect(await waiting).toBeInstanceOf(InformerClosedError);
    expect(s.informer.stats().running).toBe(false);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.source.openWatchCount).toBe(0);
  });

  it('refuses every use after close', async () => {
    const s = await started(setup());
    await s.informer.close();
    expect(() => s.informer.get('a', 'x')).toThrow(InformerClosedError);
    expect(() => s.informer.list()).toThrow('informer for widgets.example.com is closed');
    expect(() => s.informer.start()).toThrow(InformerClosedError);
    await expect(s.informer.synced()).resolves.toBeUndefined(); // it did sync before
  });

  it('closes with `await using` (Symbol.asyncDispose)', async () => {
    const s = setup();
    {
      await using informer = s.informer;
      informer.start();
      await informer.synced();
    }
    expect(s.informer.stats().running).toBe(false);
    expect(s.source.openWatchCount).toBe(0);
  });
});

describe('Informer health', () => {
  it('is unhealthy until synced, then unhealthy for 2 minutes after a watch error, on the injected clock', async () => {
    const s = setup();
    expect(s.informer.health()).toEqual({ synced: false, healthy: false });
    s.source.onWatch(() => true);
    await started(s);
    expect(s.informer.health()).toEqual({ synced: true, healthy: true });
    const cut = new StatusError(500, 'InternalError', 'watch broke');
    s.source.openWatches()[0].fail(cut);
    await settle();
    const failedAt = s.clock.now();
    expect(s.informer.health()).toEqual({ synced: true, healthy: false, lastError: cut, lastErrorAt: failedAt });
    // The reflector relists and watches again meanwhile; health stays down for the window.
    await until(() => s.source.openWatchCount === 1, { clock: s.clock, what: 'rewatch' });
    await s.clock.advance(failedAt + WATCH_ERROR_SETTLE - 1 - s.clock.now());
    expect(s.informer.health().healthy).toBe(false);
    await s.clock.advance(1);
    expect(s.informer.health()).toMatchObject({ synced: true, healthy: true, lastError: cut });
    expect(WATCH_ERROR_SETTLE).toBe(120_000);
  });

  it('is unhealthy after close', async () => {
    const s = await started(setup());
    await s.informer.close();
    expect(s.informer.health().healthy).toBe(false);
  });
});

describe('Informer on the embedded API server', () => {
  it('syncs over HTTP, sees writes, relists after a failed re-watch, and closes every stream', async () => {
    const clock = new FakeClock(1_000_000);
    const server = await ApiServer.start({ clock });
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    const client = new KubeClient(kc, { clock });
    const writer = new ObjectWriter<KubeObject>(client, resources.configMaps);
    try {
      for (const name of ['c1', 'c2']) server.storage.create(resources.configMaps, { metadata: { name }, data: { v: '1' } } as KubeObject, 'ns');
      const informer = new Informer<KubeObject & { data?: Record<string, string> }>({
        source: client.source(resources.configMaps),
        namespace: 'ns',
        clock,
        random: () => 0,
        indexers: { v: (cm) => [cm.data?.v ?? ''] },
      });
      const events: string[] = [];
      informer.events().subscribe((e) => events.push(`${e.type} ${e.object.metadata?.name}${e.finalStateUnknown ? ' (final state unknown)' : ''}`));
      informer.start();
      await until(() => informer.hasSynced && server.openWatches === 1, { clock, what: 'sync', busy: () => client.stats().activeStreams !== server.openWatches });
      expect(informer.get('ns', 'c1')).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });

      await writer.patch('ns', 'c1', { data: { v: '2' } });
      await until(() => informer.list({ index: { name: 'v', value: '2' } }).length === 1, { clock, what: 'update seen' });

      // The next watch fails; meanwhile c2 is deleted behind the informer's back.
      await clock.advance(5_000);
      server.faults.failNext(1, { code: 500, verbs: ['watch'] });
      server.faults.dropWatches();
      server.storage.delete(resources.configMaps, 'ns', 'c2');
      await until(() => informer.get('ns', 'c2') === undefined && server.openWatches === 1, {
        clock,
        what: 'relist',
        busy: () => client.stats().activeStreams !== server.openWatches,
      });
      expect(events).toEqual(['MODIFIED c1', 'DELETED c2 (final state unknown)']);
      expect(informer.health().healthy).toBe(false);

      await informer.close();
      await untilIo(() => server.openWatches === 0, 'watch closed on the server');
      expect(informer.stats()).toMatchObject({ running: false, subscribers: 0 });
      expect(server.storage.watchCount).toBe(0);
    } finally {
      await client.close();
      await server.stop();
    }
    expect(clock.pendingTimers()).toBe(0);
  });
});
