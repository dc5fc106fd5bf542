// The Reflector's WatchList path (client-go's watchList and its fallbacks), one `it` per rule:
// the first sync is one watch with sendInitialEvents, synced at the initial-events-end bookmark;
// a server that refuses or ignores it is listed instead, and every reflector over the same
// source remembers that. FakeClock over an in-memory source that serves WatchList.
import { afterEach, describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { StatusError, newExpired } from '../../lib/api/errors.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { ListOptions, WatchOptions } from '../../lib/api/source.js';
import { listWatchFor } from '../../lib/cache/list-watch.js';
import { ObjectSlot } from '../../lib/cache/object-slot.js';
import { Reflector, type ReflectorOptions } from '../../lib/cache/reflector.js';
import type { ReflectorSink } from '../../lib/cache/sink.js';
import { INITIAL_EVENTS_END_ANNOTATION, watchListSupportFor } from '../../lib/cache/watch-list.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';

const NS = 'ns1';

/** What the reflector told its sink, in order. */
class RecordingSink implements ReflectorSink<KubeObject> {
  readonly calls: string[] = [];
  replace(items: KubeObject[], resourceVersion: string): void {
    this.calls.push(
      `replace [${items
        .map((i) => i.metadata!.name)
        .sort()
        .join(',')}] @${resourceVersion}`,
    );
  }
  add(obj: KubeObject): void {
    this.calls.push(`add ${obj.metadata!.name}`);
  }
  update(obj: KubeObject): void {
    this.calls.push(`update ${obj.metadata!.name}`);
  }
  delete(obj: KubeObject): void {
    this.calls.push(`delete ${obj.metadata!.name}`);
  }
}

function secret(name: string): KubeObject {
  return { metadata: { name, namespace: NS } } as KubeObject;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Env {
  clock: FakeClock;
  source: MemorySource<KubeObject>;
  lists(): ListOptions[];
  watches(): WatchOptions[];
  /** A reflector over the shared source; started at once. */
  reflector(opts?: Partial<ReflectorOptions<KubeObject>>, sink?: ReflectorSink<KubeObject>): Running;
}

interface Running {
  reflector: Reflector<KubeObject>;
  sink: RecordingSink;
  signal: AbortSignal;
  stop(): Promise<void>;
  restart(): void;
}

function env(): Env {
  const clock = new FakeClock();
  const source = new MemorySource<KubeObject>(resources.secrets, new ObjectStorage(), { watchList: true });
  return {
    clock,
    source,
    lists: () => source.actions.filter((a) => a.verb === 'list').map((a) => a.options),
    watches: () => source.actions.filter((a) => a.verb === 'watch').map((a) => a.options),
    reflector(opts = {}, sink = new RecordingSink()) {
      const reflector = new Reflector<KubeObject>({ name: 'test', listerWatcher: listWatchFor(source, NS), sink, clock, random: () => 0, ...opts });
      let ctrl = new AbortController();
      let done = reflector.run(ctrl.signal);
      const running: Running = {
        reflector,
        sink: sink as RecordingSink,
        get signal() {
          return ctrl.signal;
        },
        async stop() {
          ctrl.abort();
          await done;
        },
        restart() {
          ctrl = new AbortController();
          done = reflector.run(ctrl.signal);
        },
      };
      stops.push(() => running.stop());
      return running;
    },
  };
}

const initialEventsEnd = (rv: string): KubeObject => ({ metadata: { resourceVersion: rv, annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } } }) as KubeObject;

describe('Reflector WatchList', () => {
  it('syncs with one watch (sendInitialEvents, NotOlderThan, bookmarks, RV "") and no list, then keeps the stream for live events', async () => {
    const e = env();
    e.source.create(secret('a'));
    e.source.create(secret('b'));
    const r = e.reflector();
    await settle();
    expect(e.lists()).toHaveLength(0);
    expect(e.watches()).toEqual([
      expect.objectContaining({ resourceVersion: '', resourceVersionMatch: 'NotOlderThan', sendInitialEvents: true, allowWatchBookmarks: true, timeoutSeconds: 300 }),
    ]);
    expect(r.sink.calls).toEqual(['replace [a,b] @1002']);
    expect(r.reflector.lastSyncResourceVersion).toBe('1002');
    expect(watchListSupportFor(e.source)?.state).toBe('supported');

    e.source.create(secret('c'));
    await settle();
    expect(r.sink.calls.at(-1)).toBe('add c');
    expect(e.watches()).toHaveLength(1);
    expect(r.reflector.stats).toMatchObject({ lists: 0, watches: 1, watchLists: 1, watchListFallbacks: 0 });
  });

  it('adds nothing to the sink and is not synced before the initial-events-end bookmark', async () => {
    const e = env();
    e.source.onWatch((w) => {
      w.push({ type: 'ADDED', object: { ...secret('a'), metadata: { name: 'a', namespace: NS, resourceVersion: '7' } } });
      w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '8' } } }); // a plain bookmark does not end it
      return true;
    });
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const r = e.reflector({}, slot);
    await settle();
    expect(slot.hasSynced).toBe(false);
    expect(slot.value).toBeUndefined();
    e.source.openWatches()[0].push({ type: 'ADDED', object: { ...secret('a'), metadata: { name: 'a', namespace: NS, resourceVersion: '9' } } });
    e.source.openWatches()[0].push({ type: 'BOOKMARK', object: initialEventsEnd('10') });
    await settle();
    expect(slot.hasSynced).toBe(true);
    expect(slot.value?.metadata?.resourceVersion).toBe('9');
    expect(r.reflector.lastSyncResourceVersion).toBe('10');
  });

  it.each([
    {
      what: '422 Invalid (WatchList gate off)',
      error: () => new StatusError(422, 'Invalid', 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled'),
    },
    { what: '400 BadRequest', error: () => new StatusError(400, 'BadRequest', 'unknown parameter') },
  ])('falls back to list+watch when the server refuses with $what, and no reflector over the source tries again', async ({ error }) => {
    const e = env();
    e.source.create(secret('a'));
    e.source.onWatch((w) => {
      if (w.options.sendInitialEvents) throw error();
    });
    const first = e.reflector();
    await settle();
    expect(first.sink.calls).toEqual(['replace [a] @1001']);
    expect(e.lists()).toEqual([{ resourceVersion: '0', limit: undefined }]);
    expect(e.watches().map((w) => w.sendInitialEvents)).toEqual([true, undefined]);
    expect(watchListSupportFor(e.source)?.state).toBe('unsupported');
    expect(first.reflector.stats.watchListFallbacks).toBe(1);
    expect(first.reflector.stats.failures).toBe(0);

    const second = e.reflector();
    await settle();
    expect(second.sink.calls).toEqual(['replace [a] @1001']);
    expect(e.watches().filter((w) => w.sendInitialEvents)).toHaveLength(1);
    expect(e.lists()).toHaveLength(2);
  });

  it('falls back to list+watch when the server ignores sendInitialEvents (a live event before the bookmark)', async () => {
    const e = env();
    e.source.onWatch((w) => {
      if (!w.options.sendInitialEvents) return false;
      w.push({ type: 'ADDED', object: { metadata: { name: 'a', namespace: NS, resourceVersion: '5' } } });
      w.push({ type: 'MODIFIED', object: { metadata: { name: 'a', namespace: NS, resourceVersion: '6' } } });
      return true;
    });
    const r = e.reflector();
    await settle();
    expect(r.sink.calls).toEqual(['replace [] @1000']);
    expect(e.lists()).toHaveLength(1);
    expect(e.source.openWatches().map((w) => w.options.sendInitialEvents)).toEqual([undefined]);
    expect(watchListSupportFor(e.source)?.state).toBe('unsupported');
  });

  it('lets one reflector probe while the others over the same source wait for its verdict', async () => {
    const e = env();
    e.source.create(secret('a'));
    let hold = true;
    e.source.onWatch(() => hold);
    const probe = e.reflector();
    const waiters = [e.reflector(), e.reflector(), e.reflector()];
    await settle();
    expect(e.watches()).toHaveLength(1);
    expect(e.lists()).toHaveLength(0);
    expect(watchListSupportFor(e.source)?.waiting).toBe(3);

    hold = false;
    e.source.openWatches()[0].push({ type: 'ADDED', object: e.source.storage.get(resources.secrets, NS, 'a') });
    e.source.openWatches()[0].push({ type: 'BOOKMARK', object: initialEventsEnd('1001') });
    await settle();
    expect(probe.sink.calls).toEqual(['replace [a] @1001']);
    for (const w of waiters) expect(w.sink.calls).toEqual(['replace [a] @1001']);
    expect(e.watches().every((w) => w.sendInitialEvents)).toBe(true);
    expect(e.watches()).toHaveLength(4);
    expect(e.lists()).toHaveLength(0);
    expect(watchListSupportFor(e.source)?.waiting).toBe(0);
  });

  it('lists after a WatchList that failed otherwise (500), and hands the probe to a waiting reflector', async () => {
    const e = env();
    let failures = 1;
    e.source.onWatch((w) => {
      if (w.options.sendInitialEvents && failures-- > 0) throw new StatusError(500, 'InternalError', 'etcd is sad');
    });
    const first = e.reflector();
    const second = e.reflector();
    await settle();
    expect(first.sink.calls).toEqual(['replace [] @1000']);
    expect(first.reflector.stats).toMatchObject({ lists: 1, watchLists: 1, watchListFallbacks: 1 });
    // The verdict is still open, so the waiter probed and streamed.
    expect(second.sink.calls).toEqual(['replace [] @1000']);
    expect(second.reflector.stats).toMatchObject({ lists: 0, watchLists: 1 });
    expect(watchListSupportFor(e.source)?.state).toBe('supported');
  });

  it('lists instead when the WatchList stream closes within 1 s with no event (client-go: VeryShortWatchError)', async () => {
    const e = env();
    e.source.onWatch((w) => {
      if (!w.options.sendInitialEvents) return false;
      w.end();
      return true;
    });
    const r = e.reflector();
    await settle();
    expect(e.lists()).toHaveLength(1);
    expect(r.sink.calls).toEqual(['replace [] @1000']);
    expect(watchListSupportFor(e.source)?.state).toBe('unknown');
  });

  it('streams again at once after a 410 with resourceVersion "", and after a restart from the last resourceVersion', async () => {
    const e = env();
    const r = e.reflector();
    await settle();
    expect(e.watches().map((w) => w.resourceVersion)).toEqual(['']);
    e.source.create(secret('a'));
    await settle();
    await r.stop();

    let expired = 1;
    e.source.onWatch((w) => {
      if (w.options.sendInitialEvents && expired-- > 0) throw newExpired('too old resource version: 1001 (1002)');
    });
    r.restart();
    await settle();
    expect(e.watches().map((w) => w.resourceVersion)).toEqual(['', '1001', '']);
    expect(e.clock.pendingTimers()).toBe(0);
    expect(r.sink.calls.at(-1)).toBe('replace [a] @1001');
    expect(e.lists()).toHaveLength(0);

    await r.stop();
    r.restart();
    await settle();
    expect(e.watches().map((w) => w.resourceVersion)).toEqual(['', '1001', '', '1001']);
  });

  it('backs off after a 429 on the WatchList watch, then streams again', async () => {
    const e = env();
    let throttled = 1;
    e.source.onWatch((w) => {
      if (w.options.sendInitialEvents && throttled-- > 0) throw new StatusError(429, 'TooManyRequests', 'slow down', { retryAfterSeconds: 3 });
    });
    const r = e.reflector();
    await settle();
    expect(e.watches()).toHaveLength(1);
    await e.clock.advance(2999);
    expect(e.watches()).toHaveLength(1);
    await e.clock.advance(1);
    expect(e.watches()).toHaveLength(2);
    expect(r.sink.calls).toEqual(['replace [] @1000']);
    expect(e.lists()).toHaveLength(0);
  });

  it('drops metadata.managedFields from streamed objects unless keepManagedFields is set', async () => {
    for (const keep of [false, true]) {
      const e = env();
      const managedFields = [{ manager: 'kubectl', operation: 'Update' }];
      e.source.create({ metadata: { name: 'a', namespace: NS, managedFields } } as KubeObject);
      const slot = new ObjectSlot<KubeObject>(NS, 'a');
      e.reflector({ keepManagedFields: keep }, slot);
      await settle();
      expect(slot.hasSynced).toBe(true);
      expect((slot.value?.metadata as { managedFields?: unknown }).managedFields).toEqual(keep ? managedFields : undefined);
    }
  });

  it('lists first when constructed with watchList: false', async () => {
    const e = env();
    const r = e.reflector({ watchList: false });
    await settle();
    expect(e.lists()).toHaveLength(1);
    expect(e.watches().map((w) => w.sendInitialEvents)).toEqual([undefined]);
    expect(r.sink.calls).toEqual(['replace [] @1000']);
    expect(watchListSupportFor(e.source)?.state).toBe('unknown');
  });

  it("ends run() promptly when stopped while waiting for another reflector's verdict, leaving no listener behind", async () => {
    const e = env();
    e.source.onWatch(() => true);
    const probe = e.reflector();
    const waiter = e.reflector();
    await settle();
    expect(watchListSupportFor(e.source)?.waiting).toBe(1);
    await waiter.stop();
    expect(waiter.reflector.isRunning).toBe(false);
    expect(watchListSupportFor(e.source)?.waiting).toBe(0);
    expect(getEventListeners(waiter.signal, 'abort')).toHaveLength(0);
    // The probe, stopped before its verdict, leaves the question open for the next reflector.
    await probe.stop();
    expect(watchListSupportFor(e.source)?.state).toBe('unknown');
    expect(e.source.openWatchCount).toBe(0);
  });
});
