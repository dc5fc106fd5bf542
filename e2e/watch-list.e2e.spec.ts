// WatchList on the real kube-apiserver: the watch store's per-object reflectors (field-selected
// by metadata.name) sync with one sendInitialEvents watch each and no list, the apiserver ends
// each initial state with the k8s.io/initial-events-end bookmark, and the same streams carry
// the updates that follow.
import { expect, it } from '@jest/globals';
import type { V1Secret } from '@kubernetes/client-node';
import { KubeClient } from '../lib/api/kube-client.js';
import type { ObjectList } from '../lib/api/object.js';
import { resources } from '../lib/api/resource.js';
import type { ListOptions, ObjectSource, WatchEvent, WatchOptions } from '../lib/api/source.js';
import { watchListSupportFor } from '../lib/cache/watch-list.js';
import { WatchObjectStore } from '../lib/manager/watch-object-store.js';
import { describeWithCluster, eventually, useCluster, writer } from './harness/fixtures.js';

const NS = 'watch-list';
const COUNT = 20;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The client's source, with every list and watch it is asked for written down. */
class RecordingSource implements ObjectSource<V1Secret> {
  readonly lists: ListOptions[] = [];
  readonly watches: WatchOptions[] = [];
  constructor(private readonly inner: ObjectSource<V1Secret>) {}
  get resource() {
    return this.inner.resource;
  }
  get(namespace: string, name: string): Promise<V1Secret> {
    return this.inner.get(namespace, name);
  }
  list(namespace: string, opts: ListOptions = {}): Promise<ObjectList<V1Secret>> {
    this.lists.push({ ...opts, signal: undefined });
    return this.inner.list(namespace, opts);
  }
  watch(namespace: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent<V1Secret>> {
    this.watches.push({ ...opts, signal: undefined });
    return this.inner.watch(namespace, opts);
  }
}

describeWithCluster('WatchList on the real apiserver', () => {
  const env = useCluster([NS]);

  it('syncs every field-selected per-object watch with one sendInitialEvents stream and no list, then streams updates on it', async () => {
    const secrets = writer<V1Secret>(env.admin(), resources.secrets);
    const names = Array.from({ length: COUNT }, (_, i) => `wl-${i}`);
    for (const name of names) await secrets.create(NS, { metadata: { name }, data: { v: b64('0') } });

    const client = new KubeClient(env.cluster().admin.kubeconfig);
    const source = new RecordingSource(client.source<V1Secret>(resources.secrets));
    const store = new WatchObjectStore<V1Secret>({ source, recycleInterval: 0, syncTimeout: 30_000 });
    try {
      for (const name of names) store.addReference(NS, name, 'pod-uid');
      for (const name of names) expect((await store.get(NS, name)).data).toEqual({ v: b64('0') });

      expect(watchListSupportFor(source)?.state).toBe('supported');
      expect(source.lists).toEqual([]);
      expect(source.watches).toHaveLength(COUNT);
      for (const w of source.watches) {
        expect(w).toMatchObject({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, resourceVersion: '' });
        expect(w.fieldSelector).toMatch(/^metadata\.name=wl-\d+$/);
      }

      for (const name of names) await secrets.patch(NS, name, { data: { v: b64('1') } });
      await eventually(async () => {
        for (const name of names) expect([name, (await store.get(NS, name)).data?.v]).toEqual([name, b64('1')]);
      }, 30_000);
      // The updates came on the WatchList streams: no request was added.
      expect(source.watches).toHaveLength(COUNT);
      expect(source.lists).toEqual([]);
    } finally {
      await store.close();
      await client.close();
    }
  });
});
