// PortMonitor on FakeClock: the 100 ms first delay and 250 ms polls, stop once every port is
// bound, restart on a second monitor() of the same container, Unbound on an early cancel, close()
// waiting for all; socket tables from fixture files (so a test decides when a port binds), and
// from this process's own /proc with sockets the test listens on, IPv4 and IPv6.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortMonitor, type BoundPort, type PortStatus } from '../../lib/node/port-monitor.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import type { LoggerLike } from '../../lib/util/logger.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';
import { LEVEL, capturePino } from '../util/log-capture.js';

const PID = 4242;
const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (addressHex: string, port: number, state = '0A') =>
  `   0: ${addressHex}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Event {
  container: string;
  port: BoundPort;
  status: PortStatus;
  at: number;
}

async function rig(logger?: LoggerLike) {
  const clock = new FakeClock();
  const root = await mkdtemp(join(tmpdir(), 'refwatch-proc-'));
  await mkdir(join(root, String(PID), 'net'), { recursive: true });
  const events: Event[] = [];
  const monitor = new PortMonitor({
    clock,
    logger,
    procRoot: root,
    tracker: { setPortStatus: (container, port, status) => events.push({ container, port, status, at: clock.now() }) },
  });
  cleanups.push(async () => {
    await monitor.close();
    await rm(root, { recursive: true, force: true });
  });
  const table = (...listening: number[]) => writeFile(join(root, String(PID), 'net', 'tcp'), HEADER + listening.map((p) => row('00000000', p)).join(''));
  /** Steps the clock by `ms`, then lets the poll that fell due finish its (real) file reads. */
  const advance = async (ms: number) => {
    await clock.advance(ms);
    await untilQuiet(clock, monitor);
  };
  return { clock, events, monitor, table, advance, root };
}

/** Waits (in 1 ms steps, for real I/O only) until every running poller is asleep on the clock again. */
async function untilQuiet(clock: FakeClock, monitor: PortMonitor): Promise<void> {
  for (let i = 0; i < 2_000 && monitor.active > 0 && clock.pendingTimers() < monitor.active; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('PortMonitor (portmonitor.go)', () => {
  it('waits 100 ms, then polls every 250 ms, and reports a port Bound with the container IP', async () => {
    const r = await rig();
    await r.table();
    r.monitor.monitor('c1', { pid: PID, ports: [8080], ip: '10.8.0.4' });
    await r.advance(349);
    await r.advance(1);
    await r.advance(250);
    expect(r.events).toEqual([]);
    await r.table(8080);
    await r.advance(249);
    expect(r.events).toEqual([]);
    await r.advance(1);
    expect(r.events).toEqual([{ container: 'c1', port: { port: 8080, address: '10.8.0.4' }, status: 'bound', at: 850 }]);
  });

  it('stops polling once every port is bound, each reported once', async () => {
    const r = await rig();
    await r.table(3000);
    r.monitor.monitor('c1', { pid: PID, ports: [3000, 8080, 3000] });
    await r.advance(350);
    expect(r.events.map((e) => [e.port.port, e.status])).toEqual([[3000, 'bound']]);
    expect(r.monitor.active).toBe(1);
    await r.table(3000, 8080);
    await r.advance(250);
    expect(r.events.map((e) => [e.port.port, e.status])).toEqual([
      [3000, 'bound'],
      [8080, 'bound'],
    ]);
    expect(r.monitor.active).toBe(0);
    expect(r.clock.pendingTimers()).toBe(0);
    await r.advance(10_000);
    expect(r.events).toHaveLength(2);
  });

  it('logs each port that became bound at debug, with the container and port, through a pino logger', async () => {
    const { logger, lines } = capturePino();
    const r = await rig(logger);
    await r.table(3000);
    r.monitor.monitor('c1', { pid: PID, ports: [3000] });
    await r.advance(350);
    expect(lines.map(({ level, msg, container, port }) => ({ level, msg, container, port }))).toEqual([
      { level: LEVEL.debug, msg: 'port became bound', container: 'c1', port: 3000 },
    ]);
  });

  it('leaves out an address that is not an IP literal', async () => {
    const r = await rig();
    await r.table(80);
    r.monitor.monitor('c1', { pid: PID, ports: [80], ip: 'not an ip' });
    await r.advance(350);
    expect(r.events.map((e) => e.port)).toEqual([{ port: 80 }]);
  });

  it('reports Unbound for the ports it reported Bound when cancelled before all were bound', async () => {
    const r = await rig();
    await r.table(3000);
    r.monitor.monitor('c1', { pid: PID, ports: [3000, 8080], ip: '10.8.0.4' });
    await r.advance(350);
    r.monitor.stopMonitoring('c1');
    await r.advance(0);
    expect(r.events.map((e) => [e.port, e.status])).toEqual([
      [{ port: 3000, address: '10.8.0.4' }, 'bound'],
      [{ port: 3000, address: '10.8.0.4' }, 'unbound'],
    ]);
    expect(r.monitor.active).toBe(0);
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it("reports nothing when cancelled after every port was bound: a port closing later is the owner's to notice", async () => {
    const r = await rig();
    await r.table(3000);
    r.monitor.monitor('c1', { pid: PID, ports: [3000] });
    await r.advance(350);
    r.monitor.stopMonitoring('c1');
    await r.advance(0);
    expect(r.events.map((e) => e.status)).toEqual(['bound']);
  });

  it('restarts monitoring when the same container is monitored again', async () => {
    const r = await rig();
    await r.table(3000);
    r.monitor.monitor('c1', { pid: PID, ports: [3000, 8080] });
    await r.advance(350);
    r.monitor.monitor('c1', { pid: PID, ports: [3000, 8080] });
    await r.advance(0);
    expect(r.events.map((e) => [e.port.port, e.status, e.at])).toEqual([
      [3000, 'bound', 350],
      [3000, 'unbound', 350],
    ]);
    await r.advance(349);
    expect(r.events).toHaveLength(2);
    await r.advance(1);
    expect(r.events.map((e) => [e.port.port, e.status, e.at])).toEqual([
      [3000, 'bound', 350],
      [3000, 'unbound', 350],
      [3000, 'bound', 700],
    ]);
    expect(r.monitor.active).toBe(1);
  });

  it('keeps polling a container whose process is gone, until cancelled', async () => {
    const r = await rig();
    r.monitor.monitor('c1', { pid: 9, ports: [80] });
    await r.advance(350);
    await r.advance(250);
    expect(r.events).toEqual([]);
    expect(r.monitor.active).toBe(1);
    expect(r.clock.pendingTimers()).toBe(1);
  });

  it('close() cancels every monitor and waits for all of them; later monitor() calls are ignored', async () => {
    const r = await rig();
    await r.table(1);
    r.monitor.monitor('a', { pid: PID, ports: [1, 2] });
    r.monitor.monitor('b', { pid: PID, ports: [3] });
    await r.advance(350);
    expect(r.monitor.active).toBe(2);
    await r.monitor.close();
    expect(r.monitor.active).toBe(0);
    expect(r.clock.pendingTimers()).toBe(0);
    expect(r.events.map((e) => [e.container, e.port.port, e.status])).toEqual([
      ['a', 1, 'bound'],
      ['a', 1, 'unbound'],
    ]);
    r.monitor.monitor('c', { pid: PID, ports: [1] });
    expect(r.monitor.active).toBe(0);
    expect(r.clock.pendingTimers()).toBe(0);
    await r.monitor.close();
  });

  it('diagnoses what a monitored container listens on, and nothing for one it does not monitor (DiagnoseListening)', async () => {
    const r = await rig();
    await writeFile(join(r.root, String(PID), 'net', 'tcp'), HEADER + row('00000000', 8080) + row('0100007F', 5000));
    r.monitor.monitor('c1', { pid: PID, ports: [3000] });
    r.monitor.monitor('gone', { pid: 9, ports: [3000] });
    expect(await r.monitor.diagnoseListening('c1')).toEqual({ routable: [8080], loopback: [5000] });
    expect(await r.monitor.diagnoseListening('unknown')).toBeUndefined();
    expect(await r.monitor.diagnoseListening('gone')).toBeUndefined();
    await expect(r.monitor.diagnoseListening('c1', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('cancels every monitor at the end of an `await using` block, also when the block throws; later monitor() calls are ignored', async () => {
    const r = await rig();
    await r.table();
    await expectAwaitUsingCloses(
      () => new PortMonitor({ clock: r.clock, procRoot: r.root, tracker: { setPortStatus() {} } }),
      (monitor) => {
        monitor.monitor('c2', { pid: PID, ports: [80] });
        return monitor.active === 0 && r.clock.pendingTimers() === 0;
      },
      (monitor) => monitor.monitor('c1', { pid: PID, ports: [8080] }),
    );
  });
});

describe("PortMonitor on this process's own sockets", () => {
  async function listen(host: string) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as { port: number }).port;
  }

  it('reports Bound for an IPv4 and an IPv6 listener read from /proc/<pid>/net/tcp and tcp6', async () => {
    const clock = new FakeClock();
    const events: [number, PortStatus][] = [];
    const monitor = new PortMonitor({ clock, tracker: { setPortStatus: (_c, port, status) => events.push([port.port, status]) } });
    cleanups.push(() => monitor.close());
    const v4 = await listen('127.0.0.1');
    const v6 = await listen('::1');
    monitor.monitor('self', { pid: process.pid, ports: [v4, v6] });
    await clock.advance(350);
    await untilQuiet(clock, monitor);
    expect(events.sort()).toEqual(
      [
        [v4, 'bound'],
        [v6, 'bound'],
      ].sort(),
    );
    expect(monitor.active).toBe(0);
  });
});
