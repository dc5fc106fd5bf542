import { describe, expect, it } from '@jest/globals';
import { Backoff } from '../../lib/util/backoff.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';

describe('Backoff', () => {
  it('starts at 800 ms and doubles up to a 30 s cap, with jitter in [d, 2d)', () => {
    const clock = new FakeClock();
    const low = new Backoff(clock, { random: () => 0 });
    const lows = Array.from({ length: 8 }, () => low.next());
    expect(lows).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    const high = new Backoff(clock, { random: () => 0.999 });
    expect(high.next()).toBeCloseTo(1599.2, 1);
  });

  it('starts over after 2 minutes without a failure', () => {
    const clock = new FakeClock();
    const b = new Backoff(clock, { random: () => 0 });
    b.next();
    b.next();
    expect(b.next()).toBe(3200);
    clock.step(120_000);
    expect(b.next()).toBe(6400); // exactly 2 min: not yet "more than"
    clock.step(120_001);
    expect(b.next()).toBe(800);
  });
});
