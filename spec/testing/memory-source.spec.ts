// MemorySource: the in-memory ObjectSource the reflector and manager tests drive. It must
// record calls faithfully and let reactors answer, fail or fall through, newest first.
import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { StatusError } from '../../lib/api/errors.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { WatchEvent } from '../../lib/api/source.js';
import { settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';

const NS = 'ns1';

function secret(name: string, labels?: Record<string, string>): KubeObject {
  return { metadata: { name, namespace: NS, ...(labels ? { labels } : {}) } };
}

/** Reads `n` events from a watch stream. */
async function take(stream: AsyncIterable<WatchEvent<KubeObject>>, n: number): Promise<WatchEvent<KubeObject>[]> {
  const it = stream[Symbol.asyncIterator]();
  const out: WatchEvent<KubeObject>[] = [];
  while (out.length < n) {
    const step = await it.next();
    if (step.done) break;
    out.push(step.value);
  }
  return out;
}

describe('MemorySource', () => {
  it('records each call as an action with verb, namespace, name and options without the signal', async () => {
    const source = new MemorySource(resources.secrets);
    source.create(secret('a'));
    const ctrl = new AbortController();
    await source.get(NS, 'a', { resourceVersion: '0', signal: ctrl.signal });
    await source.list(NS, { resourceVersion: '0', fieldSelector: 'metadata.name=a', signal: ctrl.signal });
    source.watch(NS, { resourceVersion: '1001', allowWatchBookmarks: true, timeoutSeconds: 300, signal: ctrl.signal });
    expect(source.actions).toEqual([
      { verb: 'get', namespace: NS, name: 'a', options: { resourceVersion: '0' } },
      { verb: 'list', namespace: NS, options: { resourceVersion: '0', fieldSelector: 'metadata.name=a' } },
      { verb: 'watch', namespace: NS, options: { resourceVersion: '1001', allowWatchBookmarks: true, timeoutSeconds: 300 } },
    ]);
    expect(source.count('list')).toBe(1);
    expect(source.count('watch')).toBe(1);
    ctrl.abort();
    source.clearActions();
    expect(source.actions).toEqual([]);
  });

  it('records a call even when a reactor fails it', async () => {
    const source = new MemorySource(resources.secrets);
    source.onList(() => {
      throw new StatusError(500, 'InternalError', 'boom');
    });
    await expect(source.list(NS, { resourceVersion: '' })).rejects.toThrow('boom');
    expect(source.actions).toEqual([{ verb: 'list', namespace: NS, options: { resourceVersion: '' } }]);
  });

  it('runs reactors newest first and falls through to older ones, then to storage, on undefined', async () => {
    const source = new MemorySource(resources.secrets);
    source.create(secret('stored'));
    const order: string[] = [];
    source.onGet((_ns, name) => {
      order.push('old');
      return name === 'old' ? secret('from-old') : undefined;
    });
    source.onGet((_ns, name) => {
      order.push('new');
      return name === 'new' ? secret('from-new') : undefined;
    });
    expect((await source.get(NS, 'new')).metadata?.name).toBe('from-new');
    expect(order).toEqual(['new']);
    order.length = 0;
    expect((await source.get(NS, 'old')).metadata?.name).toBe('from-old');
    expect(order).toEqual(['new', 'old']);
    order.length = 0;
    expect((await source.get(NS, 'stored')).metadata?.name).toBe('stored');
    expect(order).toEqual(['new', 'old']);
    await expect(source.get(NS, 'missing')).rejects.toMatchObject({ code: 404 });

    source.clearReactors();
    order.length = 0;
    expect((await source.get(NS, 'stored')).metadata?.name).toBe('stored');
    expect(order).toEqual([]);
  });

  it('lets a list reactor block until the test releases it', async () => {
    const source = new MemorySource(resources.secrets);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    source.onList(async () => {
      await gate;
      return undefined;
    });
    let answered = false;
    const pending = source.list(NS).then((l) => ((answered = true), l));
    await settle();
    expect(answered).toBe(false);
    release();
    expect((await pending).metadata.resourceVersion).toBe('1000');
  });

  it('streams storage changes to a watch and stops when the watch ends', async () => {
    const source = new MemorySource(resources.secrets);
    const w = source.watch(NS, { resourceVersion: source.storage.resourceVersion });
    expect(source.openWatchCount).toBe(1);
    expect(source.storage.watchCount).toBe(1);
    source.create(secret('a'));
    source.remove(NS, 'a');
    const events = await take(w, 2);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    source.openWatches()[0].end();
    expect(source.openWatchCount).toBe(0);
    expect(source.storage.watchCount).toBe(0);
    await expect(w[Symbol.asyncIterator]().next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('lets a test push events, end a watch after its queued events, or fail it', async () => {
    const source = new MemorySource(resources.secrets);
    source.onWatch(() => true); // take over: nothing from storage
    const w1 = source.watch(NS, {});
    const h1 = source.openWatches()[0];
    h1.push({ type: 'ADDED', object: secret('x') });
    h1.end();
    h1.push({ type: 'ADDED', object: secret('ignored') });
    const it1 = w1[Symbol.asyncIterator]();
    expect((await it1.next()).value?.object.metadata.name).toBe('x');
    expect((await it1.next()).done).toBe(true);

    const w2 = source.watch(NS, {});
    const h2 = source.openWatches()[0];
    const next = w2[Symbol.asyncIterator]().next();
    h2.fail(new StatusError(500, 'InternalError', 'stream broke'));
    await expect(next).rejects.toThrow('stream broke');
    expect(source.openWatchCount).toBe(0);
  });

  it('fails the watch stream when a watch reactor throws', async () => {
    const source = new MemorySource(resources.secrets);
    source.onWatch(() => {
      throw new StatusError(429, 'TooManyRequests', 'slow down', { retryAfterSeconds: 5 });
    });
    const w = source.watch(NS, {});
    await expect(w[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 429 });
    expect(source.openWatchCount).toBe(0);
    expect(source.count('watch')).toBe(1);
  });

  it('ends a watch when its signal aborts', async () => {
    const source = new MemorySource(resources.secrets);
    const ctrl = new AbortController();
    const w = source.watch(NS, { signal: ctrl.signal });
    const next = w[Symbol.asyncIterator]().next();
    ctrl.abort();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect(source.openWatchCount).toBe(0);
    expect(source.storage.watchCount).toBe(0);
  });

  it('lets go of the abort signal once a watch has ended', () => {
    // A reflector re-watches many times on one signal; a listener left behind per watch leaks
    // and, past 10, makes Node print MaxListenersExceededWarning in the user's test run.
    const source = new MemorySource(resources.secrets);
    const ctrl = new AbortController();
    for (let i = 0; i < 3; i++) {
      source.watch(NS, { signal: ctrl.signal });
      source.openWatches()[0].end();
    }
    source.watch(NS, { signal: ctrl.signal });
    source.openWatches()[0].fail(new Error('broken'));
    expect(source.openWatchCount).toBe(0);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('sends bookmarks only to watches that asked for them', async () => {
    const storage = new ObjectStorage();
    const source = new MemorySource(resources.secrets, storage);
    const withBookmarks = source.watch(NS, { resourceVersion: '1000', allowWatchBookmarks: true });
    source.watch(NS, { resourceVersion: '1000' });
    new MemorySource(resources.configMaps, storage).create(secret('cm'));
    source.bookmark();
    const [event] = await take(withBookmarks, 1);
    expect(event).toMatchObject({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '1001' } } });
    const [, plain] = source.openWatches();
    plain.end();
    expect(await take(plain, 1)).toEqual([]);
  });

  it('put creates or replaces an object regardless of its resourceVersion', () => {
    const source = new MemorySource(resources.secrets);
    expect(source.put(secret('a')).metadata?.resourceVersion).toBe('1001');
    const replaced = source.put({ metadata: { name: 'a', namespace: NS, resourceVersion: '1', labels: { v: '2' } } });
    expect(replaced.metadata).toMatchObject({ resourceVersion: '1002', labels: { v: '2' } });
  });
});
