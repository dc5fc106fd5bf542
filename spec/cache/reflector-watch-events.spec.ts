// The reflector over a source with callback watches (ObjectSource.watchEvents): the same rules
// as over an iterator, checked on KubeClient against the embedded API server and on an
// in-memory source whose only watch is the callback one. FakeClock throughout.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { newExpired } from '../../lib/api/errors.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { ObjectSource, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from '../../lib/api/source.js';
import { listWatchFor } from '../../lib/cache/list-watch.js';
import { Reflector, type ReflectorOptions } from '../../lib/cache/reflector.js';
import type { ReflectorSink } from '../../lib/cache/sink.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource, type MemoryWatch, type WatchReactor } from '../../lib/testing/memory-source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';
import { until, untilIo } from '../faults/harness.js';

const NS = 'ns1';

/** A sink that tells, in order and one line per call, what it was told. */
function recordingSink(): ReflectorSink<KubeObject> & { calls: string[] } {
  const calls: string[] = [];
  const record = (op: string) => (obj: KubeObject) => void calls.push(`${op} ${obj.metadata!.name}`);
  return {
    calls,
    replace: (items, resourceVersion) =>
      void calls.push(
        `replace ${items
          .map((i) => i.metadata!.name)
          .sort()
          .join(',')} @${resourceVersion}`,
      ),
    add: record('add'),
    update: record('update'),
    delete: record('delete'),
  };
}

/**
 * Hides a source's iterator watch, so that a reflector that used it fails loudly: whatever
 * these specs see went through `watchEvents`.
 */
function callbacksOnly<T>(source: ObjectSource<T>, calls: { watchEvents: number }): ObjectSource<T> {
  return {
    resource: source.resource,
    supportsWatchList: source.supportsWatchList,
    get: (ns, name, opts) => source.get(ns, name, opts),
    list: (ns, opts) => source.list(ns, opts),
    watch: () => {
      throw new Error('the iterator watch was used although the source has watchEvents');
    },
    watchEvents: (ns, opts, handler) => {
      calls.watchEvents++;
      return source.watchEvents!(ns, opts, handler);
    },
  };
}

/**
 * A MemorySource with the callback watch, built on its iterator as a transport would build it
 * on a body: events handed over synchronously in order, a throw ends the watch with
 * onEnd(thrown), a failure with onEnd(cause), a close or stop() with onEnd().
 */
class CallbackMemorySource extends MemorySource<KubeObject> {
  watchEvents(namespace: string, opts: WatchOptions, handler: WatchHandler<KubeObject>): WatchHandle {
    const it = this.watch(namespace, opts)[Symbol.asyncIterator]();
    let ended = false;
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      void it.return?.();
      if (err === undefined) handler.onEnd();
      else handler.onEnd(err);
    };
    const pump = (): void => {
      it.next().then(
        (step) => {
          if (ended) return;
          if (step.done) return end();
          try {
            handler.onEvent(step.value as WatchEvent<KubeObject>);
          } catch (err) {
            return end(err);
          }
          pump();
        },
        (err: unknown) => end(err),
      );
    };
    pump();
    return { stop: () => end() };
  }
}

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('Reflector over callback watches, on the embedded API server', () => {
  async function serve(watchList: boolean) {
    const clock = new FakeClock(1_000_000);
    const server = await ApiServer.start({ clock });
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    const client = new KubeClient(kc, { clock });
    const close = async () => {
      await client.close();
      await server.stop();
    };
    stops.push(close);
    const calls = { watchEvents: 0 };
    const sink = recordingSink();
    const reflector = new Reflector<KubeObject>({
      name: 'test',
      listerWatcher: listWatchFor(callbacksOnly(client.source<KubeObject>(resources.secrets), calls), NS),
      sink,
      clock,
      random: () => 0,
      watchList,
    });
    stops.push(() => reflector.stop());
    const create = (name: string, ns = NS) => server.storage.create(resources.secrets, { metadata: { name }, data: { v: 'MQ==' } } as KubeObject, ns);
    const busy = () => client.stats().activeStreams !== server.openWatches;
    const watching = () => until(() => sink.calls.length > 0 && server.openWatches === 1, { clock, what: 'synced and watching', busy });
    return { clock, server, client, calls, sink, reflector, create, busy, watching, close };
  }

  for (const watchList of [false, true]) {
    const mode = watchList ? 'WatchList' : 'list+watch';

    it(`${mode}: syncs, applies live events in order, re-watches without a relist after a server close, relists after 410`, async () => {
      const s = await serve(watchList);
      s.create('a');
      s.create('b');
      s.reflector.start();
      await s.watching();
      expect(s.sink.calls).toEqual([expect.stringMatching(/^replace a,b @\d+$/)]);

      s.create('c');
      s.server.storage.update(resources.secrets, { metadata: { name: 'a', namespace: NS }, data: { v: 'Mg==' } } as KubeObject);
      s.server.storage.delete(resources.secrets, NS, 'b');
      await until(() => s.sink.calls.length === 4, { clock: s.clock, what: 'live events' });
      expect(s.sink.calls.slice(1)).toEqual(['add c', 'update a', 'delete b']);
      expect(s.reflector.lastSyncResourceVersion).toBe(s.server.storage.resourceVersion);

      // A server close after a while is a normal end: watch again from the last RV, no list.
      const lists = s.reflector.stats.lists;
      const watches = s.reflector.stats.watches;
      await s.clock.advance(5_000);
      expect(s.server.faults.dropWatches()).toBe(1);
      await until(() => s.reflector.stats.watches === watches + 1 && s.server.openWatches === 1, { clock: s.clock, what: 're-watch', busy: s.busy });
      expect(s.reflector.stats).toMatchObject({ lists, failures: 0 });
      expect(s.sink.calls).toHaveLength(4);
      s.create('d');
      await until(() => s.sink.calls.length === 5, { clock: s.clock, what: 'event on the new watch' });
      expect(s.sink.calls[4]).toBe('add d');

      // Our RV compacted away: the re-watch gets 410, and the reflector syncs again in full.
      await s.clock.advance(5_000);
      s.create('other', 'elsewhere'); // moves the RV past ours without an event on our watch
      s.server.faults.compact();
      s.server.faults.dropWatches();
      await until(() => s.sink.calls.length === 6 && s.server.openWatches === 1, { clock: s.clock, what: 'resync after 410', busy: s.busy });
      expect(s.sink.calls[5]).toMatch(/^replace a,c,d @\d+$/);
      expect(s.reflector.stats.failures).toBe(1);
      expect(s.calls.watchEvents).toBe(s.reflector.stats.watches);

      // stop() ends the open watch on the server, and nothing is left running.
      s.reflector.stop();
      await untilIo(() => s.server.openWatches === 0 && s.client.stats().activeStreams === 0, 'watch closed on the server');
      expect(s.server.storage.watchCount).toBe(0);
      s.create('late');
      await settle();
      expect(s.sink.calls).toHaveLength(6);
      expect(s.reflector.isRunning).toBe(false);
      await s.close();
      expect(s.clock.pendingTimers()).toBe(0);
    });

    it(`${mode}: stop() while the watch is still being established leaves no watch on the server`, async () => {
      const s = await serve(watchList);
      s.create('a');
      s.reflector.start();
      await until(() => s.calls.watchEvents === 1, { clock: s.clock, what: 'watch requested' });
      s.reflector.stop();
      await untilIo(() => s.client.stats().activeStreams === 0, 'stream closed');
      await untilIo(() => s.server.openWatches === 0, 'watch closed on the server');
      expect(s.server.storage.watchCount).toBe(0);
      await s.close();
      expect(s.clock.pendingTimers()).toBe(0);
    });
  }
});

describe('Reflector over callback watches, on an in-memory source', () => {
  function setup(
    opts: Partial<ReflectorOptions<KubeObject>> = {},
    { watchList = false, seed = [] as string[], throwOnce = false, onWatch = undefined as WatchReactor<KubeObject> | undefined } = {},
  ) {
    const clock = new FakeClock();
    const source = new CallbackMemorySource(resources.secrets, new ObjectStorage(), { watchList });
    if (onWatch) source.onWatch(onWatch);
    for (const name of seed) source.create({ metadata: { name, namespace: NS } } as KubeObject);
    const calls = { watchEvents: 0 };
    const sink = recordingSink();
    let bound = callbacksOnly(source, calls);
    if (throwOnce) {
      // A transport whose call itself throws (it could not even build the request), once.
      const inner = bound;
      let thrown = false;
      bound = { ...inner, watchEvents: (ns, o, h) => (thrown ? inner.watchEvents!(ns, o, h) : ((thrown = true), failAtCall())) };
    }
    const reflector = new Reflector<KubeObject>({ name: 'test', listerWatcher: listWatchFor(bound, NS), sink, clock, random: () => 0, ...opts });
    const ctrl = new AbortController();
    const done = reflector.run(ctrl.signal);
    stops.push(async () => {
      ctrl.abort();
      await done;
    });
    const verbs = () => source.actions.map((a) => a.verb);
    return { clock, source, calls, sink, reflector, ctrl, done, verbs };
  }

  const failures: [string, (w: MemoryWatch<KubeObject>) => void, object][] = [
    ['a watch that closes at once with no event (very short watch)', (w) => w.end(), { name: 'VeryShortWatchError' }],
    ['an ERROR event (410 Expired)', (w) => w.push({ type: 'ERROR', object: newExpired('too old resource version').toStatus() }), { code: 410 }],
    ['a broken stream (the cause passed to onEnd)', (w) => w.fail(new Error('stream reset')), { message: 'stream reset' }],
  ];
  for (const [what, end, error] of failures) {
    it(`treats ${what} as a failure: the watch is closed, and after a backoff the reflector lists again`, async () => {
      const s = setup();
      await settle();
      expect(s.verbs()).toEqual(['list', 'watch']);
      end(s.source.openWatches()[0]);
      await settle();
      expect(s.source.openWatches()).toHaveLength(0);
      expect(s.reflector.lastError).toMatchObject(error);
      expect(s.reflector.stats.failures).toBe(1);
      expect(s.verbs()).toEqual(['list', 'watch']);
      await s.clock.advance(800);
      await settle();
      expect(s.verbs()).toEqual(['list', 'watch', 'list', 'watch']);
    });
  }

  it('tracks the RV of events and bookmarks, and re-watches from it after a normal close', async () => {
    const s = setup();
    await settle();
    s.source.create({ metadata: { name: 'a', namespace: NS } } as KubeObject);
    await settle();
    const w = s.source.openWatches()[0];
    w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '5000' } } });
    await settle();
    expect(s.reflector.lastSyncResourceVersion).toBe('5000');
    w.end();
    await settle();
    expect(s.verbs()).toEqual(['list', 'watch', 'watch']);
    expect(s.source.openWatches()[0].options).toMatchObject({ resourceVersion: '5000', allowWatchBookmarks: true });
    expect(s.sink.calls).toEqual(['replace  @1000', 'add a']);
  });

  it('WatchList: collects the initial events apart, replaces at the initial-events-end bookmark, then goes on live', async () => {
    const s = setup({}, { watchList: true, seed: ['a'] });
    await settle();
    s.source.create({ metadata: { name: 'b', namespace: NS } } as KubeObject);
    await settle();
    expect(s.verbs()).toEqual(['watch']);
    expect(s.sink.calls).toEqual([expect.stringMatching(/^replace a @\d+$/), 'add b']);
    expect(s.source.openWatches()[0].options).toMatchObject({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' });
    expect(s.reflector.stats).toMatchObject({ watchLists: 1, watchListFallbacks: 0 });
  });

  it('WatchList: a live MODIFIED before the bookmark means the server ignored it: the stream is closed and the reflector lists', async () => {
    const s = setup(
      {},
      {
        watchList: true,
        onWatch: (w) => {
          if (!w.options.sendInitialEvents) return false;
          w.push({ type: 'MODIFIED', object: { metadata: { name: 'x', namespace: NS, resourceVersion: '7' } } });
          return true;
        },
      },
    );
    await settle();
    expect(s.verbs()).toEqual(['watch', 'list', 'watch']);
    expect(s.source.openWatches()).toHaveLength(1);
    expect(s.reflector.stats.watchListFallbacks).toBe(1);
    expect(s.sink.calls).toEqual(['replace  @1000']);
  });

  it('stop() closes the open watch and ignores what the source still delivers', async () => {
    const s = setup();
    await settle();
    const w = s.source.openWatches()[0];
    s.ctrl.abort();
    await s.done;
    expect(w.closed).toBe(true);
    expect(s.source.openWatches()).toHaveLength(0);
    expect(s.clock.pendingTimers()).toBe(0);
    expect(s.calls.watchEvents).toBe(1);
  });

  it('a watchEvents call that throws fails the watch like a rejected one: backoff, then a relist', async () => {
    const s = setup({}, { throwOnce: true });
    await settle();
    expect(s.verbs()).toEqual(['list']);
    expect(s.reflector.lastError).toMatchObject({ message: 'cannot build the watch request' });
    expect(s.reflector.stats.failures).toBe(1);
    await s.clock.advance(800);
    await settle();
    expect(s.verbs()).toEqual(['list', 'list', 'watch']);
    expect(s.source.openWatches()).toHaveLength(1);
  });
});

function failAtCall(): never {
  throw new Error('cannot build the watch request');
}

describe('listWatchFor and callback watches', () => {
  it('passes watchEvents through, with the namespace and selectors pinned as for watch, only when the source has it', () => {
    const source = new CallbackMemorySource(resources.secrets);
    const lw = listWatchFor<KubeObject>(source, NS, { fieldSelector: 'metadata.name=a', labelSelector: 'app=x' });
    const handle = lw.watchEvents!({ fieldSelector: 'metadata.name=b', resourceVersion: '7' }, { onEvent: () => {}, onEnd: () => {} });
    expect(source.openWatches()).toEqual([expect.objectContaining({ namespace: NS, options: { fieldSelector: 'metadata.name=a', labelSelector: 'app=x', resourceVersion: '7' } })]);
    handle.stop();
    expect(source.openWatchCount).toBe(0);
    expect(listWatchFor(new MemorySource<KubeObject>(resources.secrets), NS).watchEvents).toBeUndefined();
  });
});
