// examples/secret-manager.ts finds its kubeconfig as kubectl does (KUBECONFIG, ~/.kube/config,
// in-cluster) and, with none of them, says so instead of failing against localhost:8080. With
// one, it reads the pod's secrets from the cluster (the embedded server here) and prints keys
// and versions, never values.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resources } from '../../lib/api/resource.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { useCompiledExamples } from './example-process.js';

const PASSWORD = 'hunter2-not-for-logs';

const examples = useCompiledExamples();

describe('examples/secret-manager', () => {
  let cluster: ApiServer;
  let home: string;

  beforeEach(async () => {
    cluster = await ApiServer.start();
    home = await mkdtemp(join(tmpdir(), 'refwatch-secret-manager-spec-'));
    const secret: V1Secret = { metadata: { name: 'db' }, data: { password: Buffer.from(PASSWORD).toString('base64') } };
    const pod: V1Pod = { metadata: { name: 'web', uid: 'uid-web' }, spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db' } }] }] } };
    cluster.storage.create(resources.secrets, secret, 'app');
    cluster.storage.create(resources.pods, pod, 'app');
  });

  afterEach(async () => {
    await cluster.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('says that no kubeconfig was found, and where it looked, instead of trying localhost:8080', async () => {
    const run = examples.start('secret-manager', [], { HOME: home });
    expect(await run.exit()).toEqual({ code: 1, signal: null });
    expect(run.stderr).toContain('no kubeconfig found: KUBECONFIG is not set');
    expect(run.stderr).toContain(`${join(home, '.kube', 'config')} does not exist`);
    expect(run.stderr).toContain('KUBERNETES_SERVICE_HOST');
    expect(run.stderr).not.toMatch(/localhost|8080|ECONNREFUSED/);
  }, 30_000);

  it('names the KUBECONFIG file it cannot read', async () => {
    const run = examples.start('secret-manager', [], { HOME: home, KUBECONFIG: join(home, 'missing') });
    expect(await run.exit()).toEqual({ code: 1, signal: null });
    expect(run.stderr).toContain(`cannot load the kubeconfig from KUBECONFIG=${join(home, 'missing')}`);
  }, 30_000);

  it.each([
    ['KUBECONFIG', true],
    ['~/.kube/config', false],
  ])(
    "reads the pod's secrets through %s and prints keys and versions, never values",
    async (_where, viaEnv) => {
      const path = viaEnv ? join(home, 'kubeconfig') : join(home, '.kube', 'config');
      await mkdir(join(home, '.kube'), { recursive: true });
      await cluster.writeKubeconfig(path);
      const run = examples.start('secret-manager', ['app', 'web'], { HOME: home, WATCH_SECONDS: '0', ...(viaEnv ? { KUBECONFIG: path } : {}) });
      expect(await run.exit()).toEqual({ code: 0, signal: null });
      expect(run.stdout).toContain('pod app/web references 1 secret(s): db');
      expect(run.stdout).toMatch(/db: resourceVersion \d+, keys \[password\]/);
      expect(run.stdout + run.stderr).not.toContain(PASSWORD);
      expect(run.stdout + run.stderr).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(cluster.requests.some((r) => r.verb === 'watch' && r.resource === 'secrets')).toBe(true);
    },
    30_000,
  );
});
