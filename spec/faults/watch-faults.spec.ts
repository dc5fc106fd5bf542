// Faults on open watch streams, through the real transport (KubeClient over TLS, HTTP/2 and
// HTTP/1.1) into a WatchObjectStore: streams dropped once and periodically, garbage lines on
// live and new watches, and compaction that turns re-watches into 410s. Each test writes
// updates while the fault plays out, then requires every cached secret to equal the server's
// copy within a bounded fake time, and leaves no socket, watch, loop or timer behind.
import { describe, expect, it } from '@jest/globals';
import { Rig, rigPerTest, seeded, untilIo } from './harness.js';

const startRig = rigPerTest();
let rig: Rig | undefined;

// HTTP/1.1 costs a TLS connection per watch (and a new one per cut), so it watches fewer.
describe.each([
  { protocol: 'HTTP/2', http2: true, N: 30 },
  { protocol: 'HTTP/1.1', http2: false, N: 20 },
])('watch faults over $protocol ($N secrets)', ({ http2, N }) => {
  async function start(seed = 1): Promise<Rig> {
    rig = await startRig({ objects: N, seed, client: { http2 } });
    await rig.converged('initial sync');
    expect(rig.client.stats().protocols).toEqual([http2 ? 'h2' : 'http/1.1']);
    return rig;
  }

  describe('dropWatches', () => {
    it('re-watches every dropped stream from its last resourceVersion without relisting, and the writes made meanwhile arrive', async () => {
      const r = await start();
      // Watches that have lived past client-go's one-second "very short watch" threshold end
      // normally when cut: the reflector re-watches at once from its resourceVersion.
      await r.run(5_000);
      const syncs = r.server.requests.countSyncs();
      const watches = r.server.requests.countBy('watch');
      const before = Number(r.server.storage.resourceVersion);
      expect(r.server.faults.dropWatches()).toBe(N);
      for (const name of r.names) r.write(name);
      const took = await r.converged('convergence after one drop', 10_000, 20);
      // Sooner than the reflector's first backoff (800 ms): nothing waited.
      expect(took).toBeLessThan(800);
      expect(r.server.requests.countSyncs()).toBe(syncs);
      expect(r.server.requests.countBy('watch')).toBe(watches + N);
      // Each re-watch resumed where its reflector had got to, so the writes were replayed.
      const resumed = r.server.requests.slice(-N);
      expect(resumed.every((q) => q.verb === 'watch' && q.code === 200)).toBe(true);
      expect(resumed.every((q) => Number(q.resourceVersion) > 0 && Number(q.resourceVersion) <= before)).toBe(true);
      await r.shutdown();
    });

    it('backs off and resyncs when a watch is cut before it lived a second with no event (very short watch)', async () => {
      const r = await start();
      // Every watch started at the same fake instant: cut them once they are past a second old
      // (a normal close, re-watched at once) and wait for the re-watches on I/O alone, so the
      // cut below finds every watch 0 fake ms old, however long the initial sync took here.
      await r.run(1_000);
      r.server.faults.dropWatches();
      await untilIo(() => r.server.openWatches === N, 'every re-watch open');
      const syncs = r.server.requests.countSyncs();
      expect(r.server.faults.dropWatches()).toBe(N);
      for (const name of r.names.slice(0, 10)) r.write(name);
      const took = await r.converged('convergence after a very short watch', 10_000);
      // client-go's reflector backoff starts at 800 ms: nothing comes back sooner.
      expect(took).toBeGreaterThanOrEqual(800);
      expect(took).toBeLessThan(5_000);
      // One full sync each: a WatchList stream, since the embedded server serves WatchList.
      expect(r.server.requests.countSyncs()).toBe(syncs + N);
      expect(r.server.requests.countBy('list')).toBe(0);
      expect(r.store.stats().activeReflectorLoops).toBe(N);
      await r.shutdown();
    });

    it('loses no update while every watch is dropped every 2 s for 30 s', async () => {
      const r = await start(7);
      const random = seeded(42);
      const watches = r.server.requests.countBy('watch');
      const stop = r.server.faults.dropWatchesEvery(2_000);
      await r.run(30_000, 250, () => r.writeRandom(random, 2));
      stop();
      // One last write to every secret: the final value must be reached by all of them.
      const finalRv = r.names.map((name) => r.write(name));
      await r.converged('convergence after periodic drops', 60_000);
      expect(r.server.requests.countBy('watch')).toBeGreaterThan(watches + N * 10);
      for (const [i, name] of r.names.entries()) expect((await r.store.get('faults', name)).metadata?.resourceVersion).toBe(finalRv[i]);
      await r.shutdown();
    });
  });

  describe('garbage on a watch', () => {
    it('counts a garbage line on every live watch, skips it, and keeps each stream and reflector going', async () => {
      const r = await start();
      await r.run(2_000);
      const syncs = r.server.requests.countSyncs();
      const watches = r.server.requests.countBy('watch');
      expect(r.server.faults.garbageOnWatch()).toBe(N);
      for (const name of r.names) r.write(name);
      await r.converged('convergence after garbage', 10_000);
      expect(r.client.stats().malformedWatchLines).toBe(N);
      // Not one stream was restarted: the garbage was skipped, not fatal.
      expect(r.server.requests.countSyncs()).toBe(syncs);
      expect(r.server.requests.countBy('watch')).toBe(watches);
      expect(r.server.openWatches).toBe(N);
      await r.shutdown();
    });

    it('counts a garbage line that opens the next watch, which then streams normally', async () => {
      rig = await startRig({ objects: N, client: { http2 }, startStore: false });
      const r = rig;
      r.server.faults.garbageOnNextWatch();
      r.startStore();
      await r.converged('initial sync with garbage first', 10_000);
      await untilIo(() => r.client.stats().malformedWatchLines > 0, `the garbage line read (${r.describe()})`);
      expect(r.client.stats().malformedWatchLines).toBe(1);
      const watches = r.server.requests.countBy('watch');
      for (const name of r.names) r.write(name);
      await r.converged('convergence after writes', 10_000);
      expect(r.server.requests.countBy('watch')).toBe(watches);
      await r.shutdown();
    });

    it('survives garbage on every watch again and again, interleaved with drops and writes', async () => {
      const r = await start(3);
      const random = seeded(9);
      let injected = 0;
      for (let round = 0; round < 10; round++) {
        injected += r.server.faults.garbageOnWatch();
        r.server.faults.garbageOnNextWatch();
        r.writeRandom(random, 5);
        // Let the garbage reach the client before the streams are cut.
        await untilIo(() => r.client.stats().malformedWatchLines >= injected, `garbage of round ${round} read`);
        await r.run(1_500, 100);
        if (round % 3 === 2) r.server.faults.dropWatches();
      }
      await r.converged('convergence after repeated garbage', 60_000);
      const malformed = r.client.stats().malformedWatchLines;
      // Every live-stream garbage line was counted; some armed next-watch lines were too.
      expect(malformed).toBeGreaterThanOrEqual(injected);
      expect(malformed).toBeLessThanOrEqual(injected + 10);
      expect(r.store.stats().activeReflectorLoops).toBe(N);
      await r.shutdown();
    });
  });

  describe('compaction', () => {
    it('resyncs after the 410 that re-watching from a compacted resourceVersion gets, and loses no update', async () => {
      const r = await start();
      await r.run(5_000);
      const syncs = r.server.requests.countSyncs();
      // Cut every stream, move on, and compact before any re-watch reaches the server: each
      // reflector's resourceVersion is now older than the history, so its re-watch gets 410.
      r.server.faults.dropWatches();
      for (const name of r.names) r.write(name);
      r.server.faults.compact();
      const took = await r.converged('convergence after compaction', 10_000);
      expect(r.server.requests.countSyncs()).toBe(syncs + N);
      // A 410 is a failure: the relist waits for the reflector's backoff (800 ms at first).
      expect(took).toBeGreaterThanOrEqual(800);
      await r.shutdown();
    });

    it('converges when compaction keeps coming while secrets change', async () => {
      const r = await start(5);
      const random = seeded(11);
      await r.run(20_000, 200, (step) => {
        r.writeRandom(random, 3);
        if (step % 10 === 0) r.server.faults.dropWatches();
        if (step % 10 === 1) r.server.faults.compact();
      });
      await r.converged('convergence after repeated compaction', 60_000);
      await r.shutdown();
    });
  });
});
