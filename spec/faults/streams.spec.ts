// HTTP/2 streams capped per connection, through the real transport into a WatchObjectStore:
// with 50 per-object watches and a limit of 7 streams per connection, no watch may queue
// silently behind a full connection (each one is open on the server), the client spreads them
// over at least ceil(50/7) connections, and drops and restarts re-spread them without leaking
// connections.
import { describe, expect, it } from '@jest/globals';
import { Rig, rigPerTest, seeded } from './harness.js';

const startRig = rigPerTest();
let rig: Rig | undefined;

const N = 50;
const LIMIT = 7;
const MIN_CONNECTIONS = Math.ceil(N / LIMIT);

function expectSpread(r: Rig): void {
  const stats = r.client.stats();
  expect(stats.http2Connections).toBeGreaterThanOrEqual(MIN_CONNECTIONS);
  expect(stats.connections).toBe(stats.http2Connections);
  expect(stats.activeStreams).toBe(N);
  expect(r.server.openWatches).toBe(N);
  expect(r.server.connections).toBe(stats.connections);
}

describe('HTTP/2 streams capped per connection', () => {
  it(`opens all ${N} watches over at least ${MIN_CONNECTIONS} connections when the server allows ${LIMIT} streams each`, async () => {
    rig = await startRig({ objects: N, server: { maxConcurrentStreams: LIMIT } });
    const r = rig;
    await r.converged('sync under a stream limit', 30_000);
    expectSpread(r);
    expect(r.server.requests.every((q) => q.httpVersion === '2.0')).toBe(true);
    for (const name of r.names) r.write(name);
    expect(await r.converged('every watch delivers', 10_000, 20)).toBeLessThan(800);
    await r.shutdown();
  });

  it(`honours the client's own cap of ${LIMIT} streams per connection against a server that allows 100`, async () => {
    rig = await startRig({ objects: N, client: { maxStreamsPerConnection: LIMIT } });
    const r = rig;
    await r.converged('sync under a client-side stream limit', 30_000);
    expectSpread(r);
    await r.shutdown();
  });

  it('re-spreads the watches over new connections when a restart brings a lower limit', async () => {
    rig = await startRig({ objects: N });
    const r = rig;
    await r.converged('initial sync');
    expect(r.client.stats().http2Connections).toBe(1);
    await r.run(5_000);
    r.server.faults.maxStreamsPerConnection(LIMIT);
    const restarted = r.server.faults.restart(1_000);
    for (const name of r.names) r.write(name);
    await r.converged('convergence under the new limit', 60_000, 250);
    await restarted;
    expectSpread(r);
    await r.shutdown();
  });

  it('keeps every watch open through periodic drops under the limit, and closes connections left idle', async () => {
    rig = await startRig({ objects: N, server: { maxConcurrentStreams: LIMIT } });
    const r = rig;
    await r.converged('initial sync', 30_000);
    const random = seeded(3);
    const stop = r.server.faults.dropWatchesEvery(3_000);
    await r.run(30_000, 250, () => r.writeRandom(random, 2));
    stop();
    await r.converged('convergence after drops under a limit', 60_000);
    expectSpread(r);
    // Connections emptied by the drops close after the 90 s idle timeout; what stays is close
    // to the minimum, and the server agrees on the count.
    await r.run(100_000, 1_000);
    expectSpread(r);
    expect(r.client.stats().http2Connections).toBeLessThanOrEqual(MIN_CONNECTIONS + 2);
    await r.shutdown();
  });
});
