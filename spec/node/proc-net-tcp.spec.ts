// The /proc/<pid>/net/tcp{,6} LISTEN parser: miren's portmonitor_test.go fixtures (§3.5
// PortMonitor), then this process's own tables with sockets the test listens on, IPv4 and IPv6.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortListening, listeningPorts, parseHexAddress, parseListenSockets, readListenSockets, tableListensOn } from '../../lib/node/proc-net-tcp.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
// 0.0.0.0:6667 LISTEN and 127.0.0.1:3000 ESTABLISHED, as in TestPortListening.
const TCP_FIXTURE =
  HEADER +
  '   0: 00000000:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n' +
  '   1: 0100007F:0BB8 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 67890 1 0000000000000000 20 0 0 10 -1\n';
// [::]:3000 LISTEN, as in TestPortListeningIPv6.
const TCP6_FIXTURE =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
  '   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function procRoot(pid: number, tables: { tcp?: string; tcp6?: string }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'refwatch-proc-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, String(pid), 'net'), { recursive: true });
  if (tables.tcp !== undefined) await writeFile(join(root, String(pid), 'net', 'tcp'), tables.tcp);
  if (tables.tcp6 !== undefined) await writeFile(join(root, String(pid), 'net', 'tcp6'), tables.tcp6);
  return root;
}

async function listen(host: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: one the test listened on and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('socket table parser (portmonitor_test.go fixtures)', () => {
  it.each([
    [6667, true, 'LISTEN (0A)'],
    [3000, false, 'ESTABLISHED (01)'],
    [8080, false, 'absent'],
  ])('port %i in the IPv4 table: %s (%s)', (port, expected) => {
    expect(tableListensOn(TCP_FIXTURE, port)).toBe(expected);
  });

  it('finds a listener in the IPv6 table (3000 yes, 8080 no)', () => {
    expect(tableListensOn(TCP6_FIXTURE, 3000)).toBe(true);
    expect(tableListensOn(TCP6_FIXTURE, 8080)).toBe(false);
  });

  it.each([
    ['0100007F', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['0101A8C0', '192.168.1.1'],
    ['00000000000000000000000001000000', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
    ['B80D0120000000000000000001000000', '2001:db8::1'],
  ])('decodes the little-endian address words %s as %s', (hex, address) => {
    expect(parseHexAddress(hex)?.address).toBe(address);
  });

  it.each(['zzzz', '0100007', '', '0100007F00'])('rejects %j as an address', (hex) => {
    expect(parseHexAddress(hex)).toBeUndefined();
  });

  it('lists the LISTEN rows with address and port, ignoring established connections (listListeningPorts)', () => {
    const table =
      HEADER +
      '   0: 00000000:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n' +
      '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 100 0 0 10 0\n' +
      '   2: 0100007F:0BB8 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 67890 1 0000000000000000 20 0 0 10 -1\n';
    expect(parseListenSockets(table)).toEqual([
      { address: '0.0.0.0', port: 6667, family: 4, loopback: false },
      { address: '127.0.0.1', port: 8080, family: 4, loopback: true },
    ]);
  });

  it('skips malformed rows and keeps the good ones', () => {
    const table =
      HEADER +
      '   0: garbage\n' +
      '   1: 0100007F 00000000:0000 0A\n' +
      '   2: 0100007Z:1F90 00000000:0000 0A 00000000:00000000\n' +
      '   3: 0100007F:XYZW 00000000:0000 0A 00000000:00000000\n' +
      '   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n' +
      '   5: 0100007F:1F91 00000000:0000 0A 00000000:000';
    expect(parseListenSockets(table).map((s) => s.port)).toEqual([8080, 8081]);
    expect(parseListenSockets('')).toEqual([]);
  });

  it('splits ports into routable and loopback-only; a port on both counts as routable (DiagnoseListening)', async () => {
    const tcp =
      HEADER +
      '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0 100 0 0 10 0\n' +
      '   1: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2 1 0 100 0 0 10 0\n' +
      '   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1 0 100 0 0 10 0\n';
    const tcp6 =
      TCP6_FIXTURE + '   1: 00000000000000000000000001000000:1389 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4 1 0 100 0 0 10 0\n';
    const root = await procRoot(4242, { tcp, tcp6 });
    expect(await listeningPorts(4242, { procRoot: root })).toEqual({ routable: [3000, 8080], loopback: [5000, 5001] });
  });

  it('reads a namespace without a tcp6 table, but reports an unreadable tcp table as unknown, not as "nothing listens"', async () => {
    const root = await procRoot(7, { tcp: TCP_FIXTURE });
    expect(await listeningPorts(7, { procRoot: root })).toEqual({ routable: [6667], loopback: [] });
    expect(await readListenSockets(8, { procRoot: root })).toBeUndefined();
    expect(await listeningPorts(8, { procRoot: root })).toBeUndefined();
    expect(await isPortListening(8, 6667, { procRoot: root })).toBe(false);
    expect(await readListenSockets(-1)).toBeUndefined();
    expect(await isPortListening(999_999_999, 80)).toBe(false);
  });

  it('rejects with an AbortError when its signal aborts, instead of answering "unknown"', async () => {
    const root = await procRoot(7, { tcp: TCP_FIXTURE });
    await expect(readListenSockets(7, { procRoot: root, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(listeningPorts(7, { procRoot: root, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(isPortListening(7, 6667, { procRoot: root, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await isPortListening(7, 6667, { procRoot: root, signal: new AbortController().signal })).toBe(true);
  });
});

describe('socket tables of this process (its own /proc/<pid>/net/tcp and tcp6)', () => {
  it('sees an IPv4 listener on loopback and one on the wildcard, and classifies them', async () => {
    const routable = await listen('0.0.0.0');
    const loopback = await listen('127.0.0.1');
    expect(await isPortListening(process.pid, routable)).toBe(true);
    expect(await isPortListening(process.pid, loopback)).toBe(true);
    const ports = await listeningPorts(process.pid);
    expect(ports?.routable).toContain(routable);
    expect(ports?.routable).not.toContain(loopback);
    expect(ports?.loopback).toContain(loopback);
  });

  it('sees IPv6 listeners on ::1 (loopback) and :: (routable) in tcp6', async () => {
    const loopback = await listen('::1');
    const routable = await listen('::');
    const sockets = (await readListenSockets(process.pid)) ?? [];
    expect(sockets).toContainEqual({ address: '::1', port: loopback, family: 6, loopback: true });
    expect(sockets).toContainEqual({ address: '::', port: routable, family: 6, loopback: false });
    const ports = await listeningPorts(process.pid);
    expect(ports?.loopback).toContain(loopback);
    expect(ports?.routable).toContain(routable);
  });

  it('does not see a port once its listener is closed', async () => {
    expect(await isPortListening(process.pid, await closedPort())).toBe(false);
  });
});
