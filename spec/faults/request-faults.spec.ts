// Faults on whole requests, through the real transport into a WatchObjectStore: the next K
// requests answered 429 with Retry-After (lists retried inside the client, watches by the
// reflector), 500 and 503 (backoff, relist), and slow lists (held on the server's clock, also
// past the client's request timeout). Every test ends with each cached secret equal to the
// server's copy within a bounded fake time, and nothing left open.
import { describe, expect, it } from '@jest/globals';
import { isInternalError } from '../../lib/api/errors.js';
import { SyncTimeoutError } from '../../lib/manager/errors.js';
import { NS, Rig, rigPerTest, untilIo } from './harness.js';

const startRig = rigPerTest();
let rig: Rig | undefined;

const N = 30;

/**
 * These faults are about lists (throttled, failing, slow), so the store lists and watches as
 * before WatchList; how WatchList meets a refusing or failing server is in
 * spec/manager/watch-object-store-watch-list.spec.ts.
 */
const LIST_WATCH = { watchList: false };

/** A rig whose store is not started yet, so faults can be armed for the very first requests. */
async function unstarted(): Promise<Rig> {
  rig = await startRig({ objects: N, startStore: false, store: LIST_WATCH });
  return rig;
}

async function synced(): Promise<Rig> {
  rig = await startRig({ objects: N, store: LIST_WATCH });
  await rig.converged('initial sync');
  // Past the one-second very-short-watch threshold, so a cut watch is a normal close.
  await rig.run(5_000);
  return rig;
}

function answered(r: Rig, verb: string, code: number): number {
  return r.server.requests.filter((q) => q.verb === verb && q.code === code).length;
}

describe('429 Too Many Requests', () => {
  it('retries throttled lists after Retry-After inside the client, never sooner, and every secret syncs', async () => {
    const r = await unstarted();
    // 45 for 30 lists: every first attempt and half the second attempts are throttled.
    r.server.faults.failNext(45, { code: 429, retryAfterSeconds: 3, verbs: ['list'] });
    r.startStore();
    for (const name of r.names) r.write(name);
    const took = await r.converged('sync through throttled lists', 20_000);
    expect(answered(r, 'list', 429)).toBe(45);
    expect(answered(r, 'list', 200)).toBe(N);
    expect(r.client.stats().throttled).toBe(45);
    // Two Retry-After waits for the unlucky half, and no more than a step beyond them.
    expect(took).toBeGreaterThanOrEqual(6_000);
    expect(took).toBeLessThan(6_500);
    await r.shutdown();
  });

  it('waits at least Retry-After before re-watching a throttled watch, from the same resourceVersion, without relisting', async () => {
    const r = await synced();
    const lists = r.server.requests.countBy('list');
    r.server.faults.failNext(N, { code: 429, retryAfterSeconds: 5, verbs: ['watch'] });
    r.server.faults.dropWatches();
    for (const name of r.names) r.write(name);
    await untilIo(() => answered(r, 'watch', 429) === N, 'every re-watch throttled');
    const watches = r.server.requests.countBy('watch');
    await r.run(4_800);
    expect(r.server.requests.countBy('watch')).toBe(watches);
    const took = await r.converged('convergence after throttled watches', 10_000, 20);
    expect(took).toBeLessThan(800);
    expect(r.server.requests.countBy('list')).toBe(lists);
    expect(r.client.stats().throttled).toBe(N);
    const rewatches = r.server.requests.slice(-N);
    expect(rewatches.every((q) => q.verb === 'watch' && q.code === 200)).toBe(true);
    await r.shutdown();
  });
});

describe.each([
  { code: 500 as const, retryAfterSeconds: undefined },
  { code: 503 as const, retryAfterSeconds: 2 },
])('$code on the next requests', ({ code, retryAfterSeconds }) => {
  it('backs off, relists and re-watches until the server answers again, losing no update', async () => {
    const r = await synced();
    const lists = r.server.requests.countBy('list');
    // Twice as many failures as reflectors: every re-watch fails, then most relists do too.
    r.server.faults.failNext(2 * N, { code, retryAfterSeconds });
    r.server.faults.dropWatches();
    for (const name of r.names) r.write(name);
    const took = await r.converged(`convergence after ${code}s`, 60_000);
    expect(answered(r, 'watch', code) + answered(r, 'list', code)).toBe(2 * N);
    expect(answered(r, 'watch', code)).toBe(N);
    // A failed watch is not retried in place: the reflector relists after its backoff.
    expect(r.server.requests.countBy('list')).toBeGreaterThanOrEqual(lists + 2 * N);
    expect(took).toBeGreaterThanOrEqual(800 + 1_600);
    for (const name of r.names.slice(0, 3)) r.write(name);
    await r.converged('convergence after more writes', 10_000);
    await r.shutdown();
  });

  it('fails a get with SyncTimeoutError caused by the failure while the first lists fail, and serves it once they work', async () => {
    const r = await unstarted();
    r.server.faults.failNext(1_000, { code, retryAfterSeconds, verbs: ['list'] });
    r.startStore();
    const get = r.store.get(NS, r.names[0]).catch((e: unknown) => e);
    let settled = false;
    void get.then(() => (settled = true));
    await r.run(1_000, 100);
    // The store's 1 s sync timeout, on the fake clock.
    expect(settled).toBe(true);
    const err = await get;
    expect(err).toBeInstanceOf(SyncTimeoutError);
    expect((err as Error).cause).toMatchObject({ code });
    if (code === 500) expect(isInternalError((err as Error).cause)).toBe(true);
    r.server.faults.reset();
    await r.converged('convergence once lists work', 120_000);
    await r.shutdown();
  });
});

describe('delayed lists', () => {
  it('holds the first sync for the list delay on the server clock, and no longer', async () => {
    const r = await unstarted();
    r.server.faults.delayLists(10_000);
    r.startStore();
    const took = await r.converged('sync through delayed lists', 30_000);
    expect(took).toBeGreaterThanOrEqual(10_000);
    expect(took).toBeLessThan(10_500);
    for (const name of r.names) r.write(name);
    expect(await r.converged('watch events while lists are slow', 10_000, 20)).toBeLessThan(800);
    await r.shutdown();
  });

  it('times out lists held past the request timeout (the server sees the client leave), backs off, and syncs once lists are fast again', async () => {
    const r = await unstarted();
    r.server.faults.delayLists(120_000);
    r.startStore();
    await r.run(150_000, 500);
    expect(r.store.stats().activeReflectorLoops).toBe(N);
    expect(r.names.some((name) => r.store.inspect(NS, name)?.synced)).toBe(false);
    // The client gave up on every list after its 60 s request timeout: recorded with code 0.
    expect(answered(r, 'list', 0)).toBeGreaterThanOrEqual(N);
    expect(answered(r, 'list', 200)).toBe(0);
    r.server.faults.delayLists(0);
    for (const name of r.names) r.write(name);
    await r.converged('convergence once lists are fast', 180_000, 500);
    await r.shutdown();
  });

  it('converges when watches are cut while lists are slow and secrets keep changing', async () => {
    rig = await startRig({ objects: N, store: LIST_WATCH });
    const r = rig;
    await r.converged('initial sync');
    r.server.faults.delayLists(7_000);
    // Cut at once: each watch is a very short one, so every reflector relists, slowly.
    r.server.faults.dropWatches();
    const lists = r.server.requests.countBy('list');
    await r.run(10_000, 250, (step) => void r.write(r.names[step % N]));
    const took = await r.converged('convergence with slow relists', 30_000);
    expect(r.server.requests.countBy('list')).toBe(lists + N);
    expect(took).toBeLessThan(5_000);
    await r.shutdown();
  });
});
