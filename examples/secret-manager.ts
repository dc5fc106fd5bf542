/**
 * The secret manager on a real cluster, the way a node agent uses it: register the pods it
 * runs, read the secrets they reference, see changes without polling, release them when the
 * pods go. Prints secret keys and versions, never values.
 *
 *   npm run build && KUBECONFIG=~/.kube/config node dist/examples/secret-manager.js <namespace> <pod-name>
 *
 * Without arguments it lists the pods of the current namespace and takes the first one. The
 * kubeconfig is found as kubectl finds it: KUBECONFIG, then ~/.kube/config, then the pod's
 * service account when run in a cluster; with none of them it says so and exits.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubeClient, SecretManager, errorMessage, podSecretNames, resources } from '../lib/index.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * client-node's loadFromDefault, minus its last resort: with no kubeconfig anywhere it points at
 * http://localhost:8080, and the first request fails with a connection error about that address.
 */
function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = process.env.KUBECONFIG;
  const home = join(process.env.HOME || homedir(), '.kube', 'config');
  const inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN);
  if (!fromEnv && !existsSync(home) && !inCluster) {
    throw new Error(
      `no kubeconfig found: KUBECONFIG is not set, ${home} does not exist, and this is not a pod ` +
        `(no KUBERNETES_SERVICE_HOST and ${SERVICE_ACCOUNT_TOKEN}). Set KUBECONFIG=/path/to/kubeconfig.`,
    );
  }
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new Error(`cannot load the kubeconfig${fromEnv ? ` from KUBECONFIG=${fromEnv}` : ` ${home}`}: ${errorMessage(err)}`);
  }
  return kc;
}

async function main(): Promise<void> {
  const kc = loadKubeConfig();
  const namespace = process.argv[2] ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const core = kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace });
  const pod: V1Pod | undefined = process.argv[3] ? pods.items.find((p) => p.metadata?.name === process.argv[3]) : pods.items[0];
  if (!pod) throw new Error(`no pod found in namespace ${namespace}`);

  // Closed in reverse order when main() returns or throws: the manager, then the client.
  await using client = new KubeClient(kc);
  await using secrets = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
  secrets.registerPod(pod);
  const names = [...podSecretNames(pod)];
  console.log(`pod ${namespace}/${pod.metadata?.name} references ${names.length} secret(s): ${names.join(', ') || '(none)'}`);

  const subscriptions = names.map((name) =>
    secrets.changes(namespace, name).subscribe((secret) => {
      const keys = Object.keys(secret?.data ?? {});
      console.log(secret ? `${name}: resourceVersion ${secret.metadata?.resourceVersion}, keys [${keys.join(', ')}]` : `${name}: does not exist`);
    }),
  );
  for (const name of names) {
    await secrets.getSecret(namespace, name).catch((err) => console.log(`${name}: ${errorMessage(err)}`));
  }

  const seconds = Number(process.env.WATCH_SECONDS ?? 30);
  console.log(`watching for ${seconds} s; change one of these secrets to see it here...`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  for (const s of subscriptions) s.unsubscribe();
  secrets.unregisterPod(pod);
}

main().catch((err) => {
  console.error(errorMessage(err));
  process.exitCode = 1;
});
