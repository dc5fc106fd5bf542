// The watchdogs against a real containerd: labelled busybox containers with running tasks, the
// orphan reaper's two-phase kill observed on real processes (one exits on SIGQUIT, one ignores
// it and only dies of the SIGKILL 5 s later on the clock), containers and snapshots gone, IPs
// released only after removal, and the containers of live owners, of owners inside the grace
// window and without the owner label untouched. Then the image GC on imported images.
import { beforeAll, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import { ContainerWatchdog, DEFAULT_OWNER_LABEL, ipsFromLabels } from '../../lib/node/container-watchdog.js';
import type { DesiredState, Owner } from '../../lib/node/desired-state.js';
import { ImageWatchdog } from '../../lib/node/image-watchdog.js';
import type { ContainerRuntime, KillSignal, RuntimeCallOptions, RuntimeContainer, RuntimeImage, TaskState } from '../../lib/node/runtime.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { SNAPSHOTTER, describeWithContainerd, type Containerd } from './containerd-harness.js';
import { MemoryCatalog, MemoryOwners } from './fixtures.js';

const MINUTE = 60_000;
const owner = (id: string) => ({ [DEFAULT_OWNER_LABEL]: id });

/** Records every call with the fake clock's time and resolves `signalled` once `expected` kills were sent. */
class RecordingRuntime implements ContainerRuntime {
  readonly kills: { id: string; signal: KillSignal; at: number }[] = [];
  private onKill: (() => void) | undefined;

  constructor(
    private readonly inner: ContainerRuntime,
    private readonly clock: FakeClock,
  ) {}

  killsSent(n: number): Promise<void> {
    if (this.kills.length >= n) return Promise.resolve();
    return new Promise((resolve) => (this.onKill = () => this.kills.length >= n && resolve()));
  }

  listContainers(opts?: RuntimeCallOptions): Promise<RuntimeContainer[]> {
    return this.inner.listContainers(opts);
  }
  taskState(id: string, opts?: RuntimeCallOptions): Promise<TaskState> {
    return this.inner.taskState(id, opts);
  }
  async kill(id: string, signal: KillSignal, opts?: RuntimeCallOptions): Promise<void> {
    const at = this.clock.now();
    await this.inner.kill(id, signal, opts);
    this.kills.push({ id, signal, at });
    this.onKill?.();
  }
  remove(id: string, opts?: RuntimeCallOptions): Promise<void> {
    return this.inner.remove(id, opts);
  }
  listImages(opts?: RuntimeCallOptions): Promise<RuntimeImage[]> {
    return this.inner.listImages(opts);
  }
  removeImage(name: string, opts?: RuntimeCallOptions): Promise<void> {
    return this.inner.removeImage(name, opts);
  }
}

class Desired implements DesiredState {
  constructor(private readonly owners: Owner[]) {}
  async list(): Promise<Owner[]> {
    return this.owners;
  }
  async get(id: string): Promise<Owner | undefined> {
    return this.owners.find((o) => o.id === id);
  }
}

describeWithContainerd('Watchdogs on a real containerd', (containerd) => {
  let cd: Containerd;
  beforeAll(() => {
    cd = containerd();
  });

  it('reaps orphans with SIGQUIT, then SIGKILL 5 s later, removes container and snapshot, then releases the IP; keeps the rest', async () => {
    const clock = new FakeClock(Date.now());
    const t0 = clock.now();
    await cd.runContainer('orphan-graceful', { ...owner('sb-deleted'), 'runtime.computer/ip': '10.88.0.11' }, 'trap "exit 3" QUIT; sleep 1000 & wait');
    await cd.runContainer('orphan-stubborn', { ...owner('sb-deleted'), 'runtime.computer/ip': '10.88.0.12' }, 'trap "" QUIT; sleep 1000 & wait');
    await cd.runContainer('dead-long-ago', owner('sb-dead'), 'trap "exit 0" QUIT; sleep 1000 & wait');
    await cd.runContainer('alive', owner('sb-alive'), 'sleep 1000');
    await cd.runContainer('dying-recently', owner('sb-dying'), 'sleep 1000');
    await cd.runContainer('not-ours', { 'app.kubernetes.io/name': 'something-else' }, 'sleep 1000');
    const desired = new Desired([
      { id: 'sb-alive', status: 'RUNNING', updatedAt: t0 - 60 * MINUTE, containers: ['alive'] },
      { id: 'sb-dying', status: 'DEAD', updatedAt: t0 - MINUTE, containers: ['dying-recently'] },
      { id: 'sb-dead', status: 'DEAD', updatedAt: t0 - 10 * MINUTE, containers: ['dead-long-ago'] },
    ]);
    const runtime = new RecordingRuntime(cd.runtime, clock);
    const released: { id: string; ips: string[]; stillListed: boolean; snapshotLeft: boolean }[] = [];
    const watchdog = new ContainerWatchdog({
      runtime,
      desired,
      clock,
      release: async (c) => {
        const listed = (await cd.runtime.listContainers()).some((x) => x.id === c.id);
        const snapshots = await cd.ctr('snapshots', '--snapshotter', SNAPSHOTTER, 'list');
        released.push({ id: c.id, ips: ipsFromLabels(c), stillListed: listed, snapshotLeft: snapshots.includes(c.id) });
      },
    });

    const stubbornExit = cd.runtime.wait('orphan-stubborn', { timeout: 60_000 });
    const pass = watchdog.cleanupOrphans();
    await runtime.killsSent(3);
    // Phase 1 done: the graceful orphans exit on their own, the stubborn one keeps running.
    expect((await cd.runtime.wait('orphan-graceful')).exitStatus).toBe(3);
    expect((await cd.runtime.wait('dead-long-ago')).exitStatus).toBe(0);
    expect(await cd.runtime.taskState('orphan-stubborn')).toBe('running');
    await settle();
    expect(clock.nextTimerAt()).toBe(t0 + 5_000);
    await clock.advance(4_999);
    expect(runtime.kills.map((k) => k.signal)).not.toContain('SIGKILL');
    await clock.advance(1);
    const result = await pass;

    expect((await stubbornExit).exitStatus).toBe(137);
    expect(runtime.kills.map((k) => [k.id, k.signal, k.at - t0]).sort()).toEqual(
      [
        ['dead-long-ago', 'SIGQUIT', 0],
        ['orphan-graceful', 'SIGQUIT', 0],
        ['orphan-stubborn', 'SIGKILL', 5_000],
        ['orphan-stubborn', 'SIGQUIT', 0],
      ].sort(),
    );
    expect(result.failed).toEqual(new Map());
    expect([...result.deleted].sort()).toEqual(['dead-long-ago', 'orphan-graceful', 'orphan-stubborn']);

    const left = (await cd.runtime.listContainers()).map((c) => c.id).sort();
    expect(left).toEqual(['alive', 'dying-recently', 'not-ours']);
    for (const id of left) expect(await cd.runtime.taskState(id)).toBe('running');
    const snapshots = await cd.ctr('snapshots', '--snapshotter', SNAPSHOTTER, 'list');
    for (const id of result.deleted) expect(snapshots).not.toContain(id);
    expect(await cd.ctr('tasks', 'list', '--quiet')).not.toMatch(/orphan|dead-long-ago/);

    expect(released.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'dead-long-ago', ips: [], stillListed: false, snapshotLeft: false },
      { id: 'orphan-graceful', ips: ['10.88.0.11'], stillListed: false, snapshotLeft: false },
      { id: 'orphan-stubborn', ips: ['10.88.0.12'], stillListed: false, snapshotLeft: false },
    ]);
    await watchdog.stop();
    expect(clock.pendingTimers()).toBe(0);
    for (const id of left) await cd.runtime.remove(id);
  }, 60_000);

  it('reaps the containers of an owner once it has been DEAD past the grace window', async () => {
    const clock = new FakeClock(Date.now());
    await cd.runContainer('grace-expiring', owner('sb-expiring'), 'sleep 1000');
    const desired = new Desired([{ id: 'sb-expiring', status: 'DEAD', updatedAt: clock.now(), containers: ['grace-expiring'] }]);
    const watchdog = new ContainerWatchdog({ runtime: cd.runtime, desired, clock, killGrace: 0 });
    expect((await watchdog.cleanupOrphans()).deleted).toEqual([]);
    clock.step(3 * MINUTE);
    expect((await watchdog.cleanupOrphans()).deleted).toEqual(['grace-expiring']);
    expect((await cd.runtime.listContainers()).map((c) => c.id)).not.toContain('grace-expiring');
  }, 60_000);

  it('deletes the image of an archived artifact and keeps active, in-use and unmanaged images', async () => {
    await cd.importBusybox('cluster.local:5000/app:a-archived', 'cluster.local:5000/app:a-active', 'cluster.local:5000/app:a-in-use', 'registry.k8s.io/pause:3.9');
    const catalog = new MemoryCatalog();
    catalog.artifactList = [
      { id: 'artifact/a-archived', status: 'archived' },
      { id: 'artifact/a-active', status: 'active' },
      { id: 'artifact/a-in-use', status: 'archived' },
    ];
    const owners = new MemoryOwners();
    owners.owners = [{ id: 'sb', status: 'RUNNING', updatedAt: 0, containers: [], images: ['cluster.local:5000/app:a-in-use'] }];
    const gc = new ImageWatchdog({ runtime: cd.runtime, desired: owners, catalog, dataPath: tmpdir() });
    const result = await gc.runGC();
    expect(result.deleted).toEqual(['cluster.local:5000/app:a-archived']);
    expect(result.failed.size).toBe(0);
    const names = (await cd.ctr('images', 'list', '--quiet')).split('\n');
    expect(names).not.toContain('cluster.local:5000/app:a-archived');
    expect(names).toEqual(expect.arrayContaining(['cluster.local:5000/app:a-active', 'cluster.local:5000/app:a-in-use', 'registry.k8s.io/pause:3.9']));
    await gc.stop();
  }, 60_000);
});
