// The profile cache's per-container operation queue: order within a container, concurrency
// across containers, operations skipped once their container is gone, and the two waits the
// cache's idle() and close() rest on.
import { describe, expect, it } from '@jest/globals';
import { OperationQueue } from '../../lib/profiles/operation-queue.js';
import { settle } from '../../lib/testing/fake-clock.js';
import { RecordingLogger } from './fixtures.js';
import { AbortError } from '../../lib/util/abort.js';

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Whether `p` has settled after the pending microtasks ran. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

describe('OperationQueue', () => {
  it('runs one container’s operations one after another, in the order they were queued', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    const lane = queue.lane('c1', () => true);
    const first = gate();
    const log: string[] = [];
    void lane.enqueue(async () => {
      log.push('first started');
      await first.opened;
      log.push('first done');
    });
    const second = lane.enqueue(async () => log.push('second'));
    await settle();
    expect(log).toEqual(['first started']);
    first.open();
    await second;
    expect(log).toEqual(['first started', 'first done', 'second']);
  });

  it('runs different containers’ operations concurrently', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    const blocked = gate();
    void queue.lane('c1', () => true).enqueue(() => blocked.opened);
    const other = queue.lane('c2', () => true).enqueue(async () => {});
    expect(await isSettled(other)).toBe(true);
    blocked.open();
    await queue.drain();
  });

  it('skips operations queued behind the removal of their container', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    let live = true;
    const lane = queue.lane('c1', () => live);
    const ran: string[] = [];
    const removal = lane.enqueue(async () => {
      ran.push('remove');
      live = false;
    });
    const rebuild = lane.enqueue(async () => ran.push('rebuild'));
    await Promise.all([removal, rebuild]);
    expect(ran).toEqual(['remove']);
  });

  it('logs an operation that throws, at error, and runs the next one as usual', async () => {
    const logger = new RecordingLogger();
    const queue = new OperationQueue(logger);
    const lane = queue.lane('c1', () => true);
    const failed = lane.enqueue(async () => {
      throw new Error('store exploded');
    });
    const next = lane.enqueue(async () => 'ran');
    await expect(failed).resolves.toBeUndefined();
    await next;
    expect(logger.errors('profile cache operation failed')).toEqual([{ containerID: 'c1', error: 'store exploded' }]);
    expect(queue.idle).toBe(true);
  });

  it('is idle only once every queued operation has run, and wakes every waiter then', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    expect(queue.idle).toBe(true);
    await queue.whenIdle();
    const blocked = gate();
    const lane = queue.lane('c1', () => true);
    void lane.enqueue(() => blocked.opened);
    void lane.enqueue(async () => {});
    const waiters = [queue.whenIdle(), queue.whenIdle()];
    expect(queue.idle).toBe(false);
    expect(await isSettled(Promise.race(waiters))).toBe(false);
    blocked.open();
    await Promise.all(waiters);
    expect(queue.idle).toBe(true);
  });

  it('does not count a parked operation towards idle, but drain() still waits for it', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    const backoff = gate();
    let resumed = false;
    const add = queue
      .lane('c1', () => true)
      .enqueue(async () => {
        await queue.parked(() => backoff.opened);
        resumed = true;
      });
    await queue.whenIdle();
    expect(queue.idle).toBe(true);
    const drained = queue.drain();
    expect(await isSettled(drained)).toBe(false);
    backoff.open();
    await drained;
    await add;
    expect(resumed).toBe(true);
    expect(queue.idle).toBe(true);
  });

  it('counts a parked operation again once it wakes, until it finishes', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    const backoff = gate();
    const afterWake = gate();
    void queue
      .lane('c1', () => true)
      .enqueue(async () => {
        await queue.parked(() => backoff.opened);
        await afterWake.opened;
      });
    await queue.whenIdle();
    backoff.open();
    await settle();
    expect(queue.idle).toBe(false);
    afterWake.open();
    await queue.whenIdle();
    expect(queue.idle).toBe(true);
  });

  it('stops a whenIdle() wait when its signal aborts, keeping nothing of it, while the others still wake', async () => {
    const queue = new OperationQueue(new RecordingLogger());
    const blocked = gate();
    void queue.lane('c1', () => true).enqueue(() => blocked.opened);
    const leaving = new AbortController();
    const impatient = queue.whenIdle(leaving.signal);
    const patient = queue.whenIdle();
    expect(queue.idleWaiterCount).toBe(2);
    leaving.abort();
    await expect(impatient).rejects.toBeInstanceOf(AbortError);
    expect(queue.idleWaiterCount).toBe(1);
    blocked.open();
    await patient;
    expect(queue.idleWaiterCount).toBe(0);
    await expect(queue.whenIdle(AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
  });
});
