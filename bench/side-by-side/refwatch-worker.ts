/**
 * Worker: refwatch's SecretManager with the Watch strategy, used as a kubelet uses its own:
 * one pod per secret registered with registerPod, then every secret read with getSecret,
 * each get that fails (a sync timeout, mostly) retried until it answers.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { resources } from '../../lib/api/resource.js';
import { SecretManager } from '../../lib/manager/kind-managers.js';
import { readUntilReadable, runNodeWorker } from './node-worker.js';
import { decodedValue, podFor } from './workload.js';

runNodeWorker(({ kubeconfig, namespace, names }) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  const manager = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
  return {
    async syncAll(progress) {
      names.forEach((_, i) => manager.registerPod(podFor(namespace, i)));
      await Promise.all(names.map((name) => readUntilReadable(() => manager.getSecret(namespace, name), progress)));
    },
    async read(name) {
      return decodedValue(await manager.getSecret(namespace, name));
    },
    async close() {
      await manager.close();
      await client.close();
    },
  };
});
