import { describe, expect, it } from '@jest/globals';
import { percentile } from '../../lib/util/percentile.js';

describe('percentile', () => {
  it('answers with the nearest-rank value: index ceil(p/100 × n) − 1 of the sorted values', () => {
    const values = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 51)).toBe(6);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 100)).toBe(10);
  });

  it('gives p99 of 200 samples as the 198th smallest, not the maximum', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentile(values, 99)).toBe(198);
    expect(percentile(values, 50)).toBe(100);
  });

  it('never interpolates: every answer is one of the values', () => {
    const values = [1, 100];
    expect(percentile(values, 50)).toBe(1);
    expect(percentile(values, 75)).toBe(100);
  });

  it('gives the minimum for p = 0 and the only value of a single sample', () => {
    expect(percentile([3, 2, 5], 0)).toBe(2);
    expect(percentile([42], 1)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
  });

  it('leaves the input in its order', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('rejects a percentile outside [0, 100] and values that are not finite numbers', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], NaN)).toThrow(/within \[0, 100\]/);
    expect(() => percentile([1, NaN], 50)).toThrow(/not a finite number/);
    expect(() => percentile([1, Infinity], 50)).toThrow(RangeError);
  });
});
