// The client-go Reflector rules (reference §5) that refwatch's per-object watches rely on, one
// `it` per rule. Everything runs on FakeClock over an in-memory source: no test sleeps for real.
import { afterEach, describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { StatusError, newExpired } from '../../lib/api/errors.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { ListOptions, WatchOptions } from '../../lib/api/source.js';
import { listWatchFor, type ListerWatcher } from '../../lib/cache/list-watch.js';
import { ObjectSlot } from '../../lib/cache/object-slot.js';
import { Reflector, type ReflectorOptions } from '../../lib/cache/reflector.js';
import type { ReflectorSink } from '../../lib/cache/sink.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource, type MemoryWatch } from '../../lib/testing/memory-source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';

const NS = 'ns1';

type Call = { op: 'replace'; names: string[]; resourceVersion: string } | { op: 'add' | 'update' | 'delete'; name: string; resourceVersion: string | undefined };

/** A sink that records what the reflector told it, in order. */
class RecordingSink implements ReflectorSink<KubeObject> {
  readonly calls: Call[] = [];
  replace(items: KubeObject[], resourceVersion: string): void {
    this.calls.push({ op: 'replace', names: items.map((i) => i.metadata!.name!).sort(), resourceVersion });
  }
  add(obj: KubeObject): void {
    this.calls.push({ op: 'add', name: obj.metadata!.name!, resourceVersion: obj.metadata?.resourceVersion });
  }
  update(obj: KubeObject): void {
    this.calls.push({ op: 'update', name: obj.metadata!.name!, resourceVersion: obj.metadata?.resourceVersion });
  }
  delete(obj: KubeObject): void {
    this.calls.push({ op: 'delete', name: obj.metadata!.name!, resourceVersion: obj.metadata?.resourceVersion });
  }
  get replaces(): Extract<Call, { op: 'replace' }>[] {
    return this.calls.filter((c): c is Extract<Call, { op: 'replace' }> => c.op === 'replace');
  }
}

function secret(name: string, extra: Record<string, unknown> = {}, namespace = NS): KubeObject {
  return { metadata: { name, namespace }, ...extra } as KubeObject;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Setup {
  clock: FakeClock;
  storage: ObjectStorage;
  source: MemorySource<KubeObject>;
  sink: RecordingSink;
  reflector: Reflector<KubeObject>;
  /** Starts a run with a fresh AbortController; returns its promise. */
  start(): Promise<void>;
  /** Aborts the current run and waits for it to end. */
  stop(): Promise<void>;
  /** The current run's signal. */
  signal(): AbortSignal;
  lists(): ListOptions[];
  watches(): WatchOptions[];
  /** The one open watch (fails the test if there is not exactly one). */
  watch(): MemoryWatch<KubeObject>;
}

/** A transport that does not pass the abort signal on: only the reflector can end its calls. */
function deaf(lw: ListerWatcher<KubeObject>): ListerWatcher<KubeObject> {
  return {
    list: ({ signal: _signal, ...opts }) => lw.list(opts),
    watch: ({ signal: _signal, ...opts }) => lw.watch(opts),
  };
}

function setup(
  opts: Partial<ReflectorOptions<KubeObject>> = {},
  sink: ReflectorSink<KubeObject> = new RecordingSink(),
  wrap: (lw: ListerWatcher<KubeObject>) => ListerWatcher<KubeObject> = (lw) => lw,
): Setup {
  const clock = new FakeClock();
  const storage = new ObjectStorage();
  const source = new MemorySource<KubeObject>(resources.secrets, storage);
  const reflector = new Reflector<KubeObject>({
    name: 'test',
    listerWatcher: wrap(listWatchFor(source, NS)),
    sink,
    clock,
    random: () => 0,
    ...opts,
  });
  let ctrl: AbortController | undefined;
  let done: Promise<void> | undefined;
  const s: Setup = {
    clock,
    storage,
    source,
    sink: sink as RecordingSink,
    reflector,
    start() {
      ctrl = new AbortController();
      done = reflector.run(ctrl.signal);
      return done;
    },
    async stop() {
      ctrl?.abort();
      await done;
    },
    signal: () => ctrl!.signal,
    lists: () => source.actions.filter((a) => a.verb === 'list').map((a) => a.options),
    watches: () => source.actions.filter((a) => a.verb === 'watch').map((a) => a.options),
    watch() {
      const open = source.openWatches();
      expect(open).toHaveLength(1);
      return open[0];
    },
  };
  stops.push(() => s.stop());
  return s;
}

/** How long until the next pending timer fires (the backoff delay), or undefined. */
function nextDelay(clock: FakeClock): number | undefined {
  const at = clock.nextTimerAt();
  return at === undefined ? undefined : at - clock.now();
}

describe('Reflector', () => {
  it('lists with resourceVersion "0" the first time, then watches from the list\'s resourceVersion with bookmarks', async () => {
    const s = setup();
    s.source.create(secret('a'));
    s.source.create(secret('b'));
    s.start();
    await settle();
    expect(s.lists()).toEqual([{ resourceVersion: '0', limit: undefined }]);
    expect(s.watches()).toHaveLength(1);
    expect(s.watches()[0]).toMatchObject({ resourceVersion: '1002', allowWatchBookmarks: true });
    expect(s.reflector.lastSyncResourceVersion).toBe('1002');
  });

  it.each([
    { label: 'default 5 min', minWatchTimeout: undefined, random: 0, expected: 300 },
    { label: 'default 5 min', minWatchTimeout: undefined, random: 0.999, expected: 599 },
    { label: 'kubelet 30 min', minWatchTimeout: 30 * 60_000, random: 0, expected: 1800 },
    { label: 'kubelet 30 min', minWatchTimeout: 30 * 60_000, random: 0.999, expected: 3598 },
  ])('asks the server to end each watch after a time in [min, 2×min) (min $label, random $random)', async ({ minWatchTimeout, random, expected }) => {
    const s = setup({ minWatchTimeout, random: () => random });
    s.start();
    await settle();
    const min = (minWatchTimeout ?? 5 * 60_000) / 1000;
    const timeout = s.watches()[0].timeoutSeconds!;
    expect(timeout).toBe(expected);
    expect(timeout).toBeGreaterThanOrEqual(min);
    expect(timeout).toBeLessThan(2 * min);
  });

  it('issues the first list synchronously when run() is called', () => {
    const s = setup();
    s.start();
    // No await between run() and this check.
    expect(s.source.actions).toHaveLength(1);
    expect(s.source.actions[0]).toMatchObject({ verb: 'list', namespace: NS, options: { resourceVersion: '0' } });
  });

  it("replaces the sink with the list's items and resourceVersion", async () => {
    const s = setup();
    s.source.create(secret('a'));
    s.source.create(secret('b'));
    s.source.create(secret('elsewhere', {}, 'ns2'));
    s.start();
    await settle();
    expect(s.sink.calls).toEqual([{ op: 'replace', names: ['a', 'b'], resourceVersion: '1003' }]);
  });

  it('reports synced only after a list, not after watch events alone', async () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const s = setup({}, slot);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    s.source.onList(async () => {
      await gate;
      return undefined;
    });
    s.start();
    await settle();
    expect(slot.hasSynced).toBe(false);
    release();
    await settle();
    expect(slot.hasSynced).toBe(true);
    expect(slot.value).toBeUndefined();

    // Marked stale: an event is applied but does not make the slot synced again...
    slot.unsetSynced();
    s.source.create(secret('a'));
    await settle();
    expect(slot.value?.metadata?.name).toBe('a');
    expect(slot.hasSynced).toBe(false);
    // ...only the next list does.
    s.watch().push({ type: 'ERROR', object: newExpired('too old resource version').toStatus() });
    await settle();
    expect(slot.hasSynced).toBe(false);
    await s.clock.advance(800);
    expect(s.lists()).toHaveLength(2);
    expect(slot.hasSynced).toBe(true);
  });

  it('passes ADDED, MODIFIED and DELETED events to the sink and records their resourceVersions', async () => {
    const s = setup();
    s.start();
    await settle();
    s.source.create(secret('a', { data: { k: 'djE=' } }));
    s.source.put(secret('a', { data: { k: 'djI=' } }));
    s.source.remove(NS, 'a');
    await settle();
    expect(s.sink.calls.slice(1)).toEqual([
      { op: 'add', name: 'a', resourceVersion: '1001' },
      { op: 'update', name: 'a', resourceVersion: '1002' },
      { op: 'delete', name: 'a', resourceVersion: '1003' },
    ]);
    expect(s.reflector.lastSyncResourceVersion).toBe('1003');
    expect(s.reflector.stats.events).toBe(3);
  });

  it('moves only the resourceVersion on a BOOKMARK, leaving the sink untouched', async () => {
    const s = setup();
    const configMaps = new MemorySource<KubeObject>(resources.configMaps, s.storage);
    s.source.create(secret('a'));
    s.start();
    await settle();
    expect(s.reflector.lastSyncResourceVersion).toBe('1001');
    configMaps.create(secret('cm')); // another resource moves the shared RV to 1002
    s.source.bookmark();
    await settle();
    expect(s.reflector.lastSyncResourceVersion).toBe('1002');
    expect(s.sink.calls).toHaveLength(1); // the initial replace only
    // The next watch starts from the bookmark's resourceVersion.
    s.watch().end();
    await settle();
    expect(s.watches().map((w) => w.resourceVersion)).toEqual(['1001', '1002']);
    expect(s.lists()).toHaveLength(1);
  });

  it('re-watches at once from the last resourceVersion after a normal close that followed an event, without relisting or backing off', async () => {
    const s = setup();
    s.start();
    await settle();
    s.source.create(secret('a'));
    await settle();
    s.watch().end();
    await settle();
    expect(s.watches().map((w) => w.resourceVersion)).toEqual(['1000', '1001']);
    expect(s.lists()).toHaveLength(1);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.source.openWatchCount).toBe(1);
    expect(s.reflector.stats.failures).toBe(0);
  });

  it('re-watches at once after a normal close of a quiet watch that lasted at least 1 s', async () => {
    const s = setup();
    s.start();
    await settle();
    await s.clock.advance(1000);
    s.watch().end();
    await settle();
    expect(s.watches()).toHaveLength(2);
    expect(s.watches()[1].resourceVersion).toBe('1000');
    expect(s.lists()).toHaveLength(1);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.reflector.stats.failures).toBe(0);
  });

  it('treats a watch that closes within 1 s with no event as a failure: backs off, then relists from the last resourceVersion', async () => {
    const s = setup();
    s.source.create(secret('a'));
    s.start();
    await settle();
    await s.clock.advance(999);
    s.watch().end();
    await settle();
    expect(s.reflector.stats.failures).toBe(1);
    expect(s.watches()).toHaveLength(1);
    expect(s.lists()).toHaveLength(1);
    expect(nextDelay(s.clock)).toBe(800);
    await s.clock.advance(799);
    expect(s.lists()).toHaveLength(1);
    await s.clock.advance(1);
    expect(s.lists().map((l) => l.resourceVersion)).toEqual(['0', '1001']);
    expect(s.watches()).toHaveLength(2);
  });

  it('ends the watch on an ERROR 410 Expired event and relists after backoff from the last resourceVersion, not ""', async () => {
    const s = setup();
    s.start();
    await settle();
    s.source.create(secret('a'));
    await settle();
    s.watch().push({ type: 'ERROR', object: newExpired('too old resource version: 1000 (1001)').toStatus() });
    await settle();
    expect(s.source.openWatchCount).toBe(0);
    expect(s.lists()).toHaveLength(1);
    expect(nextDelay(s.clock)).toBe(800);
    await s.clock.advance(800);
    expect(s.lists().map((l) => l.resourceVersion)).toEqual(['0', '1001']);
    expect(s.lists()[1].limit).toBeUndefined(); // served whole by the watch cache, no paging
    expect(s.sink.replaces).toHaveLength(2);
    expect(s.source.openWatchCount).toBe(1);
  });

  it.each([
    { what: '410 Expired', error: () => newExpired('too old resource version: 5 (1000)') },
    { what: '410 Gone', error: () => new StatusError(410, 'Gone', 'gone') },
    {
      what: '"Too large resource version"',
      error: () =>
        new StatusError(504, 'Timeout', 'Too large resource version: 5000, current: 1000', {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        }),
    },
  ])('retries a list that failed with $what at once with resourceVersion ""', async ({ error }) => {
    const s = setup();
    s.source.create(secret('a'));
    s.source.onList((_ns, opts) => {
      if (opts.resourceVersion === '0') throw error();
      return undefined;
    });
    s.start();
    await settle();
    expect(s.lists().map((l) => l.resourceVersion)).toEqual(['0', '']);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.sink.replaces).toEqual([{ op: 'replace', names: ['a'], resourceVersion: '1001' }]);
    expect(s.watches()).toHaveLength(1);
    expect(s.watches()[0].resourceVersion).toBe('1001');

    // Once a list succeeded, later relists go back to "not older than" the last RV.
    s.source.create(secret('b'));
    await settle();
    s.watch().push({ type: 'ERROR', object: newExpired('too old resource version').toStatus() });
    await settle();
    await s.clock.advance(800);
    expect(s.lists().map((l) => l.resourceVersion)).toEqual(['0', '', '1002']);
  });

  it('backs off 800 ms doubling to a 30 s cap between failed lists', async () => {
    const s = setup();
    s.source.onList(() => {
      throw new StatusError(500, 'InternalError', 'etcd is sad');
    });
    s.start();
    await settle();
    const delays = [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000];
    for (const [i, delay] of delays.entries()) {
      expect(s.lists()).toHaveLength(i + 1);
      expect(s.clock.pendingTimers()).toBe(1);
      expect(nextDelay(s.clock)).toBe(delay);
      await s.clock.advance(delay - 1);
      expect(s.lists()).toHaveLength(i + 1);
      await s.clock.advance(1);
    }
    expect(s.lists()).toHaveLength(delays.length + 1);
    expect(s.reflector.stats.failures).toBe(delays.length + 1);
  });

  it('starts the backoff over after 2 minutes without a failure', async () => {
    const s = setup();
    let failing = true;
    s.source.onList(() => {
      if (failing) throw new StatusError(503, 'ServiceUnavailable', 'not ready');
      return undefined;
    });
    s.start();
    await settle();
    await s.clock.advance(800);
    await s.clock.advance(1600);
    expect(nextDelay(s.clock)).toBe(3200);
    failing = false;
    await s.clock.advance(3200);
    expect(s.source.openWatchCount).toBe(1);

    // A failure soon after: the backoff carries on where it was.
    await s.clock.advance(5000);
    s.watch().fail(new Error('connection reset by peer'));
    await settle();
    expect(nextDelay(s.clock)).toBe(6400);
    await s.clock.advance(6400);
    expect(s.source.openWatchCount).toBe(1);

    // A failure after more than 2 minutes of quiet: back to 800 ms.
    await s.clock.advance(120_001);
    s.watch().fail(new Error('connection reset by peer'));
    await settle();
    expect(nextDelay(s.clock)).toBe(800);
  });

  it('waits at least Retry-After after a 429 on watch, then re-watches without relisting', async () => {
    const s = setup();
    let rejects = 1;
    s.source.onWatch(() => {
      if (rejects-- > 0) throw new StatusError(429, 'TooManyRequests', 'Too many requests', { retryAfterSeconds: 5 });
    });
    s.start();
    await settle();
    expect(s.watches()).toHaveLength(1);
    expect(s.source.openWatchCount).toBe(0);
    expect(nextDelay(s.clock)).toBeGreaterThanOrEqual(5000);
    await s.clock.advance(4999);
    expect(s.watches()).toHaveLength(1);
    await s.clock.advance(1);
    expect(s.watches().map((w) => w.resourceVersion)).toEqual(['1000', '1000']);
    expect(s.lists()).toHaveLength(1);
    expect(s.source.openWatchCount).toBe(1);
  });

  it('backs off after connection refused on watch, then re-watches without relisting', async () => {
    const s = setup();
    s.source.create(secret('a'));
    let rejects = 1;
    s.source.onWatch(() => {
      if (rejects-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    });
    s.start();
    await settle();
    expect(s.reflector.stats.failures).toBe(1);
    expect(nextDelay(s.clock)).toBe(800);
    await s.clock.advance(799);
    expect(s.watches()).toHaveLength(1);
    await s.clock.advance(1);
    expect(s.watches().map((w) => w.resourceVersion)).toEqual(['1001', '1001']);
    expect(s.lists()).toHaveLength(1);
    expect(s.source.openWatchCount).toBe(1);
  });

  it('skips and counts malformed watch events, and keeps watching', async () => {
    const s = setup();
    s.start();
    await settle();
    const w = s.watch();
    const garbage: unknown[] = [null, 'not an event', { type: 'WHAT', object: secret('x') }, { type: 'ADDED', object: { kind: 'Secret' } }, { type: 'ADDED', object: 42 }];
    for (const g of garbage) w.push(g as never);
    await settle();
    expect(s.reflector.stats.skippedEvents).toBe(5);
    expect(s.reflector.stats.failures).toBe(0);
    expect(s.sink.calls).toHaveLength(1);
    expect(s.source.openWatchCount).toBe(1);
    expect(w.closed).toBe(false);
    s.source.create(secret('good'));
    await settle();
    expect(s.sink.calls.at(-1)).toEqual({ op: 'add', name: 'good', resourceVersion: '1001' });
    expect(s.watches()).toHaveLength(1);
  });

  it.each([
    { transport: 'that honours the signal', wrap: undefined },
    { transport: 'that ignores the signal', wrap: deaf },
  ])('ends run() promptly on abort while a list is blocked forever (transport $transport)', async ({ wrap }) => {
    const s = setup({}, undefined, wrap);
    s.source.onList(() => new Promise<undefined>(() => {}));
    const done = s.start();
    await settle();
    expect(s.lists()).toHaveLength(1);
    await s.stop();
    const outcome = await Promise.race([done.then(() => 'resolved'), settle().then(() => 'pending')]);
    expect(outcome).toBe('resolved');
    expect(s.reflector.isRunning).toBe(false);
    expect(s.source.openWatchCount).toBe(0);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.sink.calls).toHaveLength(0);
  });

  it.each([
    { transport: 'that honours the signal', wrap: undefined },
    { transport: 'that ignores the signal', wrap: deaf },
  ])('ends run() promptly on abort while a watch is open, closing the watch (transport $transport)', async ({ wrap }) => {
    const s = setup({}, undefined, wrap);
    const done = s.start();
    await settle();
    expect(s.source.openWatchCount).toBe(1);
    await s.stop();
    const outcome = await Promise.race([done.then(() => 'resolved'), settle().then(() => 'pending')]);
    expect(outcome).toBe('resolved');
    expect(s.source.openWatchCount).toBe(0);
    expect(s.storage.watchCount).toBe(0);
    expect(s.clock.pendingTimers()).toBe(0);
  });

  it.each([
    { after: 'a failed list', fail: (s: Setup) => s.source.onList(() => Promise.reject(new StatusError(500, 'InternalError', 'boom'))) },
    {
      after: 'a refused watch',
      fail: (s: Setup) =>
        s.source.onWatch(() => {
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        }),
    },
  ])('ends run() on abort during the backoff after $after, leaving no timer behind', async ({ fail }) => {
    const s = setup();
    fail(s);
    s.start();
    await settle();
    expect(s.clock.pendingTimers()).toBe(1);
    await s.stop();
    expect(s.clock.pendingTimers()).toBe(0);
    const calls = s.source.actions.length;
    await s.clock.advance(60_000);
    expect(s.source.actions).toHaveLength(calls);
    expect(s.source.openWatchCount).toBe(0);
  });

  it('does not pile up abort listeners over many re-watches and backoffs', async () => {
    const s = setup({}, undefined, deaf);
    let refuse = false;
    s.source.onWatch(() => {
      if (refuse) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    s.start();
    await settle();
    for (let i = 0; i < 15; i++) {
      s.source.create(secret(`s${i}`));
      await settle();
      s.watch().end();
      await settle();
    }
    refuse = true;
    s.watch().fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    for (let i = 0; i < 15; i++) await s.clock.advance(60_000);
    refuse = false;
    await s.clock.advance(60_000);
    expect(s.watches().length).toBeGreaterThan(30);
    expect(s.lists()).toHaveLength(1);
    expect(s.source.openWatchCount).toBe(1);
    // Only the read of the open watch listens to the signal.
    expect(getEventListeners(s.signal(), 'abort')).toHaveLength(1);
  });

  it('lists from the last resourceVersion, not "0", when run again after a stop', async () => {
    const s = setup();
    s.start();
    await settle();
    s.source.create(secret('a'));
    await settle();
    await s.stop();
    expect(s.reflector.isRunning).toBe(false);
    s.source.create(secret('b'));
    s.start();
    expect(s.lists().map((l) => l.resourceVersion)).toEqual(['0', '1001']);
    await settle();
    expect(s.sink.replaces.at(-1)).toEqual({ op: 'replace', names: ['a', 'b'], resourceVersion: '1002' });
    expect(s.watches().at(-1)?.resourceVersion).toBe('1002');
  });

  it('follows continue tokens on a paged quorum list and gets every item', async () => {
    const s = setup({ pageSize: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) s.source.create(secret(n));
    let changed = false;
    s.source.onList((_ns, opts) => {
      if (opts.resourceVersion === '0') throw newExpired('too old');
      // A change between pages must not show up in this list: pages come from one snapshot.
      if (opts.continue && !changed) {
        changed = true;
        s.source.create(secret('late'));
      }
      return undefined;
    });
    s.start();
    await settle();
    const lists = s.lists();
    expect(lists).toHaveLength(4);
    expect(lists[0]).toMatchObject({ resourceVersion: '0' });
    expect(lists[1]).toMatchObject({ resourceVersion: '', limit: 2 });
    expect(lists[1].continue).toBeUndefined();
    expect(lists[2]).toMatchObject({ limit: 2, continue: expect.any(String) });
    expect(lists[3]).toMatchObject({ limit: 2, continue: expect.any(String) });
    expect(s.sink.replaces).toEqual([{ op: 'replace', names: ['a', 'b', 'c', 'd', 'e'], resourceVersion: '1005' }]);
    // The watch starts from the snapshot, so it sees the object created between pages.
    expect(s.watches()[0].resourceVersion).toBe('1005');
    await settle();
    expect(s.sink.calls.at(-1)).toEqual({ op: 'add', name: 'late', resourceVersion: '1006' });
  });

  it('falls back to one unpaged quorum list when the continue token expires mid-way', async () => {
    const s = setup({ pageSize: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) s.source.create(secret(n));
    let compacted = false;
    s.source.onList((_ns, opts) => {
      if (opts.resourceVersion === '0') throw newExpired('too old');
      if (opts.continue && !compacted) {
        compacted = true;
        s.source.remove(NS, 'a');
        s.storage.compact();
      }
      return undefined;
    });
    s.start();
    await settle();
    const lists = s.lists();
    expect(lists).toHaveLength(4);
    expect(lists[2].continue).toEqual(expect.any(String));
    expect(lists[3]).toEqual({ resourceVersion: '' });
    expect(s.sink.replaces).toEqual([{ op: 'replace', names: ['b', 'c', 'd', 'e'], resourceVersion: '1006' }]);
    expect(s.watches()[0].resourceVersion).toBe('1006');
    expect(s.clock.pendingTimers()).toBe(0);
  });
});
