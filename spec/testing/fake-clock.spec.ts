// FakeClock: every timing test in refwatch stands on it, so its own rules are pinned here.
import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';

describe('FakeClock', () => {
  it('starts at the given time and only moves when told', () => {
    const clock = new FakeClock(5000);
    expect(clock.now()).toBe(5000);
    clock.step(250);
    expect(clock.now()).toBe(5250);
  });

  it('fires due timers in deadline order, ties in scheduling order, each at its own time', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const at = (label: string) => () => fired.push(`${label}@${clock.now()}`);
    clock.setTimeout(at('c'), 300);
    clock.setTimeout(at('a'), 100);
    clock.setTimeout(at('b1'), 200);
    clock.setTimeout(at('b2'), 200);
    clock.setTimeout(at('late'), 1000);
    clock.step(300);
    expect(fired).toEqual(['a@100', 'b1@200', 'b2@200', 'c@300']);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(1000);
  });

  it('does not fire a timer before its deadline', () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 100);
    clock.step(99);
    expect(fired).toBe(false);
    clock.step(1);
    expect(fired).toBe(true);
  });

  it('fires, within one step, timers that callbacks schedule inside the window', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.step(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(350);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(400);
  });

  it('runs a zero-delay timer on the next step, not at once', () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    expect(fired).toBe(false);
    clock.step(0);
    expect(fired).toBe(true);
  });

  it('does not fire a cancelled timer; cancelling twice or after firing is harmless', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const a = clock.setTimeout(() => fired.push('a'), 100);
    const b = clock.setTimeout(() => fired.push('b'), 100);
    a.cancel();
    a.cancel();
    expect(clock.pendingTimers()).toBe(1);
    clock.step(100);
    b.cancel();
    expect(fired).toEqual(['b']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('resolves sleep with true once stepped past its deadline', async () => {
    const clock = new FakeClock();
    let result: boolean | undefined;
    void clock.sleep(1000).then((r) => (result = r));
    clock.step(999);
    await settle();
    expect(result).toBeUndefined();
    clock.step(1);
    await settle();
    expect(result).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('resolves sleep with false on abort and leaves no pending timer', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    const sleeping = clock.sleep(60_000, ctrl.signal);
    expect(clock.pendingTimers()).toBe(1);
    ctrl.abort();
    await expect(sleeping).resolves.toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    // Sleeping on an already-aborted signal schedules nothing.
    await expect(clock.sleep(10, ctrl.signal)).resolves.toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('advance lets promise chains between timers run, so sleep-after-sleep completes', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const chain = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        log.push(clock.now());
      }
    })();
    await clock.advance(300);
    await chain;
    expect(log).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(300);
  });

  it('step alone does not reach timers scheduled by promise callbacks', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    void (async () => {
      await clock.sleep(100);
      log.push(clock.now());
      await clock.sleep(100);
      log.push(clock.now());
    })();
    clock.step(300); // the second sleep is scheduled only after the first resolves
    await settle();
    expect(log).toEqual([300]);
    expect(clock.nextTimerAt()).toBe(400);
  });
});
