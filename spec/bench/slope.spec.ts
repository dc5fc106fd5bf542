import { describe, expect, it } from '@jest/globals';
import { slopes } from '../../bench/slope.js';

describe('slopes', () => {
  it('gives the cost of one more object between consecutive sizes, not the total divided by the size', () => {
    // 100 MiB of fixed cost plus 16 KiB per object: the slope finds the 16 KiB.
    const at = (n: number) => 100 * 2 ** 20 + n * 16 * 1024;
    const result = slopes([1_000, 10_000, 100_000].map((objects) => ({ objects, value: at(objects) })));
    expect(result).toEqual([
      { from: 1_000, to: 10_000, perObject: 16 * 1024 },
      { from: 10_000, to: 100_000, perObject: 16 * 1024 },
    ]);
  });

  it('shows growth faster than linear as a rising slope', () => {
    const result = slopes([
      { objects: 1_000, value: 1_000 },
      { objects: 10_000, value: 10_000 },
      { objects: 100_000, value: 1_000_000 },
    ]);
    expect(result.map((s) => s.perObject)).toEqual([1, 11]);
  });

  it('sorts the sizes first', () => {
    const result = slopes([
      { objects: 10_000, value: 30 },
      { objects: 1_000, value: 12 },
    ]);
    expect(result).toEqual([{ from: 1_000, to: 10_000, perObject: 18 / 9_000 }]);
  });

  it('leaves the slopes next to an unmeasured size undefined instead of bridging it', () => {
    const result = slopes([
      { objects: 1_000, value: 10 },
      { objects: 10_000, value: undefined },
      { objects: 100_000, value: 1_000 },
    ]);
    expect(result).toEqual([
      { from: 1_000, to: 10_000, perObject: undefined },
      { from: 10_000, to: 100_000, perObject: undefined },
    ]);
  });

  it('has no slope for a single size and rejects two measurements of one size', () => {
    expect(slopes([{ objects: 1_000, value: 1 }])).toEqual([]);
    expect(() =>
      slopes([
        { objects: 1_000, value: 1 },
        { objects: 1_000, value: 2 },
      ]),
    ).toThrow(RangeError);
  });
});
