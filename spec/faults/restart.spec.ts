// An API server restart, through the real transport into a WatchObjectStore: every connection
// destroyed, the port refusing connections for a while on the server's clock, then the same
// storage and resourceVersion counter served again. Reflectors must back off (not hammer the
// refused port), resume their watches from where they were, and catch up with every write
// made while the server was away.
import { describe, expect, it } from '@jest/globals';
import { resources } from '../../lib/api/resource.js';
import { settle } from '../../lib/testing/fake-clock.js';
import { NS, Rig, rigPerTest, seeded, until, untilIo } from './harness.js';

const startRig = rigPerTest();
let rig: Rig | undefined;

function totalRequests(r: Rig): number {
  return Object.values(r.client.stats().requests).reduce((a, b) => a + b, 0);
}

// HTTP/1.1 costs a TLS connection per watch (and a new one per cut), so it watches fewer.
describe.each([
  { protocol: 'HTTP/2', http2: true, N: 30 },
  { protocol: 'HTTP/1.1', http2: false, N: 20 },
])('restart over $protocol ($N secrets)', ({ http2, N }) => {
  async function synced(seed = 1): Promise<Rig> {
    rig = await startRig({ objects: N, seed, client: { http2 } });
    await rig.converged('initial sync');
    // Watches older than a second end normally when cut: the reflector re-watches at once.
    await rig.run(5_000);
    return rig;
  }

  it('reconnects after 10 s of refused connections and catches up with the writes made meanwhile, resuming watches without a relist', async () => {
    const r = await synced();
    const syncs = r.server.requests.countSyncs();
    const restarted = r.server.faults.restart(10_000);
    await untilIo(() => !r.server.listening && r.server.connections === 0, 'server down');
    for (const name of r.names) r.write(name);
    const took = await r.converged('convergence after a restart', 60_000, 250);
    await restarted;
    expect(r.server.listening).toBe(true);
    // Nothing could be seen before the server was back, and the backoff (≤ 30 s, jittered)
    // brought every reflector back soon after.
    expect(took).toBeGreaterThanOrEqual(10_000);
    expect(took).toBeLessThan(10_000 + 30_000);
    // A refused connection is not a reason to relist: the watches resumed from their RVs. (A
    // re-watch that was sent on the dying connection fails otherwise and may relist.)
    expect(r.server.requests.countSyncs() - syncs).toBeLessThanOrEqual(2);
    if (http2) expect(r.client.stats()).toMatchObject({ http2Connections: 1, connections: 1, activeStreams: N });
    else expect(r.client.stats()).toMatchObject({ connections: N, activeStreams: N });
    expect(r.server.connections).toBe(r.client.stats().connections);
    await r.shutdown();
  });

  it('backs off through a 5-minute outage instead of hammering the port, and converges within 90 s of the return', async () => {
    const r = await synced(2);
    const before = totalRequests(r);
    const restarted = r.server.faults.restart(300_000);
    await untilIo(() => !r.server.listening, 'server down');
    await r.run(300_000 - 1_000, 1_000, (step) => {
      if (step % 20 === 0) r.write(r.names[step % N]);
    });
    // client-go's backoff (800 ms doubling to 30 s, jitter up to 2x): about 10 attempts per
    // reflector in 5 minutes, against 375 at a fixed 800 ms.
    const attempts = totalRequests(r) - before;
    expect(attempts).toBeGreaterThanOrEqual(N * 5);
    expect(attempts).toBeLessThanOrEqual(N * 15);
    for (const name of r.names) r.write(name);
    // The server is back 1 s after these writes; a reflector may have just begun its longest
    // sleep (30 s cap, jittered up to 60 s), plus the reconnect.
    const took = await r.converged('convergence after a long outage', 1_000 + 90_000, 250);
    expect(took).toBeGreaterThanOrEqual(1_000);
    await restarted;
    await r.shutdown();
  });

  it('converges through back-to-back restarts with writes in between', async () => {
    const r = await synced(3);
    const random = seeded(5);
    for (let i = 0; i < 4; i++) {
      const restarted = r.server.faults.restart(Math.floor(random() * 5_000));
      r.writeRandom(random, 10);
      await r.run(6_000, 200, () => r.writeRandom(random, 1));
      await restarted;
    }
    await r.converged('convergence after repeated restarts', 90_000, 250);
    await r.shutdown();
  });
});

describe('requests in flight when the server goes away (HTTP/2)', () => {
  type Secret = { metadata?: { name?: string } };

  async function connected() {
    rig = await startRig({ objects: 1, startStore: false });
    const r = rig;
    const secrets = r.client.source<Secret>(resources.secrets);
    // An HTTP/2 connection is up.
    await secrets.list(NS);
    expect(r.client.stats().http2Connections).toBe(1);
    return { r, secrets };
  }

  function track<T>(p: Promise<T>): { readonly outcome: string } {
    const state = { outcome: 'pending' };
    p.then(
      () => (state.outcome = 'settled'),
      (err: unknown) => (state.outcome = `failed: ${(err as Error).name}: ${(err as Error).message}`),
    );
    return state;
  }

  it('settles every watch re-opened the moment the server cut it, none left pending forever on the dying connection', async () => {
    const { r, secrets } = await connected();
    const rv = r.server.storage.resourceVersion;
    const watch = () => secrets.watch(NS, { resourceVersion: rv, timeoutSeconds: 60 })[Symbol.asyncIterator]();
    const firsts = Array.from({ length: 30 }, watch);
    const ended = firsts.map((w) => w.next());
    await untilIo(() => r.server.openWatches === 30, 'the first watches are open');
    // What a reflector does: the moment its watch ends, it watches again.
    const seconds: AsyncIterator<unknown>[] = [];
    const rewatches = ended.map((end) =>
      track(
        end.then(() => {
          const again = watch();
          seconds.push(again);
          return again.next();
        }),
      ),
    );
    const restarted = r.server.faults.restart(0);
    const pending = () => rewatches.filter((w) => w.outcome === 'pending').length;
    await until(() => pending() === 0, {
      clock: r.clock,
      stepMs: 1_000,
      maxSteps: 600,
      what: 'every re-watch settles (an event, an end or an error) after the connection it was sent on closed',
      describe: () => `${pending()} of 30 still pending ${r.describe()}`,
    });
    await restarted;
    for (const w of seconds) await w.return?.();
    await r.shutdown();
  });

  it('fails a list the server was holding when its connection dies: at once, and in any case by the request timeout', async () => {
    const { r, secrets } = await connected();
    r.server.faults.delayLists(600_000);
    const list = track(secrets.list(NS));
    // A few I/O turns: the request reaches the server, which holds it on its (fake) clock.
    await settle(50);
    expect(list.outcome).toBe('pending');
    await r.server.faults.restart(0);
    await untilIo(() => r.client.stats().http2Connections === 0, 'the client saw its connection close');
    // A stream closed under a request is a transport failure to report now; at the latest the
    // client's 60 s request timeout ends the wait.
    const took = await until(() => list.outcome !== 'pending', {
      clock: r.clock,
      stepMs: 1_000,
      maxSteps: 120,
      what: 'the list settles after its connection closed',
      describe: () => r.describe(),
    });
    expect(list.outcome).toMatch(/^failed: TransportError: .*https:\/\/127\.0\.0\.1:/);
    expect(took).toBe(0);
    await r.shutdown();
  });
});
