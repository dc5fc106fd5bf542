/**
 * Deep freezing for objects a cache hands out by reference: a caller that mutates one by
 * mistake gets a TypeError (in strict-mode code) at the line that did it, instead of silently
 * changing what every other reader of the cache sees.
 */

/**
 * Whether caches freeze what they store when not told: yes unless NODE_ENV is "production",
 * where the walk over every stored object is skipped (mutation bugs were caught in test).
 */
export function freezeByDefault(): boolean {
  return process.env.NODE_ENV !== 'production';
}

/** Freezes `value` and everything reachable from it; already-frozen parts are not walked again. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
