// The wall clock and the fake clock clamp every delay to what a timer can hold: Node turns a
// delay above 2^31-1 ms into 1 ms, which made a huge Retry-After a retry storm.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { MAX_TIMER_DELAY, RealClock, clampDelay } from '../../lib/util/clock.js';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

/** A few real milliseconds, and the turns after them, so a 1 ms timer would have fired. */
const realPause = (ms: number) => new Promise<void>((resolve) => setTimeout(() => setImmediate(resolve), ms));

describe('RealClock', () => {
  it('does not fire a delay longer than a timer can hold at once, and raises no overflow warning', async () => {
    process.on('warning', onWarning);
    const clock = new RealClock();
    let fired = 0;
    const timers = [3_000_000_000, 2 ** 40, Infinity].map((ms) => clock.setTimeout(() => fired++, ms));
    await realPause(20);
    timers.forEach((t) => t.cancel());
    expect(fired).toBe(0);
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });

  it('lets a sleep of weeks end early when its signal aborts', async () => {
    const clock = new RealClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(3_000_000_000, controller.signal);
    await realPause(5);
    controller.abort();
    await expect(sleeping).resolves.toBe(false);
  });
});

describe('FakeClock delays', () => {
  it('clamps a delay beyond 2^31-1 ms to that maximum, as the wall clock does', () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 3_000_000_000);
    expect(clock.nextTimerAt()).toBe(MAX_TIMER_DELAY);
    clock.step(MAX_TIMER_DELAY - 1);
    expect(fired).toBe(false);
    clock.step(1);
    expect(fired).toBe(true);
  });

  it('runs negative and NaN delays at once, and an infinite one at the maximum', () => {
    expect([clampDelay(-5), clampDelay(Number.NaN), clampDelay(Infinity), clampDelay(1500)]).toEqual([0, 0, MAX_TIMER_DELAY, 1500]);
    const clock = new FakeClock(100);
    clock.setTimeout(() => {}, Number.NaN);
    expect(clock.nextTimerAt()).toBe(100);
  });
});
