// A user's program against the packed refwatch: the embedded API server from refwatch/testing,
// the user's own client-node KubeConfig and rxjs operators, a watched secret seen changing.
import { KubeConfig, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { CacheBasedManager, KubeClient, ObjectWriter, PeriodicReconciler, WatchObjectStore, isNotFound, podSecretNames, resources } from 'refwatch';
import { ApiServer } from 'refwatch/testing';
import { Observable, filter, firstValueFrom } from 'rxjs';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const server = await ApiServer.start();
const kc = new KubeConfig();
kc.loadFromString(JSON.stringify(server.kubeconfig()));
const client = new KubeClient(kc); // compiles only if refwatch sees this project's client-node
const writer = new ObjectWriter<V1Secret>(client, resources.secrets);
await writer.create('shop', { metadata: { name: 'db' }, data: { password: b64('one') } });

const store = new WatchObjectStore<V1Secret>({ source: client.source(resources.secrets) });
const manager = new CacheBasedManager(store, podSecretNames);
const pod: V1Pod = { metadata: { namespace: 'shop', name: 'web', uid: 'uid-web' }, spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db' } }] }] } };
manager.registerPod(pod);
const first = await manager.getObject('shop', 'db');
if (first.data?.password !== b64('one')) throw new Error(`read ${JSON.stringify(first.data)}`);

const changes = store.changes('shop', 'db');
if (!(changes instanceof Observable)) throw new Error('changes() is not an Observable of this project: two copies of rxjs');
const seen = firstValueFrom(changes.pipe(filter((s) => s?.data?.password === b64('two'))));
await writer.patch('shop', 'db', { data: { password: b64('two') } });
const second = await seen;

const missing: unknown = await client
  .source(resources.secrets)
  .get('shop', 'nope')
  .catch((err: unknown) => err);
if (!isNotFound(missing)) throw new Error(`expected NotFound, got ${String(missing)}`);
// `await using`: the loop is stopped when the block ends (Symbol.asyncDispose, typed by @types/node).
let passes = 0;
let loop: PeriodicReconciler;
{
  await using reconciler = new PeriodicReconciler({ name: 'consumer', interval: 60_000, run: async () => void passes++ });
  loop = reconciler;
  reconciler.start();
  await reconciler.current();
}
if (!loop.stopped || passes !== 1) throw new Error(`await using left the loop running (stopped ${loop.stopped}, passes ${passes})`);
manager.unregisterPod(pod);
await store.close();
await client.close();
await server.stop();
console.log(
  `esm consumer: read, watched (resourceVersion ${first.metadata?.resourceVersion} -> ${second?.metadata?.resourceVersion}), branched on NotFound, stopped a loop with await using`,
);
