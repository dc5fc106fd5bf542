// PeriodicReconciler: the cadence (a pass at start, then one per jittered interval after the
// previous pass ended), single-flight, nudges with trailing-edge coalescing, abort on stop, and
// the pass report the metrics hook gets.
import { describe, expect, it } from '@jest/globals';
import { PeriodicReconciler, type PassReport, type PeriodicReconcilerOptions } from '../../lib/util/periodic-reconciler.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { expectAwaitUsingStopsLoop } from './dispose-contract.js';
import { LEVEL, capturePino } from './log-capture.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

function rig(opts: Partial<PeriodicReconcilerOptions> & { body?: (signal: AbortSignal) => Promise<void> } = {}) {
  const clock = new FakeClock();
  const passes: { at: number; signal: AbortSignal }[] = [];
  const reports: PassReport[] = [];
  const errors: { msg: string; fields?: LogFields }[] = [];
  const logger: Logger = { debug() {}, warn() {}, error: (msg, fields) => errors.push({ msg, fields }) };
  const r = new PeriodicReconciler({
    name: 'test-loop',
    interval: 1_000,
    jitter: 0,
    clock,
    logger,
    onPass: (report) => reports.push(report),
    run: async (signal) => {
      passes.push({ at: clock.now(), signal });
      await opts.body?.(signal);
    },
    ...opts,
  });
  return { clock, passes, reports, errors, r };
}

describe('PeriodicReconciler', () => {
  it('runs a pass at start, then one every interval after the previous pass ended', async () => {
    const { clock, passes, reports, r } = rig();
    r.start();
    await settle();
    expect(passes.map((p) => p.at)).toEqual([0]);
    await clock.advance(999);
    expect(passes).toHaveLength(1);
    await clock.advance(1);
    await clock.advance(1_000);
    expect(passes.map((p) => p.at)).toEqual([0, 1_000, 2_000]);
    expect(reports.map((p) => p.trigger)).toEqual(['start', 'interval', 'interval']);
    await r.stop();
  });

  it('waits one interval first when runOnStart is false', async () => {
    const { clock, passes, r } = rig({ runOnStart: false });
    r.start();
    await settle();
    expect(passes).toHaveLength(0);
    await clock.advance(1_000);
    expect(passes.map((p) => p.at)).toEqual([1_000]);
    await r.stop();
  });

  it('stretches each interval by the jitter fraction at random', async () => {
    const { clock, passes, r } = rig({ jitter: 0.5, random: () => 0.5 });
    r.start();
    await settle();
    await clock.advance(1_249);
    expect(passes).toHaveLength(1);
    await clock.advance(1);
    expect(passes.map((p) => p.at)).toEqual([0, 1_250]);
    expect(new PeriodicReconciler({ name: 'x', interval: 1_000, run: async () => {}, random: () => 0.999 }).nextDelay()).toBeCloseTo(1_099.9, 5);
    await r.stop();
  });

  it('never overlaps passes: a slow pass pushes the next one back by a whole interval', async () => {
    const g = gate();
    const { clock, passes, r } = rig({ body: () => g.opened });
    r.start();
    await clock.advance(10_000);
    expect(passes).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
    g.open();
    await settle();
    await clock.advance(999);
    expect(passes).toHaveLength(1);
    await clock.advance(1);
    expect(passes.map((p) => p.at)).toEqual([0, 11_000]);
    await r.stop();
  });

  it('joins the pass already running when runNow() is called', async () => {
    const g = gate();
    const { passes, r } = rig({ body: () => g.opened });
    r.start();
    const joined = r.runNow();
    expect(r.runNow()).toBe(joined);
    g.open();
    await joined;
    expect(passes).toHaveLength(1);
    await r.stop();
  });

  it('counts a manual pass as the interval pass that falls due during it', async () => {
    const g = gate();
    const { clock, passes, reports, r } = rig({ body: () => (passes.length === 2 ? g.opened : Promise.resolve()) });
    r.start();
    await clock.advance(500);
    const manual = r.runNow();
    await clock.advance(1_000);
    expect(passes.map((p) => p.at)).toEqual([0, 500]);
    g.open();
    await manual;
    await clock.advance(999);
    expect(passes).toHaveLength(2);
    await clock.advance(1);
    expect(passes.map((p) => p.at)).toEqual([0, 500, 2_500]);
    expect(reports.map((p) => p.trigger)).toEqual(['start', 'manual', 'interval']);
    await r.stop();
  });

  it('runs a nudged pass at once when idle, and restarts the interval from its end', async () => {
    const { clock, passes, reports, r } = rig();
    r.start();
    await clock.advance(400);
    r.nudge();
    await settle();
    expect(passes.map((p) => p.at)).toEqual([0, 400]);
    await clock.advance(999);
    expect(passes).toHaveLength(2);
    await clock.advance(1);
    expect(passes.map((p) => p.at)).toEqual([0, 400, 1_400]);
    expect(reports.map((p) => p.trigger)).toEqual(['start', 'nudge', 'interval']);
    await r.stop();
  });

  it('coalesces nudges during a pass into exactly one pass right after it (trailing edge)', async () => {
    const gates = [gate(), gate()];
    const { clock, passes, reports, r } = rig({ body: () => gates[passes.length - 1]?.opened ?? Promise.resolve() });
    r.start();
    await settle();
    r.nudge();
    r.nudge();
    r.nudge();
    expect(passes).toHaveLength(1);
    gates[0].open();
    await settle();
    expect(passes).toHaveLength(2);
    r.nudge();
    gates[1].open();
    await settle();
    expect(passes).toHaveLength(3);
    await clock.advance(999);
    expect(passes).toHaveLength(3);
    expect(reports.map((p) => p.trigger)).toEqual(['start', 'nudge', 'nudge']);
    await r.stop();
  });

  it('ignores a nudge while not started and after stop', async () => {
    const { passes, r } = rig();
    r.nudge();
    await settle();
    expect(passes).toHaveLength(0);
    await r.stop();
    r.nudge();
    r.start();
    await r.runNow();
    expect(passes).toHaveLength(0);
  });

  it('logs a pass that stop() cut short at debug, not as a failure', async () => {
    const { logger, lines } = capturePino();
    const { r } = rig({ logger, body: (signal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) });
    r.start();
    await settle();
    await r.stop();
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([{ level: LEVEL.debug, msg: 'test-loop pass aborted' }]);
  });

  it('aborts the running pass on stop() and waits for it to end, leaving no timer', async () => {
    let ended = false;
    const { clock, passes, r } = rig({
      body: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            ended = true;
            resolve();
          }),
        ),
    });
    r.start();
    await settle();
    expect(passes[0].signal.aborted).toBe(false);
    await r.stop();
    expect(ended).toBe(true);
    expect(passes[0].signal.aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await r.stop();
    expect(r.stopped).toBe(true);
  });

  it("stops ticking when start()'s signal aborts, and can be started again afterwards", async () => {
    const ctl = new AbortController();
    const { clock, passes, r } = rig();
    r.start(ctl.signal);
    await settle();
    expect(clock.pendingTimers()).toBe(1);
    ctl.abort();
    expect(clock.pendingTimers()).toBe(0);
    expect(passes[0].signal.aborted).toBe(true);
    await clock.advance(5_000);
    expect(passes).toHaveLength(1);
    r.start();
    await settle();
    expect(passes.map((p) => p.at)).toEqual([0, 5_000]);
    await r.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("runs a manual pass with a live signal after start()'s signal aborted, and aborts it on stop()", async () => {
    const ctl = new AbortController();
    const { passes, r } = rig();
    r.start(ctl.signal);
    await settle();
    ctl.abort();
    await r.runNow();
    expect(passes.map((p) => p.signal.aborted)).toEqual([true, false]);
    const own = new AbortController();
    const manual = r.runNow(own.signal);
    own.abort();
    await manual;
    expect(passes[2].signal.aborted).toBe(true);
    await r.stop();
    expect(passes[1].signal.aborted).toBe(true);
  });

  it('logs a failed pass at error, reports it, and keeps the cadence', async () => {
    let calls = 0;
    const { clock, reports, errors, r } = rig({
      body: async () => {
        if (++calls === 1) throw new Error('runtime unreachable');
      },
    });
    r.start();
    await settle();
    await clock.advance(1_000);
    expect(reports.map((p) => [p.trigger, p.error instanceof Error ? p.error.message : undefined])).toEqual([
      ['start', 'runtime unreachable'],
      ['interval', undefined],
    ]);
    expect(errors).toEqual([{ msg: 'test-loop pass failed', fields: { trigger: 'start', error: 'runtime unreachable' } }]);
    await r.stop();
  });

  it('logs through a pino logger with the fields: a failed pass at error, a pass done at debug', async () => {
    const { logger, lines } = capturePino();
    let calls = 0;
    const { clock, r } = rig({
      logger,
      body: async () => {
        if (++calls === 1) throw new Error('runtime unreachable');
      },
    });
    r.start();
    await settle();
    await clock.advance(1_000);
    await r.stop();
    expect(lines.map(({ level, msg, trigger, error, durationMs }) => ({ level, msg, trigger, error, durationMs }))).toEqual([
      { level: LEVEL.error, msg: 'test-loop pass failed', trigger: 'start', error: 'runtime unreachable', durationMs: undefined },
      { level: LEVEL.debug, msg: 'test-loop pass done', trigger: 'interval', error: undefined, durationMs: 0 },
    ]);
  });

  it('times each pass on the injected clock', async () => {
    const { clock, reports, r } = rig({ body: () => clock.sleep(250).then(() => undefined) });
    r.start();
    await clock.advance(250);
    expect(reports).toEqual([{ name: 'test-loop', trigger: 'start', durationMs: 250 }]);
    await r.stop();
  });

  it('rejects a zero or negative interval instead of spinning', () => {
    for (const interval of [0, -1, Number.NaN, Infinity]) {
      expect(() => new PeriodicReconciler({ name: 'gc', interval, run: async () => {} })).toThrow(/interval must be a positive number/);
    }
    expect(() => new PeriodicReconciler({ name: 'gc', interval: 1, jitter: -0.1, run: async () => {} })).toThrow(/jitter must be >= 0/);
  });

  it('stops at the end of an `await using` block, also when the block throws: no timer, no pass after it', async () => {
    await expectAwaitUsingStopsLoop(
      () => {
        const { clock, passes, r } = rig();
        return { loop: r, clock, passes: () => passes.length };
      },
      async (r) => {
        r.start();
        await settle();
      },
      5_000,
    );
  });
});
