/**
 * The one percentile definition refwatch's demo and benchmarks share, so that a p99 printed by
 * one is comparable with a p99 printed by another: the nearest-rank method, which always
 * answers with a value that was measured (no interpolation between two samples).
 */

/**
 * The `p`th percentile of `values` by nearest rank: the smallest value that at least p % of
 * the values are less than or equal to, i.e. the sorted value at index ceil(p/100 × n) − 1
 * (clamped to the first value for p = 0). `values` is not modified.
 *
 * @param values measured values, in any order.
 * @param p the percentile, from 0 to 100 (50 is the median by nearest rank, 100 the maximum).
 * @returns NaN when `values` is empty.
 * @throws RangeError when p is outside [0, 100] or a value is not a finite number.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  if (values.length === 0) return NaN;
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`percentile of a value that is not a finite number: ${v}`);
  const sorted = [...values].sort((a, b) => a - b);
  // p × n first, then / 100: (99 × 200) / 100 is exactly 198, while 0.99 × 200 need not be.
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.max(0, rank - 1)];
}
