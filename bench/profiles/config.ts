/**
 * The profile-cache benchmark's settings (from the environment) and its two variants, shared
 * by the orchestrator (main.ts) and the worker (worker.ts). See main.ts for what is measured.
 */
import type { ContainerProfileCacheOptions } from '../../lib/profiles/container-profile-cache.js';

export const QUICK = process.env.BENCH_QUICK === '1';
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
/** Steady-state window: long enough to hold two of upstream's 30 s refresh passes. */
export const WINDOW_MS = Number(process.env.BENCH_PROFILE_WINDOW_MS ?? (QUICK ? 20_000 : 60_000));
/** Profile writes spread evenly through the window; 20 give a stable p50 at a few per pass. */
export const UPDATES = Number(process.env.BENCH_PROFILE_UPDATES ?? (QUICK ? 8 : 20));
/**
 * The polling variant's reconcile interval: node-agent's code default, 30 s. The quick run
 * shortens it to 10 s (a third, as its window is a third) so that its 20 s window is not empty.
 */
export const POLL_INTERVAL_MS = Number(process.env.BENCH_PROFILE_POLL_MS ?? (QUICK ? 10_000 : 30_000));
/** Upstream's default interval; the title says when the polling variant runs on another. */
export const UPSTREAM_POLL_INTERVAL_MS = 30_000;

/** Time after the last container is populated before the window may open: in-flight watches start. */
export const SETTLE_MS = 2_000;
/** A worker that has not populated every container by then is reported as failed. */
export const POPULATE_TIMEOUT_MS = 120_000;
/**
 * How long a write may take to become visible before it is counted as never visible: one full
 * jittered polling period (+10 %), plus a refresh pass over 300 containers and a margin.
 */
export const VISIBILITY_TIMEOUT_MS = POLL_INTERVAL_MS * 1.1 + 15_000;
/** How often the worker samples its client's connection count for the peak. */
export const CONNECTION_SAMPLE_MS = 250;

export const VARIANTS = ['watch', 'polling'] as const;
export type Variant = (typeof VARIANTS)[number];
export const LABELS: Record<Variant, string> = {
  watch: 'refwatch watch stores',
  polling: `upstream polling (every ${POLL_INTERVAL_MS / 1000} s)`,
};

/** The cache options that make the variant; everything else is the same. */
export function variantOptions(variant: Variant): Pick<ContainerProfileCacheOptions, 'strategy' | 'ttl' | 'reconcileInterval'> {
  // Polling: ttl 0 makes every read a GET, one per dependency per container per pass, as
  // node-agent's refreshAllEntries does; the watch variant keeps the default reconcile interval.
  return variant === 'watch' ? { strategy: 'watch' } : { strategy: 'ttl', ttl: 0, reconcileInterval: POLL_INTERVAL_MS };
}
