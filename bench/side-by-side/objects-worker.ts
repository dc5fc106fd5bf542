/**
 * Worker: the floor under every variant, the objects alone. One paged list of all the
 * secrets, kept as parsed JSON in a Map by name, nothing watched. Its heap slope is what an
 * object itself costs in a JS heap, so a variant's slope minus this one is what watching costs
 * per object (issue 9's targets are "beyond the object itself").
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { resources } from '../../lib/api/resource.js';
import { runNodeWorker } from './node-worker.js';
import { decodedValue } from './workload.js';

/** Page size of the one list: large pages, few requests, bounded response size. */
const PAGE = 5_000;

runNodeWorker(({ kubeconfig, namespace }) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  const source = client.source<{ metadata?: { name?: string }; data?: Record<string, string> }>(resources.secrets);
  const objects = new Map<string, unknown>();
  return {
    async syncAll(progress) {
      let token: string | undefined;
      do {
        const page = await source.list(namespace, { limit: PAGE, continue: token });
        for (const item of page.items) objects.set(item.metadata?.name ?? '', item);
        progress.readable = objects.size;
        token = page.metadata.continue || undefined;
      } while (token);
    },
    read(name) {
      return decodedValue(objects.get(name) as { data?: Record<string, string> } | undefined);
    },
    close: () => client.close(),
  };
});
