// The watch store's first syncs over real HTTP against the embedded API server, in its three
// WatchList modes: a server that serves WatchList gets one streaming watch per object and no
// list; one that refuses it (the gate off) or ignores it (older than WatchList) is asked once,
// then every object is listed and watched, as before WatchList.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { ApiServer, type WatchListMode } from '../../lib/testing/api-server/index.js';

const NS = 'wl';
const NAMES = ['a', 'b', 'c', 'd'];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(watchList: WatchListMode, storeWatchList?: boolean) {
  const server = await ApiServer.start({ watchList });
  cleanups.push(() => server.stop());
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc);
  cleanups.push(() => client.close());
  const store = new WatchObjectStore<KubeObject>({ source: client.source(resources.secrets), recycleInterval: 0, syncTimeout: 10_000, watchList: storeWatchList });
  cleanups.push(() => store.close());
  for (const name of NAMES) server.storage.create(resources.secrets, { metadata: { namespace: NS, name }, data: { k: 'dg==' } } as KubeObject);
  return { server, store };
}

/** Event-loop turns (no sleeping) until `done` holds; loopback I/O needs a few. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

describe('WatchObjectStore first sync against the embedded API server', () => {
  it('streams each object with one WatchList watch and no list when the server serves WatchList', async () => {
    const { server, store } = await rig('serve');
    for (const name of NAMES) store.addReference(NS, name, 'pod');
    for (const name of NAMES) await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name } });
    expect(server.requests.countBy('list')).toBe(0);
    const watches = server.requests.filter((r) => r.verb === 'watch');
    expect(watches).toHaveLength(NAMES.length);
    expect(watches.every((r) => r.sendInitialEvents && r.code === 200 && r.resourceVersion === undefined)).toBe(true);

    // The same stream carries the live events.
    let latest: string | undefined;
    const subscription = store.changes(NS, 'a').subscribe((v) => (latest = (v as { data?: { k?: string } } | undefined)?.data?.k));
    cleanups.push(() => subscription.unsubscribe());
    server.storage.update(resources.secrets, { metadata: { namespace: NS, name: 'a' }, data: { k: 'dzI=' } } as KubeObject);
    await until(() => latest === 'dzI=', 'the update');
    expect(server.requests).toHaveLength(NAMES.length);
  });

  it('asks once, then lists and watches every object, when the server refuses WatchList (422)', async () => {
    const { server, store } = await rig('refuse');
    for (const name of NAMES) store.addReference(NS, name, 'pod');
    for (const name of NAMES) await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name } });
    const refused = server.requests.filter((r) => r.sendInitialEvents);
    expect(refused.map((r) => r.code)).toEqual([422]);
    expect(server.requests.countBy('list')).toBe(NAMES.length);
    await until(() => server.openWatches === NAMES.length, 'the watches after the lists');
    expect(server.requests.filter((r) => r.verb === 'watch' && !r.sendInitialEvents && r.code === 200)).toHaveLength(NAMES.length);
  });

  it('asks once, then lists and watches every object, when the server ignores WatchList and a live event comes first', async () => {
    const { server, store } = await rig('ignore');
    for (const name of NAMES) store.addReference(NS, name, 'pod');
    await until(() => server.requests.length === 1, 'the probing watch');
    expect(server.requests[0]).toMatchObject({ verb: 'watch', sendInitialEvents: true, code: 200 });
    // Served as a plain watch from "": the current object, then live events, no closing bookmark.
    expect(store.inspect(NS, NAMES[0])?.synced).toBe(false);
    server.storage.update(resources.secrets, { metadata: { namespace: NS, name: NAMES[0] }, data: { k: 'dzI=' } } as KubeObject);
    for (const name of NAMES) await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name } });
    await expect(store.get(NS, NAMES[0])).resolves.toMatchObject({ data: { k: 'dzI=' } });
    expect(server.requests.filter((r) => r.sendInitialEvents)).toHaveLength(1);
    expect(server.requests.countBy('list')).toBe(NAMES.length);
  });

  it('lists and watches without asking when the store is built with watchList: false', async () => {
    const { server, store } = await rig('serve', false);
    for (const name of NAMES) store.addReference(NS, name, 'pod');
    for (const name of NAMES) await expect(store.get(NS, name)).resolves.toMatchObject({ metadata: { name } });
    expect(server.requests.filter((r) => r.sendInitialEvents)).toHaveLength(0);
    expect(server.requests.countBy('list')).toBe(NAMES.length);
  });
});
