// ContainerWatchdog on an in-memory runtime and FakeClock: miren's watchdog_test.go and
// watchdogtest/container_test.go scenarios (§3.5 #1–6), then the MIR-1238 hardening (§3.4):
// authoritative re-fetch, fail-safe on errors, release after confirmed removal, bounded passes.
import { describe, expect, it } from '@jest/globals';
import { ContainerWatchdog, DEFAULT_OWNER_LABEL, ipsFromLabels, type ContainerWatchdogOptions } from '../../lib/node/container-watchdog.js';
import type { DesiredState, Owner } from '../../lib/node/desired-state.js';
import type { RuntimeContainer } from '../../lib/node/runtime.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemoryRuntime } from '../../lib/testing/memory-runtime.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { expectAwaitUsingStopsLoop } from '../util/dispose-contract.js';
import { LEVEL, capturePino } from '../util/log-capture.js';

// miren's container naming: the pause container and one per spec container.
const pauseId = (sandbox: string) => `sandbox.${sandbox}_pause`;
const subId = (sandbox: string, name: string) => `sandbox.${sandbox}-${name}`;
const owned = (sandbox: string) => ({ [DEFAULT_OWNER_LABEL]: sandbox });

function sandbox(id: string, status: Owner['status'], updatedAt: number, names: string[] = []): Owner {
  return { id, status, updatedAt, containers: [pauseId(id), ...names.map((n) => subId(id, n))] };
}

/** A desired state whose index (list) and source of truth (get) can disagree, as after MIR-1238. */
class FakeDesired implements DesiredState {
  index: Owner[] = [];
  truth = new Map<string, Owner>();
  getError: Error | undefined;
  listError: Error | undefined;
  readonly gets: string[] = [];

  set(...owners: Owner[]): void {
    this.index = owners;
    for (const o of owners) this.truth.set(o.id, o);
  }

  async list(): Promise<Owner[]> {
    if (this.listError) throw this.listError;
    return this.index;
  }

  async get(id: string): Promise<Owner | undefined> {
    this.gets.push(id);
    if (this.getError) throw this.getError;
    return this.truth.get(id);
  }
}

function rig(opts: Partial<ContainerWatchdogOptions> = {}, start = 1_000_000) {
  const clock = new FakeClock(start);
  const runtime = new MemoryRuntime({ clock });
  const desired = new FakeDesired();
  const warnings: { msg: string; fields?: LogFields }[] = [];
  const logger: Logger = { debug() {}, warn: (msg, fields) => warnings.push({ msg, fields }) };
  const released: { id: string; at: number; existed: boolean }[] = [];
  const watchdog = new ContainerWatchdog({
    runtime,
    desired,
    clock,
    logger,
    release: async (c: RuntimeContainer) => {
      released.push({ id: c.id, at: clock.now(), existed: runtime.has(c.id) });
    },
    ...opts,
  });
  return { clock, runtime, desired, warnings, released, watchdog };
}

/** Runs one pass to completion, stepping the fake clock through the kill grace. */
async function pass(r: ReturnType<typeof rig>) {
  const result = r.watchdog.cleanupOrphans();
  for (let i = 0; i < 10; i++) await r.clock.advance(1_000);
  return result;
}

describe('ContainerWatchdog: upstream scenarios (watchdog_test.go, watchdogtest/container_test.go)', () => {
  it("removes a labelled container of an unknown sandbox and keeps a running sandbox's pause container (#1)", async () => {
    const r = rig();
    r.desired.set(sandbox('sb-live', 'RUNNING', r.clock.now()));
    r.runtime.addContainer({ id: pauseId('sb-live'), labels: owned('sb-live') });
    r.runtime.addContainer({ id: pauseId('sb-gone'), labels: owned('sb-gone') });
    const result = await pass(r);
    expect(result.deleted).toEqual([pauseId('sb-gone')]);
    expect(result.failed.size).toBe(0);
    expect(r.runtime.containerIds()).toEqual([pauseId('sb-live')]);
  });

  it('never touches a container without the owner label (#2)', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'buildkitd', labels: { 'app.kubernetes.io/name': 'buildkit' } });
    const result = await pass(r);
    expect(result).toEqual({ deleted: [], failed: new Map() });
    expect(r.runtime.calls.filter((c) => c.op !== 'listContainers')).toEqual([]);
    expect(r.runtime.stateOf('buildkitd')).toBe('running');
  });

  it('removes the containers of a sandbox DEAD for longer than the grace window (#3: 10 ms window, 100 ms ago)', async () => {
    const r = rig({ graceWindow: 10 });
    r.desired.set(sandbox('sb-dead', 'DEAD', r.clock.now() - 100, ['web']));
    r.runtime.addContainer({ id: pauseId('sb-dead'), labels: owned('sb-dead') });
    r.runtime.addContainer({ id: subId('sb-dead', 'web'), labels: owned('sb-dead') });
    const result = await pass(r);
    expect(result.deleted).toEqual([pauseId('sb-dead'), subId('sb-dead', 'web')]);
    expect(r.runtime.containerIds()).toEqual([]);
  });

  it('keeps the containers of a sandbox that died moments ago, inside a 10 s grace window (#4)', async () => {
    const r = rig({ graceWindow: 10_000 });
    r.desired.set(sandbox('sb-dying', 'DEAD', r.clock.now() - 1));
    r.runtime.addContainer({ id: pauseId('sb-dying'), labels: owned('sb-dying') });
    const result = await pass(r);
    expect(result.deleted).toEqual([]);
    expect(r.runtime.stateOf(pauseId('sb-dying'))).toBe('running');
  });

  it('keeps the containers of PENDING and NOT_READY sandboxes: only DEAD gives them up', async () => {
    const r = rig({ graceWindow: 10 });
    r.desired.set(sandbox('sb-p', 'PENDING', 0), sandbox('sb-n', 'NOT_READY', 0));
    r.runtime.addContainer({ id: pauseId('sb-p'), labels: owned('sb-p') });
    r.runtime.addContainer({ id: pauseId('sb-n'), labels: owned('sb-n') });
    expect((await pass(r)).deleted).toEqual([]);
  });

  it('starts, runs passes every check interval and stops cleanly (#5: 100 ms interval, 300 ms, stop)', async () => {
    const r = rig({ checkInterval: 100, jitter: 0 });
    r.watchdog.start();
    await r.clock.advance(300);
    const lists = r.runtime.calls.filter((c) => c.op === 'listContainers').map((c) => c.at - 1_000_000);
    expect(lists).toEqual([0, 100, 200, 300]);
    await r.watchdog.stop();
    await r.watchdog.stop();
    expect(r.clock.pendingTimers()).toBe(0);
    await r.clock.advance(1_000);
    expect(r.runtime.calls.filter((c) => c.op === 'listContainers')).toHaveLength(4);
  });

  it('stops at the end of an `await using` block, also when the block throws: no timer, no pass after it', async () => {
    await expectAwaitUsingStopsLoop(
      () => {
        const r = rig({ checkInterval: 100, jitter: 0 });
        return { loop: r.watchdog, clock: r.clock, passes: () => r.runtime.calls.filter((c) => c.op === 'listContainers').length };
      },
      (watchdog) => watchdog.start(),
      1_000,
    );
  });

  it('keeps a running sandbox that the node index is missing, after reading it again (#6)', async () => {
    const r = rig();
    r.desired.truth.set('sb-lagging', sandbox('sb-lagging', 'RUNNING', r.clock.now()));
    r.runtime.addContainer({ id: pauseId('sb-lagging'), labels: owned('sb-lagging') });
    const result = await pass(r);
    expect(result.deleted).toEqual([]);
    expect(r.desired.gets).toEqual(['sb-lagging']);
    expect(r.runtime.has(pauseId('sb-lagging'))).toBe(true);
  });
});

describe('ContainerWatchdog: hardening (MIR-1238) and the rest of the contract', () => {
  it('reaps a container whose owner the re-fetch does not find, reading each owner once per pass', async () => {
    const r = rig();
    r.runtime.addContainer({ id: pauseId('sb-gone'), labels: owned('sb-gone') });
    r.runtime.addContainer({ id: subId('sb-gone', 'web'), labels: owned('sb-gone') });
    const result = await pass(r);
    expect(result.deleted).toEqual([pauseId('sb-gone'), subId('sb-gone', 'web')]);
    expect(r.desired.gets).toEqual(['sb-gone']);
  });

  it('keeps a container when the re-fetch of its owner fails (fail safe)', async () => {
    const r = rig();
    r.desired.getError = new Error('entity server unavailable');
    r.runtime.addContainer({ id: pauseId('sb-x'), labels: owned('sb-x') });
    const result = await pass(r);
    expect(result).toEqual({ deleted: [], failed: new Map() });
    expect(r.runtime.calls.map((c) => c.op)).toEqual(['listContainers']);
    expect(r.warnings).toContainEqual({
      msg: 'container watchdog: keeping a container whose owner could not be read',
      fields: { id: pauseId('sb-x'), owner: 'sb-x', error: 'entity server unavailable' },
    });
  });

  it('reaps when the re-fetched owner is DEAD past the grace window, and keeps it inside the window', async () => {
    const r = rig({ graceWindow: 60_000 });
    r.desired.truth.set('sb-old', sandbox('sb-old', 'DEAD', r.clock.now() - 60_000));
    r.desired.truth.set('sb-new', sandbox('sb-new', 'DEAD', r.clock.now() - 59_999));
    r.runtime.addContainer({ id: pauseId('sb-old'), labels: owned('sb-old') });
    r.runtime.addContainer({ id: pauseId('sb-new'), labels: owned('sb-new') });
    expect((await pass(r)).deleted).toEqual([pauseId('sb-old')]);
  });

  it('reaps an old container its live owner no longer accounts for, but not one created inside the grace window', async () => {
    const r = rig({ graceWindow: 60_000 });
    r.desired.set(sandbox('sb', 'RUNNING', r.clock.now(), ['web']));
    r.runtime.addContainer({ id: subId('sb', 'old-sidecar'), labels: owned('sb'), createdAt: r.clock.now() - 60_000 });
    r.runtime.addContainer({ id: subId('sb', 'new-sidecar'), labels: owned('sb'), createdAt: r.clock.now() - 1_000 });
    const result = await pass(r);
    expect(result.deleted).toEqual([subId('sb', 'old-sidecar')]);
    expect(r.desired.gets).toEqual([]);
  });

  it('warns when the index lists no owners while labelled containers exist', async () => {
    const r = rig();
    r.desired.getError = new Error('timeout');
    r.runtime.addContainer({ id: pauseId('a'), labels: owned('a') });
    await pass(r);
    expect(r.warnings[0]).toEqual({ msg: 'container watchdog: the desired state lists no owners but labelled containers exist', fields: { containers: 1 } });
  });

  it('sends SIGQUIT, waits 5 s on the clock, then SIGKILLs only the orphans still running', async () => {
    const r = rig();
    const t0 = r.clock.now();
    r.runtime.addContainer({ id: 'graceful', labels: owned('gone') });
    r.runtime.addContainer({ id: 'stubborn', labels: owned('gone'), ignores: ['SIGQUIT'] });
    r.runtime.addContainer({ id: 'exited', labels: owned('gone'), task: 'stopped' });
    const running = r.watchdog.cleanupOrphans();
    await settle();
    expect(r.runtime.stateOf('graceful')).toBe('stopped');
    expect(r.runtime.stateOf('stubborn')).toBe('running');
    expect(r.clock.nextTimerAt()).toBe(t0 + 5_000);
    await r.clock.advance(4_999);
    expect(r.runtime.has('stubborn')).toBe(true);
    await r.clock.advance(1);
    const result = await running;
    expect(result.deleted).toEqual(['graceful', 'stubborn', 'exited']);
    const kills = r.runtime.calls.filter((c) => c.op === 'kill').map((c) => [c.target, c.signal, c.at - t0]);
    expect(kills).toEqual([
      ['graceful', 'SIGQUIT', 0],
      ['stubborn', 'SIGQUIT', 0],
      ['stubborn', 'SIGKILL', 5_000],
    ]);
  });

  it('does not wait the kill grace when no orphan had a running task', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'exited', labels: owned('gone'), task: 'stopped' });
    r.runtime.addContainer({ id: 'created', labels: owned('gone'), task: 'none' });
    const result = await r.watchdog.cleanupOrphans();
    expect(result.deleted).toEqual(['exited', 'created']);
    expect(r.runtime.calls.filter((c) => c.op === 'kill')).toEqual([]);
  });

  it("releases an orphan's resources only after its removal is confirmed, and never for a failed removal", async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'a', labels: { ...owned('gone'), 'runtime.computer/ip': '10.8.0.4' } });
    r.runtime.addContainer({ id: 'b', labels: { ...owned('gone'), 'runtime.computer/ip': '10.8.0.5' } });
    r.runtime.fail('remove', () => new Error('device or resource busy'), 'b');
    const result = await pass(r);
    expect(result.deleted).toEqual(['a']);
    expect([...result.failed].map(([id, err]) => [id, err.message])).toEqual([['b', 'device or resource busy']]);
    expect(r.released).toEqual([{ id: 'a', at: expect.any(Number), existed: false }]);
    const ops = r.runtime.calls.filter((c) => c.target === 'a').map((c) => `${c.op}${c.signal ? `:${c.signal}` : ''}`);
    expect(ops).toEqual(['taskState', 'kill:SIGQUIT', 'taskState', 'remove']);
  });

  it('counts a container someone else removed during the kill grace as deleted (NotFound is success)', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'racing', labels: owned('gone') });
    r.runtime.during('kill', () => r.runtime.remove('racing'), 'racing');
    const result = await pass(r);
    expect(result.deleted).toEqual(['racing']);
    expect(r.released.map((x) => x.id)).toEqual(['racing']);
  });

  it('keeps going after a per-container failure: a failed kill or state read still ends in a removal', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'a', labels: owned('gone') });
    r.runtime.addContainer({ id: 'b', labels: owned('gone') });
    r.runtime.fail('taskState', () => new Error('shim gone'), 'a');
    r.runtime.fail('kill', () => new Error('permission denied'), 'b');
    const result = await pass(r);
    expect(result.deleted).toEqual(['a', 'b']);
    expect(result.failed.size).toBe(0);
  });

  it('fails the pass, touching nothing, when either list fails', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'a', labels: owned('gone') });
    r.desired.listError = new Error('index not synced');
    await expect(r.watchdog.cleanupOrphans()).rejects.toThrow('index not synced');
    r.desired.listError = undefined;
    r.runtime.fail('listContainers', () => new Error('containerd: connection refused'));
    await expect(r.watchdog.cleanupOrphans()).rejects.toThrow('connection refused');
    expect(r.runtime.has('a')).toBe(true);
    expect(r.runtime.calls.filter((c) => c.op !== 'listContainers')).toEqual([]);
  });

  it('bounds a pass to 2 minutes: a hung removal is reported as failed and the pass returns', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'hung', labels: owned('gone') });
    r.runtime.addContainer({ id: 'fine', labels: owned('gone') });
    r.runtime.during('remove', () => new Promise<void>(() => {}), 'hung');
    const running = r.watchdog.cleanupOrphans();
    await r.clock.advance(5_000);
    await r.clock.advance(115_000 - 1);
    let done = false;
    void running.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    await r.clock.advance(1);
    const result = await running;
    expect(result.deleted).toEqual(['fine']);
    expect(result.failed.get('hung')?.message).toBe('container watchdog pass exceeded its 120000 ms deadline');
    expect(r.released.map((x) => x.id)).toEqual(['fine']);
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it('joins a pass already running instead of starting a second one', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'a', labels: owned('gone') });
    const first = r.watchdog.cleanupOrphans();
    expect(r.watchdog.cleanupOrphans()).toBe(first);
    await r.clock.advance(5_000);
    await first;
    expect(r.runtime.calls.filter((c) => c.op === 'listContainers')).toHaveLength(1);
  });

  it('stop() during the kill grace aborts the pass: nothing is removed or released, and no timer is left', async () => {
    const r = rig();
    r.runtime.addContainer({ id: 'a', labels: owned('gone'), ignores: ['SIGQUIT'] });
    const running = r.watchdog.cleanupOrphans();
    await settle();
    await r.watchdog.stop();
    const result = await running;
    expect(result.deleted).toEqual([]);
    expect([...result.failed.keys()]).toEqual(['a']);
    expect(r.runtime.has('a')).toBe(true);
    expect(r.released).toEqual([]);
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it('runs a pass when nudged, e.g. right after an owner was deleted', async () => {
    const r = rig({ jitter: 0 });
    r.desired.set(sandbox('sb', 'RUNNING', r.clock.now()));
    r.runtime.addContainer({ id: pauseId('sb'), labels: owned('sb') });
    r.watchdog.start();
    await settle();
    r.desired.set();
    r.desired.truth.clear();
    r.watchdog.nudge();
    await r.clock.advance(5_000);
    expect(r.runtime.has(pauseId('sb'))).toBe(false);
    expect(r.runtime.calls.filter((c) => c.op === 'listContainers').map((c) => c.at - 1_000_000)).toEqual([0, 0]);
    await r.watchdog.stop();
  });

  it('takes zero or negative durations as the defaults, as upstream does for an unset window', async () => {
    const r = rig({ graceWindow: 0, checkInterval: -5, jitter: 0 });
    r.desired.set(sandbox('sb', 'DEAD', r.clock.now() - 179_999));
    r.runtime.addContainer({ id: pauseId('sb'), labels: owned('sb') });
    r.watchdog.start();
    await settle();
    expect(r.runtime.has(pauseId('sb'))).toBe(true);
    await r.clock.advance(5 * 60_000);
    expect(r.runtime.calls.filter((c) => c.op === 'listContainers')).toHaveLength(2);
    await r.clock.advance(5_000);
    expect(r.runtime.has(pauseId('sb'))).toBe(false);
    await r.watchdog.stop();
  });

  it('reads IPs from the runtime.computer/ip labels for a release hook, skipping values that are not addresses', () => {
    const c: RuntimeContainer = {
      id: 'x',
      labels: { 'runtime.computer/ip': '10.8.0.4', 'runtime.computer/ip6': 'fd00::4', 'runtime.computer/ip-bad': 'not-an-ip', other: '10.0.0.1' },
    };
    expect(ipsFromLabels(c)).toEqual(['10.8.0.4', 'fd00::4']);
  });

  it('logs through a pino logger with the fields: an orphan found at warn, the removal at info, a failed release at error', async () => {
    const { logger, lines } = capturePino();
    const r = rig({
      logger,
      release: async () => {
        throw new Error('ipam unreachable');
      },
    });
    r.runtime.addContainer({ id: pauseId('sb-gone'), labels: owned('sb-gone') });
    r.watchdog.start();
    for (let i = 0; i < 10; i++) await r.clock.advance(1_000);
    await r.watchdog.stop();
    const pick = (msg: string) => lines.filter((l) => l.msg === msg).map(({ level, id, reason, error, deleted, failed }) => ({ level, id, reason, error, deleted, failed }));
    expect(pick('container watchdog found an orphaned container')).toEqual([{ level: LEVEL.warn, id: pauseId('sb-gone'), reason: 'owner sb-gone does not exist' }]);
    expect(pick('container watchdog could not release what an orphan held')).toEqual([{ level: LEVEL.error, id: pauseId('sb-gone'), error: 'ipam unreachable' }]);
    expect(pick('container watchdog removed orphans')).toEqual([{ level: LEVEL.info, deleted: 1, failed: 0 }]);
  });
});
