// Many timeouts of one delay on one clock timer: each fires exactly its delay after it was set,
// cancelled ones never fire, and nothing is left scheduled once none is pending.
import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { DeadlineQueue } from '../../lib/util/deadline-queue.js';

describe('DeadlineQueue', () => {
  it('fires each timeout its delay after it was set, in order, on one clock timer', async () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock, 1_000);
    const fired: Array<[string, number]> = [];
    queue.setTimeout(() => fired.push(['a', clock.now()]));
    await clock.advance(300);
    queue.setTimeout(() => fired.push(['b', clock.now()]));
    queue.setTimeout(() => fired.push(['c', clock.now()]));
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(699);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([['a', 1_000]]);
    await clock.advance(300);
    expect(fired).toEqual([
      ['a', 1_000],
      ['b', 1_300],
      ['c', 1_300],
    ]);
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.size).toBe(0);
  });

  it('never fires a cancelled timeout, and cancels its clock timer when none is left', async () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock, 1_000);
    const fired: string[] = [];
    const a = queue.setTimeout(() => fired.push('a'));
    await clock.advance(500);
    const b = queue.setTimeout(() => fired.push('b'));
    a.cancel();
    a.cancel();
    await clock.advance(600);
    expect(fired).toEqual([]);
    b.cancel();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10_000);
    expect(fired).toEqual([]);
  });

  it('lets a callback set the next timeout (a get retried as soon as it timed out)', async () => {
    const clock = new FakeClock();
    const queue = new DeadlineQueue(clock, 1_000);
    const at: number[] = [];
    const retry = () => {
      at.push(clock.now());
      if (at.length < 3) queue.setTimeout(retry);
    };
    queue.setTimeout(retry);
    await clock.advance(5_000);
    expect(at).toEqual([1_000, 2_000, 3_000]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
