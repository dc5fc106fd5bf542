// ContainerdRuntime against a real containerd 1.6 (see containerd-harness.ts): labelled
// containers from a local busybox image, real runc tasks, signals, removal with snapshot cleanup,
// images, and a connection that close() leaves with no channel and no call behind.
import { beforeAll, expect, it } from '@jest/globals';
import { ContainerdRuntime } from '../../lib/node/containerd/containerd-runtime.js';
import { isRuntimeNotFound } from '../../lib/node/runtime.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';
import { SNAPSHOTTER, describeWithContainerd, type Containerd } from './containerd-harness.js';

const HANDLES_QUIT = 'trap "exit 3" QUIT; sleep 1000 & wait';
const IGNORES_QUIT = 'trap "" QUIT; sleep 1000 & wait';

describeWithContainerd('ContainerdRuntime on a real containerd', (containerd) => {
  let cd: Containerd;
  beforeAll(() => {
    cd = containerd();
  });

  it("lists the namespace's containers with their labels, image and creation time", async () => {
    const before = Date.now() - 1_000;
    await cd.runContainer('listed', { 'runtime.computer/entity-id': 'sb-1', 'runtime.computer/ip': '10.88.0.2' }, 'sleep 1000');
    const listed = (await cd.runtime.listContainers()).find((c) => c.id === 'listed');
    expect(listed).toMatchObject({ id: 'listed', labels: { 'runtime.computer/entity-id': 'sb-1', 'runtime.computer/ip': '10.88.0.2' }, image: 'docker.io/refwatch/busybox:test' });
    expect(listed!.createdAt).toBeGreaterThanOrEqual(before);
    expect(listed!.createdAt).toBeLessThanOrEqual(Date.now());
    const other = new ContainerdRuntime({ address: cd.address, namespace: `${cd.namespace}-other` });
    expect(await other.listContainers()).toEqual([]);
    await other.close();
  });

  it('reads task states: running, stopped after the process exits, none without a task or container', async () => {
    await cd.runContainer('states', {}, HANDLES_QUIT);
    expect(await cd.runtime.taskState('states')).toBe('running');
    await cd.runtime.kill('states', 'SIGQUIT');
    expect(await cd.runtime.wait('states')).toMatchObject({ exitStatus: 3 });
    expect(await cd.runtime.taskState('states')).toBe('stopped');
    await cd.ctr('tasks', 'delete', 'states');
    expect(await cd.runtime.taskState('states')).toBe('none');
    expect(await cd.runtime.taskState('no-such-container')).toBe('none');
  });

  it('delivers SIGQUIT and SIGKILL to the task: an ignored SIGQUIT leaves it running, SIGKILL ends it with 137', async () => {
    await cd.runContainer('stubborn', {}, IGNORES_QUIT);
    await cd.runtime.kill('stubborn', 'SIGQUIT');
    expect(await cd.runtime.taskState('stubborn')).toBe('running');
    const exited = cd.runtime.wait('stubborn');
    await cd.runtime.kill('stubborn', 'SIGKILL');
    expect((await exited).exitStatus).toBe(137);
    const err = await cd.runtime.kill('no-such-container', 'SIGQUIT').catch((e: unknown) => e);
    expect(isRuntimeNotFound(err)).toBe(true);
  });

  it('removes a container with a running task: processes killed, task, container and snapshot gone', async () => {
    await cd.runContainer('doomed', {}, IGNORES_QUIT);
    expect(await cd.ctr('snapshots', '--snapshotter', SNAPSHOTTER, 'list')).toContain('doomed');
    await cd.runtime.remove('doomed');
    expect((await cd.runtime.listContainers()).map((c) => c.id)).not.toContain('doomed');
    expect(await cd.runtime.taskState('doomed')).toBe('none');
    expect(await cd.ctr('snapshots', '--snapshotter', SNAPSHOTTER, 'list')).not.toContain('doomed');
    expect(await cd.ctr('tasks', 'list', '--quiet')).not.toContain('doomed');
  });

  it('counts removing a container that does not exist as done', async () => {
    await expect(cd.runtime.remove('never-existed')).resolves.toBeUndefined();
  });

  it('lists images with their creation time and removes one by name, a missing one counting as removed', async () => {
    const before = Date.now() - 1_000;
    await cd.importBusybox('cluster.local:5000/app:a-1', 'cluster.local:5000/app:a-2');
    const images = await cd.runtime.listImages();
    const names = images.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['cluster.local:5000/app:a-1', 'cluster.local:5000/app:a-2']));
    expect(images.find((i) => i.name === 'cluster.local:5000/app:a-1')!.createdAt).toBeGreaterThanOrEqual(before);
    await cd.runtime.removeImage('cluster.local:5000/app:a-1');
    await cd.runtime.removeImage('cluster.local:5000/app:a-1');
    expect((await cd.runtime.listImages()).map((i) => i.name)).not.toContain('cluster.local:5000/app:a-1');
    expect((await cd.runtime.listImages()).map((i) => i.name)).toContain('cluster.local:5000/app:a-2');
  });

  it('rejects identifiers containerd would reject before sending anything', async () => {
    expect(() => new ContainerdRuntime({ address: cd.address, namespace: 'bad namespace' })).toThrow(TypeError);
    await expect(cd.runtime.remove('../escape')).rejects.toThrow(TypeError);
    await expect(cd.runtime.taskState('a/b')).rejects.toThrow(TypeError);
  });

  it('times a hung call out on its clock, and cancels calls in flight on close(), leaving no channel or socket', async () => {
    await cd.runContainer('waited-on', {}, 'sleep 1000');
    const clock = new FakeClock();
    const rt = new ContainerdRuntime({ address: cd.address, namespace: cd.namespace, clock, callTimeout: 1_000 });
    const timedOut = rt.wait('waited-on').catch((e: unknown) => e);
    await rt.version();
    await clock.advance(1_000);
    expect(String(await timedOut)).toContain('no answer within 1000 ms');
    const cancelled = rt.wait('waited-on', { timeout: 60_000 }).catch((e: unknown) => e);
    await settle();
    expect(rt.connectionStats().inFlight).toBe(1);
    const connected = unixPipes();
    await rt.close();
    expect(String(await cancelled)).toMatch(/CANCELLED|Cancelled/i);
    expect(rt.connectionStats()).toEqual({ state: 'SHUTDOWN', inFlight: 0 });
    expect(clock.pendingTimers()).toBe(0);
    await expect(rt.version()).rejects.toThrow('connection closed');
    await settle();
    // Its one unix socket is gone; the shared runtime's stays until teardown.
    expect(connected - unixPipes()).toBe(1);
  });

  it('closes its connection at the end of an `await using` block, also when the block throws', async () => {
    await expectAwaitUsingCloses(
      () => new ContainerdRuntime({ address: cd.address, namespace: cd.namespace }),
      async (rt) =>
        rt.connectionStats().state === 'SHUTDOWN' &&
        (await rt.version().then(
          () => false,
          (e: unknown) => String(e).includes('connection closed'),
        )),
      async (rt) => void (await rt.version()),
    );
  });
});

/** Open pipe handles (unix sockets among them) of this process. */
function unixPipes(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap' || r === 'PipeConnectWrap').length;
}
