// The sandbox Provider (examples/sandbox-provider) against a real kube-apiserver and etcd:
// the agents.kruise.io CRDs installed, a Pause task that returns once the test, playing the
// controller, writes the SandboxPaused condition to status; a conflicting Resume refused; a
// WaitReady that never becomes true timing out in its double-check; and an Informer for a
// user whose RBAC allows only list and watch of sandboxes in one namespace: it syncs there and
// gets a clear 403 anywhere else.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { isForbidden } from '../lib/api/errors.js';
import { KubeClient } from '../lib/api/kube-client.js';
import { resources } from '../lib/api/resource.js';
import { Informer, InformerSyncAbortedError } from '../lib/cache/informer.js';
import { WaitNotSatisfiedError, WaitTaskConflictError } from '../lib/wait/errors.js';
import { sandboxCrds } from '../examples/sandbox-provider/crds.js';
import { SandboxProvider } from '../examples/sandbox-provider/provider.js';
import { patchStatus } from '../examples/sandbox-provider/status-writer.js';
import { LABEL_SANDBOX_CLAIMED, sandboxResources, type Sandbox } from '../examples/sandbox-provider/types.js';
import type { RealCluster } from './harness/cluster.js';
import { describeWithCluster, eventually, extraResources, installCrds, startCluster, writer } from './harness/fixtures.js';

const NS = 'sandboxes-e2e';
const ALLOWED = 'sandbox-reader-allowed';
const FORBIDDEN = 'sandbox-reader-forbidden';

describeWithCluster('sandbox Provider against a real kube-apiserver', () => {
  let cluster: RealCluster;
  let admin: KubeClient;
  let provider: SandboxProvider;

  const sandboxes = () => writer<Sandbox>(admin, sandboxResources.sandboxes);
  const running = {
    phase: 'Running',
    observedGeneration: 1,
    podInfo: { podIP: '10.0.0.9' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady', lastTransitionTime: '2026-01-01T00:00:00Z', message: '' }],
  };

  async function runningSandbox(name: string): Promise<Sandbox> {
    await sandboxes().create(NS, { metadata: { name, labels: { [LABEL_SANDBOX_CLAIMED]: 'true' } }, spec: { paused: false } });
    await patchStatus(admin, sandboxResources.sandboxes, NS, name, running);
    return eventually(() => {
      const cached = provider.informers.sandboxes.get(NS, name);
      if (cached?.status?.phase !== 'Running') throw new Error(`sandbox ${name} not cached as Running yet`);
      return cached;
    });
  }

  beforeAll(async () => {
    cluster = await startCluster();
    admin = new KubeClient(cluster.admin.kubeconfig);
    const ns = writer(admin, resources.namespaces);
    for (const name of [NS, ALLOWED, FORBIDDEN]) await ns.create('', { metadata: { name } });
    await installCrds(admin, sandboxCrds());
    await writer(admin, extraResources.roles).create(ALLOWED, {
      metadata: { name: 'list-watch-sandboxes' },
      rules: [{ apiGroups: ['agents.kruise.io'], resources: ['sandboxes'], verbs: ['list', 'watch'] }],
    });
    await writer(admin, extraResources.roleBindings).create(ALLOWED, {
      metadata: { name: 'sandbox-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'list-watch-sandboxes' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'sandbox-reader' }],
    });
    provider = new SandboxProvider({ client: admin, sandboxNamespace: NS });
    await provider.run(AbortSignal.timeout(30_000));
  }, 180_000);

  afterAll(async () => {
    await provider?.stop();
    expect(provider?.waitHooks.size ?? 0).toBe(0);
    await admin?.close();
    await cluster?.stop();
  });

  it('a Pause task returns once the controller writes SandboxPaused to status, woken by the watch event', async () => {
    const sbx = await runningSandbox('pause-me');
    const task = provider.newSandboxPauseTask(sbx);
    try {
      const waiting = task.wait(30_000);
      await sandboxes().patch(NS, 'pause-me', { spec: { paused: true } });
      const spec = await eventually(() => {
        const cached = provider.informers.sandboxes.get(NS, 'pause-me');
        if (!cached?.spec?.paused) throw new Error('spec.paused not seen yet');
        return cached;
      });
      expect(spec.metadata.generation).toBe(2); // the real server bumps it for a spec change
      const started = Date.now();
      await patchStatus(admin, sandboxResources.sandboxes, NS, 'pause-me', {
        phase: 'Paused',
        conditions: [...running.conditions, { type: 'SandboxPaused', status: 'True', reason: 'SetPause', lastTransitionTime: '2026-01-01T00:00:01Z', message: '' }],
      });
      await waiting;
      // Far below the 10 s poll: the event closed the hook.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      task.release();
    }
    expect(provider.waitHooks.size).toBe(0);
  });

  it('a Resume while a Pause holds the sandbox gets the conflict error', async () => {
    const sbx = await runningSandbox('contended');
    const pause = provider.newSandboxPauseTask(sbx);
    try {
      let err: unknown;
      try {
        provider.newSandboxResumeTask(sbx);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WaitTaskConflictError);
      expect(err).toMatchObject({ existing: 'Pause', requested: 'Resume', message: "another action(Pause)'s wait task already exists" });
    } finally {
      pause.release();
    }
    expect(provider.waitHooks.size).toBe(0);
  });

  it('a WaitReady that never becomes true times out in its double-check', async () => {
    await sandboxes().create(NS, { metadata: { name: 'never-ready', labels: { [LABEL_SANDBOX_CLAIMED]: 'true' } }, spec: {} });
    await patchStatus(admin, sandboxResources.sandboxes, NS, 'never-ready', { phase: 'Pending', observedGeneration: 1 });
    const sbx = await eventually(() => {
      const cached = provider.informers.sandboxes.get(NS, 'never-ready');
      if (cached?.status?.phase !== 'Pending') throw new Error('not cached yet');
      return cached;
    });
    const started = Date.now();
    const err = await provider
      .newSandboxWaitReadyTask(sbx)
      .wait(1_500)
      .catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(err).toMatchObject({ duringDoubleCheck: true, action: 'WaitReady', message: 'object is not satisfied during double check' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(provider.waitHooks.size).toBe(0);
  });

  it('an RBAC-limited user may list and watch sandboxes in its namespace and gets a clear 403 elsewhere', async () => {
    await writer<Sandbox>(admin, sandboxResources.sandboxes).create(ALLOWED, { metadata: { name: 'visible' }, spec: {} });
    const client = new KubeClient(cluster.sandboxReader.kubeconfig);
    const allowed = new Informer<Sandbox>({ source: client.source(sandboxResources.sandboxes), namespace: ALLOWED });
    const forbidden = new Informer<Sandbox>({ source: client.source(sandboxResources.sandboxes), namespace: FORBIDDEN });
    try {
      allowed.start();
      await allowed.synced(AbortSignal.timeout(15_000));
      expect(allowed.list().map((s) => s.metadata.name)).toEqual(['visible']);
      await writer<Sandbox>(admin, sandboxResources.sandboxes).create(ALLOWED, { metadata: { name: 'later' }, spec: {} });
      await eventually(() => expect(allowed.get(ALLOWED, 'later')).toBeDefined());
      expect(allowed.health().healthy).toBe(true);

      forbidden.start();
      const err = await forbidden.synced(AbortSignal.timeout(3_000)).catch((e) => e);
      expect(err).toBeInstanceOf(InformerSyncAbortedError);
      expect(isForbidden(err.cause)).toBe(true);
      expect(err.cause.message).toContain('cannot list resource "sandboxes" in API group "agents.kruise.io" in the namespace "sandbox-reader-forbidden"');
      expect(forbidden.health()).toMatchObject({ synced: false, healthy: false });
      // get is not granted even where list is: the live-read fallback would see 403 too.
      const denied = await client
        .source<Sandbox>(sandboxResources.sandboxes)
        .get(ALLOWED, 'visible')
        .catch((e) => e);
      expect(isForbidden(denied)).toBe(true);
    } finally {
      await allowed.close();
      await forbidden.close();
      await client.close();
    }
  });
});
