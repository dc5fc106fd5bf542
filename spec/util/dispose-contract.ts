// The `await using` contract every closeable refwatch resource keeps, as one check its specs
// share: the resource is closed when the block ends normally, and when the block throws, the
// error leaves the block unchanged and the resource is closed all the same. `closed` must look
// at what a user would notice (no loop running, no watch open, later calls refused), not at a
// flag the disposal itself sets.
import { expect } from '@jest/globals';
import type { FakeClock } from '../../lib/testing/fake-clock.js';

/**
 * Runs `make()` twice, each time in an `await using` block: once the block ends normally after
 * `use`, once `use` runs and the block throws. Each time `closed(resource)` must be false inside
 * the block and true after it.
 */
export async function expectAwaitUsingCloses<T extends AsyncDisposable>(
  make: () => T | Promise<T>,
  closed: (resource: T) => boolean | Promise<boolean>,
  use: (resource: T) => void | Promise<void> = () => {},
): Promise<void> {
  let kept: T | undefined;
  {
    await using resource = await make();
    kept = resource;
    await use(resource);
    expect(await closed(resource)).toBe(false);
  }
  expect(await closed(kept)).toBe(true);

  const thrown = new Error('the block failed');
  kept = undefined;
  const run = async () => {
    await using resource = await make();
    kept = resource;
    await use(resource);
    expect(await closed(resource)).toBe(false);
    throw thrown;
  };
  await expect(run()).rejects.toBe(thrown);
  expect(await closed(kept!)).toBe(true);
}

/** A loop under test: the object, the clock it runs on, and how many passes it has run so far. */
export interface LoopRig<T> {
  loop: T;
  clock: FakeClock;
  passes: () => number;
}

/**
 * The contract for a loop (`stop()` behind `[Symbol.asyncDispose]`): started inside the block,
 * and after the block no timer is left on its clock and `idleFor` ms more run no pass, whether
 * the block ended normally or threw.
 */
export async function expectAwaitUsingStopsLoop<T extends AsyncDisposable>(
  make: () => LoopRig<T> | Promise<LoopRig<T>>,
  start: (loop: T) => void | Promise<void>,
  idleFor: number,
): Promise<void> {
  const rigs = new Map<T, LoopRig<T>>();
  await expectAwaitUsingCloses(
    async () => {
      const rig = await make();
      rigs.set(rig.loop, rig);
      return rig.loop;
    },
    async (loop) => {
      const { clock, passes } = rigs.get(loop)!;
      const before = passes();
      await clock.advance(idleFor);
      return clock.pendingTimers() === 0 && passes() === before;
    },
    start,
  );
}
