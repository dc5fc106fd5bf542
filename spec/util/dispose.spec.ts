// `await using` on Node 20: the symbols are there without a polyfill, and closeable() gives an
// object literal with close() the same disposal a class declares.
import { describe, expect, it } from '@jest/globals';
import { closeable } from '../../lib/util/dispose.js';
import { expectAwaitUsingCloses } from './dispose-contract.js';

describe('await using', () => {
  it('has Symbol.asyncDispose and Symbol.dispose on this Node, without a polyfill', () => {
    expect(typeof Symbol.asyncDispose).toBe('symbol');
    expect(typeof Symbol.dispose).toBe('symbol');
  });

  it('closes a closeable() object literal when the block ends, and when it throws', async () => {
    await expectAwaitUsingCloses(
      () => {
        const state = { closes: 0 };
        return closeable({ state, close: async () => void state.closes++ });
      },
      (r) => r.state.closes === 1,
    );
  });

  it('returns the object it was given, its close() unchanged', async () => {
    let closed = false;
    const resource = { close: async () => void (closed = true) };
    const same = closeable(resource);
    expect(same).toBe(resource);
    await same[Symbol.asyncDispose]();
    expect(closed).toBe(true);
  });
});
