/**
 * What every e2e file needs around the real cluster: starting it (or explaining why not),
 * writing objects as the admin, the RBAC for the limited reader, and `eventually` for
 * assertions on a live system, which converges in real time.
 */
import { afterAll, beforeAll, describe } from '@jest/globals';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { resources, type ResourceType } from '../../lib/api/resource.js';
import { READER_NAMESPACE, RealCluster } from './cluster.js';

export const extraResources = {
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true },
  roleBindings: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  crds: { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
} as const satisfies Record<string, ResourceType>;

/**
 * `describe` when the binaries are there; otherwise a skip with the reason, except under
 * CI=true, where a missing control plane is a failure.
 */
export function describeWithCluster(name: string, body: () => void): void {
  if (RealCluster.binDirFromEnv()) return describe(name, body);
  if (process.env.CI === 'true') {
    throw new Error('REFWATCH_KUBE_BIN is not set or lacks kube-apiserver/etcd; under CI=true the e2e suite may not skip. Run it with `npm run test:e2e`.');
  }
  console.warn(`skipping "${name}": no kube-apiserver/etcd binaries (run \`npm run test:e2e\`, which builds them with Go)`);
  describe.skip(name, body);
}

export async function startCluster(): Promise<RealCluster> {
  return RealCluster.start(RealCluster.binDirFromEnv()!);
}

/**
 * Starts one cluster for the enclosing describe (beforeAll) with an admin client and the given
 * namespaces, and stops both afterwards (afterAll). Read them through the getters in tests.
 */
export function useCluster(namespaces: string[]): { cluster(): RealCluster; admin(): KubeClient } {
  let cluster: RealCluster | undefined;
  let admin: KubeClient | undefined;
  beforeAll(async () => {
    cluster = await startCluster();
    admin = new KubeClient(cluster.admin.kubeconfig);
    await prepareNamespaces(admin, namespaces);
  }, 180_000);
  afterAll(async () => {
    await admin?.close();
    await cluster?.stop();
  });
  return { cluster: () => cluster!, admin: () => admin! };
}

export function writer<T>(client: KubeClient, rt: ResourceType): ObjectWriter<T> {
  return new ObjectWriter<T>(client, rt);
}

/** Namespaces for a test file, and the reader's Role and RoleBinding in READER_NAMESPACE. */
export async function prepareNamespaces(admin: KubeClient, namespaces: string[]): Promise<void> {
  const ns = writer(admin, resources.namespaces);
  for (const name of new Set([...namespaces, READER_NAMESPACE])) await ns.create('', { metadata: { name } });
  await writer(admin, extraResources.roles).create(READER_NAMESPACE, {
    metadata: { name: 'read-secrets-and-configmaps' },
    rules: [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
  });
  await writer(admin, extraResources.roleBindings).create(READER_NAMESPACE, {
    metadata: { name: 'reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets-and-configmaps' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'reader' }],
  });
}

/** Retries `check` until it stops throwing, or throws its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** Creates CustomResourceDefinitions as the admin and waits until each one is Established. */
export async function installCrds(admin: KubeClient, crds: object[]): Promise<void> {
  const definitions = writer<{ metadata?: { name?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>(admin, extraResources.crds);
  for (const crd of crds) await definitions.create('', crd);
  const source = admin.source<{ metadata?: { name?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>(extraResources.crds);
  for (const crd of crds) {
    const name = (crd as { metadata: { name: string } }).metadata.name;
    await eventually(async () => {
      const got = await source.get('', name);
      if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) throw new Error(`CRD ${name} is not established yet`);
    });
  }
}
