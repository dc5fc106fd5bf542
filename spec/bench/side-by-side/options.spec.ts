import { describe, expect, it } from '@jest/globals';
import { defaultLimitMs, parseOptions, roundOrder, runsAt } from '../../../bench/side-by-side/options.js';

describe('side-by-side options', () => {
  it('defaults to 1,000 and 10,000 secrets, 3 rounds, 200 updates, every variant', () => {
    const o = parseOptions([]);
    expect(o.sizes).toEqual([1_000, 10_000]);
    expect(o.rounds).toBe(3);
    expect(o.updates).toBe(200);
    expect(o.variants).toEqual(['refwatch', 'kubelet', 'client-node', 'objects']);
    expect(o.clientNodeMax).toBe(10_000);
    expect(o.limitMs).toBeUndefined();
    expect(o.kubeletFlags).toEqual([]);
    expect(o.nodeFlags).toEqual([]);
  });

  it('passes extra Node flags to the Node workers, for profiling', () => {
    expect(parseOptions(['--node-flags', ' --cpu-prof  --cpu-prof-dir=/tmp/p ']).nodeFlags).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p']);
  });

  it('runs 100,000 only when asked, and skips client-node above its maximum', () => {
    const o = parseOptions(['--sizes', '1000,10000,100_000', '--rounds', '1']);
    expect(o.sizes).toEqual([1_000, 10_000, 100_000]);
    expect(runsAt(o, 'client-node', 10_000)).toBe(true);
    expect(runsAt(o, 'client-node', 100_000)).toBe(false);
    expect(runsAt(o, 'refwatch', 100_000)).toBe(true);
    expect(runsAt(parseOptions(['--variants', 'refwatch']), 'kubelet', 1_000)).toBe(false);
  });

  it('passes kubelet client settings through as the Go worker flags', () => {
    const o = parseOptions(['--kubelet-qps', '200', '--kubelet-burst', '400', '--kubelet-content-type', 'application/json']);
    expect(o.kubeletFlags).toEqual(['-qps', '200', '-burst', '400', '-content-type', 'application/json']);
  });

  it('rejects bad input with the usage text', () => {
    expect(() => parseOptions(['--sizes', '10000,1000'])).toThrow(/ascending/);
    expect(() => parseOptions(['--sizes', '1000,1000'])).toThrow(/ascending/);
    expect(() => parseOptions(['--sizes', 'many'])).toThrow(/positive integer/);
    expect(() => parseOptions(['--rounds', '0'])).toThrow(/--rounds must be a positive integer/);
    expect(() => parseOptions(['--variants', 'refwatch,informer'])).toThrow(/unknown variant "informer"/);
    expect(() => parseOptions(['--kubelet-content-type', 'text/yaml'])).toThrow(/content-type/);
    expect(() => parseOptions(['--bogus'])).toThrow();
    expect(() => parseOptions(['--help'])).toThrow(/usage:/);
  });

  it('takes a per-run limit in seconds, and by default grows it with the size', () => {
    expect(parseOptions(['--limit-s', '90']).limitMs).toBe(90_000);
    expect(defaultLimitMs(1_000)).toBe(75_000);
    expect(defaultLimitMs(100_000)).toBe(1_560_000);
  });

  it('rotates the variant order by one each round', () => {
    const v = ['a', 'b', 'c'];
    expect([0, 1, 2, 3].map((r) => roundOrder(v, r).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
    expect(roundOrder([], 2)).toEqual([]);
  });
});
