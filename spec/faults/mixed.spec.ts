// Every fault at once, at random, for a bounded time: a seeded schedule (reproducible from the
// seed in the test name) of dropped watches, periodic drops, 429/500/503 answers, slow lists,
// garbage lines, compaction and restarts, while secrets keep changing. When the faults stop,
// every watched secret must reach its last written value within a bounded fake time, garbage
// must have been counted and skipped, and nothing may be left open.
import { describe, expect, it } from '@jest/globals';
import type { InjectedCode } from '../../lib/testing/api-server/index.js';
import { NS, Rig, rigPerTest, seeded, value } from './harness.js';

const startRig = rigPerTest();
let rig: Rig | undefined;

interface Tally {
  drops: number;
  failures: number;
  garbage: number;
  armedGarbage: number;
  compactions: number;
  restarts: number;
  delays: number;
  periodic: number;
}

/**
 * Runs `ms` of fake time in `stepMs` steps; at each step writes to a few secrets and, by the
 * seeded dice, switches one fault on. Then switches every fault off and writes each secret once
 * more, recording the last value written per secret in `last`. A restart's downtime may still
 * be running then: `restarting` settles once the server listens again.
 */
async function chaos(r: Rig, seed: number, ms: number, stepMs: number, last: Map<string, number>): Promise<{ tally: Tally; restarting: Promise<void> }> {
  const random = seeded(seed);
  const tally: Tally = { drops: 0, failures: 0, garbage: 0, armedGarbage: 0, compactions: 0, restarts: 0, delays: 0, periodic: 0 };
  let restarting: Promise<void> = Promise.resolve();
  let down = false;
  let stopPeriodic: (() => void) | undefined;
  let written = 0;
  const codes: InjectedCode[] = [429, 500, 503];
  await r.run(ms, stepMs, () => {
    for (let i = Math.floor(random() * 3); i >= 0; i--) {
      const name = r.names[Math.floor(random() * r.names.length)];
      r.write(name, ++written);
      last.set(name, written);
    }
    const roll = random();
    const f = r.server.faults;
    if (roll < 0.03) tally.drops += f.dropWatches();
    else if (roll < 0.05) {
      const k = 1 + Math.floor(random() * 10);
      f.failNext(k, { code: codes[Math.floor(random() * codes.length)], retryAfterSeconds: 1 + Math.floor(random() * 3) });
      tally.failures += k;
    } else if (roll < 0.07) {
      f.delayLists(random() < 0.4 ? 0 : Math.floor(random() * 8_000));
      tally.delays++;
    } else if (roll < 0.09) tally.garbage += f.garbageOnWatch();
    else if (roll < 0.1) {
      f.garbageOnNextWatch();
      tally.armedGarbage++;
    } else if (roll < 0.12) {
      f.compact();
      tally.compactions++;
    } else if (roll < 0.13 && !down) {
      down = true;
      tally.restarts++;
      restarting = f.restart(Math.floor(random() * 15_000)).finally(() => (down = false));
    } else if (roll < 0.14) {
      if (stopPeriodic) {
        stopPeriodic();
        stopPeriodic = undefined;
      } else {
        stopPeriodic = f.dropWatchesEvery(1_000 + Math.floor(random() * 5_000));
        tally.periodic++;
      }
    }
  });
  stopPeriodic?.();
  r.server.faults.reset();
  // A final write to every secret: each must reach exactly this value.
  for (const name of r.names) {
    r.write(name, ++written);
    last.set(name, written);
  }
  return { tally, restarting };
}

async function expectFinalValues(r: Rig, last: Map<string, number>): Promise<void> {
  for (const name of r.names) {
    const cached = await r.store.get(NS, name);
    expect({ name, v: cached.data?.v }).toEqual({ name, v: value(last.get(name)!) });
  }
}

describe('all faults mixed at random', () => {
  describe.each([
    { seed: 1, http2: true, streams: 100, objects: 40 },
    { seed: 2, http2: true, streams: 7, objects: 40 },
    { seed: 3, http2: false, streams: 100, objects: 20 },
  ])('seed $seed (http2: $http2, $streams streams per connection, $objects secrets)', ({ seed, http2, streams, objects }) => {
    it('reaches every last written value within 3 fake minutes after 90 fake seconds of chaos', async () => {
      rig = await startRig({ objects, seed, server: { maxConcurrentStreams: streams }, client: { http2 } });
      const r = rig;
      await r.converged('initial sync');
      const last = new Map<string, number>();
      const { tally, restarting } = await chaos(r, seed, 90_000, 250, last);
      await r.converged(`convergence after chaos (seed ${seed}, ${JSON.stringify(tally)})`, 180_000, 250);
      await restarting;
      await expectFinalValues(r, last);
      // The schedule did inject faults, and the server answered some requests with them.
      expect(tally.drops + tally.restarts + tally.compactions).toBeGreaterThan(0);
      const failed = r.server.requests.filter((q) => q.code === 429 || q.code >= 500).length;
      expect(failed).toBeLessThanOrEqual(tally.failures);
      // Garbage is counted, never more than was sent, and killed no reflector.
      const malformed = r.client.stats().malformedWatchLines;
      expect(malformed).toBeLessThanOrEqual(tally.garbage + tally.armedGarbage);
      expect(r.store.stats().activeReflectorLoops).toBe(r.names.length);
      await r.shutdown();
    });
  });

  it('keeps a SecretManager (Watch strategy) with 20 pods over 40 secrets in step through a minute of chaos', async () => {
    rig = await startRig({ objects: 40, pods: 20, seed: 5 });
    const r = rig;
    await r.converged('initial sync through the manager');
    expect(r.store.stats().objects).toBe(40);
    const last = new Map<string, number>();
    const { tally, restarting } = await chaos(r, 5, 60_000, 250, last);
    await r.converged(`convergence after chaos (${JSON.stringify(tally)})`, 180_000, 250);
    await restarting;
    await expectFinalValues(r, last);
    for (const name of r.names.slice(0, 5)) expect((await r.manager!.getSecret(NS, name)).data?.v).toBe(value(last.get(name)!));
    await r.shutdown();
  });
});
