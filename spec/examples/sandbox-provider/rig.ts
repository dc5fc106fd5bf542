// The sandbox Provider's test rig (upstream's cachetest.NewTestCache): the embedded API server
// serving the agents.kruise.io CRDs, the real transport, and a SandboxProvider built exactly
// as in production (same indexes, same wiring), all on one FakeClock. Objects are seeded
// straight into the server's storage, status included, as upstream seeds its fake client.
import { afterEach, beforeAll, expect } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../lib/api/kube-client.js';
import type { KubeObject } from '../../../lib/api/object.js';
import type { ResourceType } from '../../../lib/api/resource.js';
import { ApiServer, generateServingCertificates, type ServingCertificates } from '../../../lib/testing/api-server/index.js';
import { FakeClock } from '../../../lib/testing/fake-clock.js';
import { sandboxCrds } from '../../../examples/sandbox-provider/crds.js';
import { SandboxProvider, type SandboxProviderOptions } from '../../../examples/sandbox-provider/provider.js';
import { patchStatus } from '../../../examples/sandbox-provider/status-writer.js';
import { API_VERSION, sandboxResources, type Checkpoint, type Condition, type Sandbox, type SandboxSet } from '../../../examples/sandbox-provider/types.js';
import { quiesce, until, untilIo } from '../../faults/harness.js';

type AgentObject = Sandbox | Checkpoint | SandboxSet;

const byKind: Record<string, ResourceType> = {
  Sandbox: sandboxResources.sandboxes,
  SandboxSet: sandboxResources.sandboxSets,
  Checkpoint: sandboxResources.checkpoints,
  SandboxTemplate: sandboxResources.sandboxTemplates,
};

export function sandbox(
  namespace: string,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number; ownerReferences?: Sandbox['metadata']['ownerReferences'] } = {},
  status: Sandbox['status'] = {},
  spec: Sandbox['spec'] = {},
): Sandbox {
  return { apiVersion: API_VERSION, kind: 'Sandbox', metadata: { namespace, name, ...extra }, spec, status };
}

export function checkpoint(namespace: string, name: string, status: Checkpoint['status'] = {}, annotations?: Record<string, string>): Checkpoint {
  return { apiVersion: API_VERSION, kind: 'Checkpoint', metadata: { namespace, name, ...(annotations ? { annotations } : {}) }, spec: {}, status };
}

export function sandboxSet(namespace: string, name: string): SandboxSet {
  return { apiVersion: API_VERSION, kind: 'SandboxSet', metadata: { namespace, name }, spec: {} };
}

export const ready = (status: Condition['status'] = 'True', extra: Partial<Condition> = {}): Condition => ({ type: 'Ready', status, ...extra });
export const pausedCondition = (status: Condition['status'] = 'True'): Condition => ({ type: 'SandboxPaused', status });

/** A controller reference to a SandboxSet, which makes a sandbox part of a pool. */
export const sandboxSetOwner = (name = 'test-sbs') => [{ apiVersion: API_VERSION, kind: 'SandboxSet', name, uid: '12345', controller: true }];

export class Rig {
  constructor(
    readonly clock: FakeClock,
    readonly server: ApiServer,
    readonly client: KubeClient,
    readonly provider: SandboxProvider,
  ) {}

  /** Writes objects into the server's storage as they are (status included), generation 1 unless given. */
  seed(...objs: AgentObject[]): void {
    for (const obj of objs) {
      const meta = { generation: 1, ...obj.metadata };
      this.server.storage.create(byKind[obj.kind!], { ...obj, metadata: meta } as KubeObject, meta.namespace);
    }
  }

  /** Starts the Provider and drives I/O and the clock until every informer has synced. */
  async run(): Promise<void> {
    await this.drive(this.provider.run(), 'provider synced');
    await until(() => this.server.openWatches === 4, { clock: this.clock, what: 'four watches open', busy: () => this.busy() });
  }

  /** A controller's status write over HTTP (merge patch on /status). */
  writeStatus(kind: 'Sandbox' | 'Checkpoint', namespace: string, name: string, status: object): Promise<unknown> {
    return patchStatus(this.client, byKind[kind], namespace, name, status);
  }

  /** Lets I/O run and fake time pass (5 ms steps) until `p` settles; returns it. */
  async drive<T>(p: Promise<T>, what = 'promise settled', maxMs = 120_000, stepMs = 5): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    await until(() => done, { clock: this.clock, stepMs, maxSteps: Math.ceil(maxMs / stepMs), what, busy: () => this.busy() });
    return p;
  }

  /** Only I/O turns until nothing moves: for waits that must not need any fake time. */
  async io(): Promise<void> {
    await quiesce({ progress: () => `${this.server.requests.length} ${this.client.stats().activeStreams}`, busy: () => this.busy() });
  }

  busy(): boolean {
    const s = this.client.stats();
    return s.activeStreams !== this.server.openWatches || s.connections !== this.server.connections;
  }

  /** Stops everything and proves nothing is left: hooks, informer loops, streams, sockets, timers. */
  async shutdown(): Promise<void> {
    await this.provider.stop();
    expect(this.provider.waitHooks.size).toBe(0);
    for (const informer of Object.values(this.provider.informers)) expect(informer.stats()).toMatchObject({ running: false, subscribers: 0 });
    await untilIo(() => this.server.openWatches === 0, 'watches closed on the server');
    await this.client.close();
    await untilIo(() => this.server.connections === 0, 'connections closed');
    expect(this.server.storage.watchCount).toBe(0);
    expect(this.client.stats()).toMatchObject({ connections: 0, activeStreams: 0 });
    expect(this.clock.pendingTimers()).toBe(0);
    await this.server.stop();
  }

  async dispose(): Promise<void> {
    await this.provider.stop().catch(() => {});
    await this.client.close().catch(() => {});
    await this.server.stop().catch(() => {});
  }
}

/**
 * Call once per test file. Returns `start(objects, options)`: a rig with those objects
 * seeded and the Provider synced (pass `run: false` to seed more first). Whatever rig a test
 * started is disposed after it.
 */
export function rigPerTest(): (objects?: AgentObject[], opts?: Partial<SandboxProviderOptions> & { run?: boolean }) => Promise<Rig> {
  let certificates: ServingCertificates;
  let current: Rig | undefined;
  beforeAll(async () => {
    certificates = await generateServingCertificates();
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return async (objects = [], opts = {}) => {
    const clock = new FakeClock(1_000_000);
    const server = await ApiServer.start({ clock, certificates, crds: sandboxCrds() });
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    const client = new KubeClient(kc, { clock });
    const { run = true, ...providerOpts } = opts;
    const provider = new SandboxProvider({ client, clock, informerOptions: { random: () => 0 }, ...providerOpts });
    current = new Rig(clock, server, client, provider);
    current.seed(...objects);
    if (run) await current.run();
    return current;
  };
}
