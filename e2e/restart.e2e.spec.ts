// kube-apiserver is stopped and started again under live watches: every cache converges, and
// no update is lost, neither those made before the restart nor those made right after it.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { KubeClient } from '../lib/api/kube-client.js';
import { resources } from '../lib/api/resource.js';
import { SecretManager } from '../lib/manager/kind-managers.js';
import type { RealCluster } from './harness/cluster.js';
import { describeWithCluster, eventually, prepareNamespaces, startCluster, writer } from './harness/fixtures.js';

const NS = 'restart';
const COUNT = 30;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describeWithCluster('an apiserver restart under live watches', () => {
  let cluster: RealCluster;
  let admin: KubeClient;

  beforeAll(async () => {
    cluster = await startCluster();
    admin = new KubeClient(cluster.admin.kubeconfig);
    await prepareNamespaces(admin, [NS]);
  }, 180_000);

  afterAll(async () => {
    await admin?.close();
    await cluster?.stop();
  });

  it('every watched secret converges to its final value after the restart', async () => {
    const secrets = writer<V1Secret>(admin, resources.secrets);
    const names = Array.from({ length: COUNT }, (_, i) => `s-${i}`);
    for (const name of names) await secrets.create(NS, { metadata: { name }, data: { v: b64('0') } });

    const client = new KubeClient(cluster.admin.kubeconfig);
    const manager = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
    const pod: V1Pod = {
      metadata: { namespace: NS, name: 'p', uid: 'p-uid' },
      spec: { containers: [{ name: 'app' }], volumes: names.map((n) => ({ name: n, secret: { secretName: n } })) },
    };
    try {
      manager.registerPod(pod);
      for (const name of names) expect((await manager.getSecret(NS, name)).data).toEqual({ v: b64('0') });

      for (const name of names) await secrets.patch(NS, name, { data: { v: b64('1') } });
      await cluster.restartApiserver();
      // Written right after the restart, while the reflectors are still backing off and re-watching.
      for (const name of names.slice(0, COUNT / 2)) await secrets.patch(NS, name, { data: { v: b64('2') } });

      const expected = (i: number) => b64(i < COUNT / 2 ? '2' : '1');
      await eventually(
        async () => {
          for (const [i, name] of names.entries()) expect([name, (await manager.getSecret(NS, name)).data?.v]).toEqual([name, expected(i)]);
        },
        120_000,
        250,
      );
      const store = manager.manager.store;
      expect(names.every((n) => store.inspect(NS, n)?.running)).toBe(true);
    } finally {
      await manager.close();
      await client.close();
    }
    expect(client.stats().connections).toBe(0);
  });
});
