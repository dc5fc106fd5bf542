// PodDesiredState over refwatch: the pods bound to one node (a reflector with
// fieldSelector=spec.nodeName=<node>, through the real transport to the embedded API server),
// pod phase as owner status, the last condition transition as updatedAt, the re-fetch as a GET
// through the same client; then the orphan reaper driven by it.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { resources } from '../../lib/api/resource.js';
import { ContainerWatchdog } from '../../lib/node/container-watchdog.js';
import { NodePodReflector, NodePodsClosedError, type NodePodLister } from '../../lib/node/node-pods.js';
import { PodDesiredState, normalizeImageName, podContainerIds, podOwner, podOwnerStatus, podUpdatedAt } from '../../lib/node/pod-desired-state.js';
import { ApiServer, generateServingCertificates, type ServingCertificates } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemoryRuntime } from '../../lib/testing/memory-runtime.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';
import { LEVEL, capturePino } from '../util/log-capture.js';

const NODE = 'node-a';
const T = '2026-01-01T00:00:00Z';
const cleanups: (() => Promise<void>)[] = [];
let certificates: ServingCertificates;
beforeAll(async () => {
  certificates = await generateServingCertificates();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function pod(name: string, opts: { node?: string; namespace?: string; phase?: string; ready?: boolean; ids?: string[]; transition?: string; image?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: opts.namespace ?? 'default', name },
    spec: { nodeName: opts.node ?? NODE, containers: [{ name: 'app', image: opts.image ?? 'nginx:1.27' }] },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: (opts.transition ?? T) as unknown as Date }],
      containerStatuses: (opts.ids ?? [`${name}-app`]).map((id) => ({ name: 'app', containerID: `containerd://${id}`, image: '', imageID: '', ready: true, restartCount: 0 })),
    },
  };
}

async function rig() {
  const server = await ApiServer.start({ certificates });
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc);
  const source = client.source<V1Pod>(resources.pods);
  cleanups.push(async () => {
    await client.close();
    await server.stop();
  });
  const create = (p: V1Pod) => server.storage.create(resources.pods, p as never);
  return { server, client, source, create };
}

/** Resolves on the lister's next change that satisfies `check`. */
function changed(pods: NodePodReflector, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const off = pods.subscribe(() => {
      if (check()) {
        off();
        resolve();
      }
    });
  });
}

describe('PodDesiredState', () => {
  it('lists only the pods bound to this node, through a spec.nodeName field selector', async () => {
    const r = await rig();
    r.create(pod('web', { transition: '2026-01-01T00:00:05Z' }));
    r.create(pod('elsewhere', { node: 'node-b' }));
    r.create(pod('batch', { namespace: 'jobs', phase: 'Succeeded', ready: false }));
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    cleanups.push(() => desired.close());
    desired.start();
    const owners = await desired.list();
    expect(owners.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'default/web', status: 'RUNNING', updatedAt: Date.parse('2026-01-01T00:00:05Z'), containers: ['web-app'], images: ['docker.io/library/nginx:1.27'] },
      { id: 'jobs/batch', status: 'DEAD', updatedAt: Date.parse(T), containers: ['batch-app'], images: ['docker.io/library/nginx:1.27'] },
    ]);
    const selectors = r.server.requests.filter((q) => q.resource === 'pods' && (q.verb === 'list' || q.verb === 'watch')).map((q) => [q.verb, q.namespace, q.fieldSelector]);
    // The first sync is a WatchList watch: the embedded server serves WatchList.
    expect(selectors[0]).toEqual(['watch', '', `spec.nodeName=${NODE}`]);
    expect(selectors.every(([, ns, fs]) => ns === '' && fs === `spec.nodeName=${NODE}`)).toBe(true);
  });

  it('answers list() only once the first list is in, never with an unsynced empty set', async () => {
    const r = await rig();
    r.create(pod('web'));
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    cleanups.push(() => desired.close());
    const listed = desired.list();
    desired.start();
    expect((await listed).map((o) => o.id)).toEqual(['default/web']);
  });

  it("follows the node's pods as they change: new, finished, deleted", async () => {
    const r = await rig();
    const pods = new NodePodReflector({ source: r.source, nodeName: NODE });
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE, pods });
    cleanups.push(() => pods.close());
    pods.start();
    await desired.list();
    let next = changed(pods, () => pods.list().length === 1);
    r.create(pod('web'));
    await next;
    expect((await desired.list()).map((o) => [o.id, o.status])).toEqual([['default/web', 'RUNNING']]);
    next = changed(pods, () => pods.get('default', 'web')?.status?.phase === 'Failed');
    r.server.storage.update(resources.pods, pod('web', { phase: 'Failed', ready: false }) as never);
    await next;
    expect((await desired.list()).map((o) => o.status)).toEqual(['DEAD']);
    next = changed(pods, () => pods.list().length === 0);
    r.server.storage.delete(resources.pods, 'default', 'web');
    await next;
    expect(await desired.list()).toEqual([]);
  });

  it('re-fetches one owner with a GET through the same client: a pod, a missing one, one on another node', async () => {
    const r = await rig();
    r.create(pod('web'));
    r.create(pod('moved', { node: 'node-b' }));
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    expect(await desired.get('default/web')).toMatchObject({ id: 'default/web', status: 'RUNNING', containers: ['web-app'] });
    expect(await desired.get('default/gone')).toBeUndefined();
    expect(await desired.get('default/moved')).toBeUndefined();
    const gets = r.server.requests.filter((q) => q.verb === 'get').map((q) => `${q.namespace}/${q.name}:${q.code}`);
    expect(gets).toEqual(['default/web:200', 'default/gone:404', 'default/moved:200']);
  });

  it('answers an id that cannot name a pod with undefined, without a request', async () => {
    const r = await rig();
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    for (const id of ['', 'no-slash', '/name', 'ns/', 'default/..', 'Default/web', 'default/web/extra', 'default/a%2Fb', `default/${'x'.repeat(254)}`]) {
      expect(await desired.get(id)).toBeUndefined();
    }
    expect(r.server.requests.filter((q) => q.verb === 'get')).toEqual([]);
  });

  it('rejects the re-fetch when the API server fails, so the watchdog keeps the containers', async () => {
    const r = await rig();
    r.create(pod('web'));
    r.server.faults.failNext(1, { code: 500, verbs: ['get'] });
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    await expect(desired.get('default/web')).rejects.toMatchObject({ code: 500 });
  });

  it('refuses a node name that would add terms to the field selector', async () => {
    const r = await rig();
    for (const nodeName of ['node-a,metadata.name=x', 'node=a', '', 'Node-A', 'a'.repeat(254)]) {
      expect(() => new PodDesiredState({ source: r.source, nodeName })).toThrow(TypeError);
    }
  });

  it('closes its reflector: no watch is left on the server, and a list still waiting is told', async () => {
    const r = await rig();
    r.server.faults.delayLists(60_000);
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE });
    desired.start();
    const waiting = desired.list();
    await desired.close();
    await expect(waiting).rejects.toBeInstanceOf(NodePodsClosedError);
    r.server.faults.reset();
    const started = new PodDesiredState({ source: r.source, nodeName: NODE });
    started.start();
    await started.list();
    await until(() => r.server.storage.watchCount === 1);
    await started.close();
    await until(() => r.server.storage.watchCount === 0);
  });

  it('reads pods from any lister with list/get/synced, the shape of an indexed Informer', async () => {
    const stored = [pod('web')];
    const lister: NodePodLister = {
      list: () => stored,
      get: (ns, name) => stored.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name),
      synced: async () => {},
    };
    const r = await rig();
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE, pods: lister });
    desired.start();
    expect((await desired.list()).map((o) => o.id)).toEqual(['default/web']);
    await desired.close();
    expect(r.server.requests.length).toBe(0);
  });
});

describe('NodePodReflector logging', () => {
  it("logs through a pino logger with the fields: the reflector's failed list at warn, a change listener that threw at error", async () => {
    const { logger, lines } = capturePino();
    const clock = new FakeClock();
    const source = new MemorySource<V1Pod>(resources.pods);
    let failed = false;
    source.onList(() => {
      if (failed) return undefined;
      failed = true;
      throw new Error('apiserver unavailable');
    });
    source.create(pod('web'));
    const pods = new NodePodReflector({ source, nodeName: NODE, clock, logger: logger.child({ component: 'desired-state' }) });
    pods.subscribe(() => {
      throw new Error('listener bug');
    });
    pods.start();
    await settle();
    await clock.advance(2_000);
    await pods.synced();
    await pods.close();
    const pick = (msg: string) => lines.filter((l) => l.msg === msg).map(({ level, reflector, error, component }) => ({ level, reflector, error, component }));
    expect(pick('list/watch failed')).toEqual([{ level: LEVEL.warn, reflector: `pods-of-node-${NODE}`, error: 'apiserver unavailable', component: 'desired-state' }]);
    expect(pick('node pods: a change listener threw')).toEqual([{ level: LEVEL.error, reflector: undefined, error: 'listener bug', component: 'desired-state' }]);
  });

  it('closes a PodDesiredState and a NodePodReflector at the end of an `await using` block, also when the block throws', async () => {
    const source = new MemorySource<V1Pod>(resources.pods);
    source.create(pod('web'));
    const clock = new FakeClock();
    const noWatch = async () => {
      await settle();
      return source.openWatchCount === 0 && clock.pendingTimers() === 0;
    };
    await expectAwaitUsingCloses(
      () => new PodDesiredState({ source, nodeName: NODE, clock }),
      noWatch,
      async (desired) => {
        desired.start();
        expect((await desired.list()).map((o) => o.id)).toEqual(['default/web']);
        await settle();
      },
    );
    await expectAwaitUsingCloses(
      () => new NodePodReflector({ source, nodeName: NODE, clock }),
      noWatch,
      async (pods) => {
        pods.start();
        await pods.synced();
        await settle();
      },
    );
  });
});

describe('pods as owners', () => {
  it.each([
    ['Pending', true, 'PENDING'],
    ['Running', true, 'RUNNING'],
    ['Running', false, 'NOT_READY'],
    ['Succeeded', false, 'DEAD'],
    ['Failed', false, 'DEAD'],
    ['Unknown', false, 'NOT_READY'],
    [undefined, false, 'PENDING'],
  ])('maps phase %s (Ready %s) to %s', (phase, ready, status) => {
    const p = pod('x', { ready });
    p.status!.phase = phase;
    expect(podOwnerStatus(p)).toBe(status);
  });

  it('takes the latest condition transition as updatedAt, then the start time, then creation', () => {
    const p = pod('x');
    p.status!.conditions = [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' as unknown as Date },
      { type: 'Ready', status: 'False', lastTransitionTime: new Date('2026-01-01T00:00:09Z') },
      { type: 'Initialized', status: 'True', lastTransitionTime: 'garbage' as unknown as Date },
    ];
    expect(podUpdatedAt(p)).toBe(Date.parse('2026-01-01T00:00:09Z'));
    p.status!.conditions = [];
    p.status!.startTime = '2026-01-01T00:00:02Z' as unknown as Date;
    expect(podUpdatedAt(p)).toBe(Date.parse('2026-01-01T00:00:02Z'));
    delete p.status!.startTime;
    p.metadata!.creationTimestamp = '2026-01-01T00:00:03Z' as unknown as Date;
    expect(podUpdatedAt(p)).toBe(Date.parse('2026-01-01T00:00:03Z'));
    expect(podUpdatedAt({})).toBe(0);
  });

  it('reads container ids from init, regular and ephemeral statuses without the runtime prefix', () => {
    const p = pod('x', { ids: ['main'] });
    p.status!.initContainerStatuses = [{ name: 'init', containerID: 'containerd://init-1', image: '', imageID: '', ready: false, restartCount: 0 }];
    p.status!.ephemeralContainerStatuses = [{ name: 'debug', containerID: 'cri-o://dbg', image: '', imageID: '', ready: false, restartCount: 0 }];
    p.status!.containerStatuses!.push({ name: 'pending', image: '', imageID: '', ready: false, restartCount: 0 });
    expect(podContainerIds(p)).toEqual(['init-1', 'main', 'dbg']);
  });

  it('reads a malformed pod as far as it can, without throwing', () => {
    const malformed = [
      { metadata: { namespace: 'default', name: 'x' }, spec: { containers: 'nginx' }, status: { phase: 'Running', conditions: 'Ready' } },
      { metadata: { namespace: 'default', name: 'y' }, spec: { containers: [null, { image: 7 }] }, status: { containerStatuses: [null, { containerID: 42 }], conditions: [null] } },
      { metadata: { name: 5 }, status: null },
    ] as unknown as V1Pod[];
    expect(malformed.map((p) => podOwner(p))).toEqual([
      { id: 'default/x', status: 'NOT_READY', updatedAt: 0, containers: [], images: [] },
      { id: 'default/y', status: 'PENDING', updatedAt: 0, containers: [], images: [] },
      { id: '/', status: 'PENDING', updatedAt: 0, containers: [], images: [] },
    ]);
  });

  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['cluster.local:5000/myapp:a-1', 'cluster.local:5000/myapp:a-1'],
    ['nginx@sha256:abc', 'docker.io/library/nginx@sha256:abc'],
  ])('names image %j as containerd does: %j', (image, name) => {
    expect(normalizeImageName(image)).toBe(name);
  });
});

describe('ContainerWatchdog over PodDesiredState', () => {
  it("reaps the container of a deleted pod and keeps the containers of the node's live pods", async () => {
    const r = await rig();
    r.create(pod('web'));
    r.create(pod('db'));
    const clock = new FakeClock(Date.now());
    const runtime = new MemoryRuntime({ clock });
    const label = (p: string) => ({ 'refwatch.io/pod': `default/${p}` });
    runtime.addContainer({ id: 'web-app', labels: label('web'), createdAt: clock.now() - 3_600_000 });
    runtime.addContainer({ id: 'db-app', labels: label('db'), createdAt: clock.now() - 3_600_000 });
    const pods = new NodePodReflector({ source: r.source, nodeName: NODE });
    const desired = new PodDesiredState({ source: r.source, nodeName: NODE, pods });
    cleanups.push(() => pods.close());
    pods.start();
    await desired.list();
    const watchdog = new ContainerWatchdog({ runtime, desired, clock, ownerLabel: 'refwatch.io/pod' });
    expect((await watchdog.cleanupOrphans()).deleted).toEqual([]);

    const gone = changed(pods, () => pods.list().length === 1);
    r.server.storage.delete(resources.pods, 'default', 'db');
    await gone;
    const pass = watchdog.cleanupOrphans();
    // The re-fetch is real I/O: wait for the pass to reach the kill grace (its timer next to the
    // pass deadline's) before stepping the clock through it.
    await until(() => clock.pendingTimers() === 2);
    await clock.advance(5_000);
    expect((await pass).deleted).toEqual(['db-app']);
    expect(runtime.containerIds()).toEqual(['web-app']);
    expect(r.server.requests.filter((q) => q.verb === 'get').map((q) => `${q.name}:${q.code}`)).toEqual(['db:404']);
  });
});

/** Waits for the embedded server to see a change the client made (a closed watch), in 1 ms steps. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(done()).toBe(true);
}
