/**
 * Waiting for a condition on one object, without polling: the watch store's `changes()` stream,
 * filtered, first match, with a timeout (rxjs `filter` + `first` + `timeout`). Here a
 * ConfigMap's `ready` key, flipped by a writer a moment later, on the embedded API server.
 *
 *   npm run build && node dist/examples/wait-for-condition.js
 */
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { KubeClient, ObjectWriter, WatchObjectStore, resources } from '../lib/index.js';
import { ApiServer } from '../lib/testing/index.js';

async function main(): Promise<void> {
  const server = await ApiServer.start();
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc);
  const writer = new ObjectWriter<V1ConfigMap>(client, resources.configMaps);
  await writer.create('default', { metadata: { name: 'rollout' }, data: { ready: 'false' } });

  const store = new WatchObjectStore<V1ConfigMap>({ source: client.source(resources.configMaps) });
  store.addReference('default', 'rollout', 'this-example');
  const flipped = new Promise((resolve, reject) => setTimeout(() => writer.patch('default', 'rollout', { data: { ready: 'true' } }).then(resolve, reject), 500));

  const started = Date.now();
  const ready = await firstValueFrom(
    store.changes('default', 'rollout').pipe(
      filter((cm) => cm?.data?.ready === 'true'),
      timeout({ first: 10_000 }),
    ),
  );
  console.log(`rollout ready after ${Date.now() - started} ms (resourceVersion ${ready?.metadata?.resourceVersion})`);
  await flipped;

  await store.close();
  await client.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
