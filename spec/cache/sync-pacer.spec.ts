// The pacer of many reflectors' first syncs, on FakeClock: a burst, then a steady rate; a 429
// pauses everyone for its Retry-After and halves the rate, which recovers later.
import { describe, expect, it } from '@jest/globals';
import { SyncPacer } from '../../lib/cache/sync-pacer.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';

function pacer(opts: ConstructorParameters<typeof SyncPacer>[1] = {}) {
  const clock = new FakeClock();
  const p = new SyncPacer(clock, opts);
  const granted: number[] = [];
  const take = (n: number) => Array.from({ length: n }, (_, i) => p.acquire(() => granted.push(i)));
  return { clock, pacer: p, granted, take };
}

describe('SyncPacer', () => {
  it('lets a burst through at once, synchronously, then one sync per 1/qps', async () => {
    const p = pacer({ qps: 10, burst: 5 });
    p.take(12);
    expect(p.granted).toEqual([0, 1, 2, 3, 4]);
    expect(p.pacer.queued).toBe(7);
    await p.clock.advance(99);
    expect(p.granted).toHaveLength(5);
    await p.clock.advance(1);
    expect(p.granted).toHaveLength(6);
    await p.clock.advance(600);
    expect(p.granted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(p.clock.pendingTimers()).toBe(0);
  });

  it('refills to the burst while idle, and not beyond it', async () => {
    const p = pacer({ qps: 10, burst: 3 });
    p.take(3);
    await p.clock.advance(60_000);
    p.take(5);
    expect(p.granted).toHaveLength(6);
  });

  it("pauses every waiter for a 429's Retry-After, halves the rate, and doubles it back after a quiet spell", async () => {
    const p = pacer({ qps: 10, burst: 2, minQps: 1, recoverAfterMs: 10_000 });
    p.take(2);
    p.pacer.throttled(2_000);
    expect(p.pacer.rate).toBe(5);
    p.take(4);
    await p.clock.advance(1_999);
    expect(p.granted).toHaveLength(2);
    // Tokens do not pile up during the pause: after it, one per 200 ms (5 per second).
    await p.clock.advance(201);
    expect(p.granted).toHaveLength(3);
    await p.clock.advance(200);
    expect(p.granted).toHaveLength(4);
    await p.clock.advance(400);
    expect(p.granted).toHaveLength(6);
    await p.clock.advance(10_000);
    p.pacer.acquire(() => {});
    expect(p.pacer.rate).toBe(10);
  });

  it('never goes below minQps however many 429s come', () => {
    const p = pacer({ qps: 100, minQps: 20 });
    for (let i = 0; i < 10; i++) p.pacer.throttled(0);
    expect(p.pacer.rate).toBe(20);
  });

  it('forgets a waiter that gives up, and leaves no timer once nobody waits', async () => {
    const p = pacer({ qps: 1, burst: 1 });
    p.take(1);
    const cancels = p.take(3);
    expect(p.clock.pendingTimers()).toBe(1);
    for (const cancel of cancels) cancel();
    expect(p.pacer.queued).toBe(0);
    expect(p.clock.pendingTimers()).toBe(0);
    await p.clock.advance(10_000);
    expect(p.granted).toEqual([0]);
  });

  it('refuses a rate or burst that could never let anything through', () => {
    expect(() => new SyncPacer(new FakeClock(), { qps: 0 })).toThrow(RangeError);
    expect(() => new SyncPacer(new FakeClock(), { burst: 0 })).toThrow(RangeError);
  });
});
