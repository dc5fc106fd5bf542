// DeadlineWheel on its own: many deadlines on one timer of the injected clock, each fired once
// its (rounded-up) time has passed, the timer moved to an earlier deadline when one comes, and
// gone with the last deadline.
import { describe, expect, it } from '@jest/globals';
import { DeadlineWheel } from '../../lib/api/deadline-wheel.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';

function expiring(log: string[], name: string) {
  return { expire: () => log.push(name) };
}

describe('DeadlineWheel', () => {
  it('fires every deadline once its time has passed, on one timer for all of them', async () => {
    const clock = new FakeClock();
    const wheel = new DeadlineWheel(clock, 1_000);
    const fired: string[] = [];
    for (let i = 0; i < 50; i++) wheel.add(expiring(fired, `a${i}`), 5_000);
    wheel.add(expiring(fired, 'b'), 9_000);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(4_999);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toHaveLength(50);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(4_000);
    expect(fired.slice(50)).toEqual(['b']);
    expect(clock.pendingTimers()).toBe(0);
    expect(wheel.size).toBe(0);
  });

  it('rounds a deadline up to the resolution, never down', async () => {
    const clock = new FakeClock();
    await clock.advance(300);
    const wheel = new DeadlineWheel(clock, 1_000);
    const fired: string[] = [];
    wheel.add(expiring(fired, 'x'), 2_000); // due at 2,300: fires at 3,000
    await clock.advance(2_000);
    expect(fired).toEqual([]);
    await clock.advance(700);
    expect(fired).toEqual(['x']);
  });

  it('moves its timer to an earlier deadline added later', async () => {
    const clock = new FakeClock();
    const wheel = new DeadlineWheel(clock, 1_000);
    const fired: string[] = [];
    wheel.add(expiring(fired, 'late'), 60_000);
    wheel.add(expiring(fired, 'early'), 1_000);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(1_000);
    expect(fired).toEqual(['early']);
    await clock.advance(59_000);
    expect(fired).toEqual(['early', 'late']);
  });

  it('never fires a removed deadline, and drops its timer with the last one', async () => {
    const clock = new FakeClock();
    const wheel = new DeadlineWheel(clock, 1_000);
    const fired: string[] = [];
    const a = expiring(fired, 'a');
    const b = expiring(fired, 'b');
    const keyA = wheel.add(a, 5_000);
    const keyB = wheel.add(b, 7_000);
    wheel.remove(a, keyA);
    await clock.advance(5_000);
    expect(fired).toEqual([]);
    wheel.remove(b, keyB);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10_000);
    expect(fired).toEqual([]);
  });
});
