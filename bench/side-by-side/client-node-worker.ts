/**
 * Worker: @kubernetes/client-node's own answer to "watch these N objects", one ListWatch
 * informer per secret with a metadata.name field selector, so each keeps exactly one object
 * as the kubelet's per-object reflectors do. An informer stops on an error; as client-node's
 * README shows, it is started again after a pause (5 s there, and here).
 */
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1Secret } from '@kubernetes/client-node';
import { errorMessage } from '../../lib/util/logger.js';
import { runNodeWorker } from './node-worker.js';
import { decodedValue } from './workload.js';

/** client-node's README restarts a failed informer after 5 s. */
const RESTART_AFTER_ERROR_MS = 5_000;

runNodeWorker(({ kubeconfig, namespace, names }) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  const informers = new Map<string, ListWatch<V1Secret>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  return {
    syncAll(progress) {
      return new Promise<void>((resolve) => {
        for (const name of names) {
          const fieldSelector = `metadata.name=${name}`;
          const informer = new ListWatch<V1Secret>(
            `/api/v1/namespaces/${namespace}/secrets`,
            watch,
            () => core.listNamespacedSecret({ namespace, fieldSelector }),
            false,
            undefined,
            fieldSelector,
          );
          let seen = false;
          informer.on('add', () => {
            if (seen) return;
            seen = true;
            if (++progress.readable === names.length) resolve();
          });
          informer.on('error', (err) => {
            progress.failedGets++;
            progress.lastError = errorMessage(err);
            if (closed) return;
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (!closed) void informer.start().catch(() => {});
            }, RESTART_AFTER_ERROR_MS);
            timers.add(timer);
          });
          informers.set(name, informer);
          void informer.start().catch(() => {});
        }
      });
    },
    read(name) {
      return decodedValue(informers.get(name)?.get(name, namespace));
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([...informers.values()].map((i) => i.stop().catch(() => {})));
    },
  };
});
