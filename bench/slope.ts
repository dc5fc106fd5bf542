/**
 * Per-object costs as slopes: what one more watched object adds, measured between two sizes,
 * (M(n₂) − M(n₁)) / (n₂ − n₁). Dividing a total by n would charge every object a share of
 * the process's fixed cost (the runtime, the client, the code), which makes small runs look
 * expensive and hides growth that is faster than linear; a slope between sizes shows both.
 */

/** One measured size: the number of objects and the value measured there (undefined: none). */
export interface SizePoint {
  objects: number;
  value: number | undefined;
}

/** The per-object cost between two consecutive sizes. */
export interface Slope {
  from: number;
  to: number;
  /** Value per object; undefined when either size has no value. */
  perObject: number | undefined;
}

/**
 * The slope between each pair of consecutive sizes, in increasing order of size. A size
 * without a value (a variant that did not converge there) leaves the slopes on both of its
 * sides undefined rather than bridging it, so a slope always spans adjacent measured sizes.
 *
 * @throws RangeError when two points have the same number of objects.
 */
export function slopes(points: readonly SizePoint[]): Slope[] {
  const sorted = [...points].sort((a, b) => a.objects - b.objects);
  const result: Slope[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a.objects === b.objects) throw new RangeError(`two measurements at ${a.objects} objects`);
    const perObject = a.value === undefined || b.value === undefined ? undefined : (b.value - a.value) / (b.objects - a.objects);
    result.push({ from: a.objects, to: b.objects, perObject });
  }
  return result;
}
