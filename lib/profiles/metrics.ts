/**
 * What the profile cache reports, as node-agent's MetricsManager methods for it. The cache only
 * calls this interface, so the library does not depend on a metrics client; the default does
 * nothing, and examples/prom-metrics.ts shows a prom-client adapter under upstream's metric names.
 */
import type { OverlayKind } from './projection.js';

/** What a gauge of entries counts: after add/remove `container` and `pending`; after a reconciler pass `total` and `pending`. */
export type CacheEntriesKind = 'container' | 'pending' | 'total';
export type ReconcilerPhase = 'evict' | 'refresh';
export type EvictionReason = 'pod_stopped';
export type OverlayCompleteness = 'full' | 'partial';

export interface ContainerProfileCacheMetrics {
  /** Sets the gauge of entries of a kind. */
  setContainerProfileCacheEntries(kind: CacheEntriesKind, count: number): void;
  /** One `getContainerProfile` lookup (only that getter reports). */
  reportContainerProfileCacheHit(hit: boolean): void;
  /** How long a reconciler phase took, in milliseconds (Prometheus adapters divide by 1000). */
  reportContainerProfileReconcilerDuration(phase: ReconcilerPhase, durationMs: number): void;
  reportContainerProfileReconcilerEviction(reason: EvictionReason): void;
  /** A user-authored overlay was merged, covering all pod containers (`full`) or not (`partial`). */
  reportContainerProfileLegacyLoad(kind: OverlayKind, completeness: OverlayCompleteness): void;
}

export const noopContainerProfileCacheMetrics: ContainerProfileCacheMetrics = {
  setContainerProfileCacheEntries() {},
  reportContainerProfileCacheHit() {},
  reportContainerProfileReconcilerDuration() {},
  reportContainerProfileReconcilerEviction() {},
  reportContainerProfileLegacyLoad() {},
};

/** node-agent's Prometheus names, and the label each one carries, for adapters that want to match dashboards. */
export const containerProfileMetricNames = {
  /** Gauge, label `kind`. */
  cacheEntries: 'node_agent_containerprofile_cache_entries',
  /** Counter, label `result` = hit | miss. */
  cacheHits: 'node_agent_containerprofile_cache_hit_total',
  /** Histogram in seconds with the default buckets, label `phase`. */
  reconcilerDuration: 'node_agent_containerprofile_reconciler_duration_seconds',
  /** Counter, label `reason`. */
  reconcilerEvictions: 'node_agent_containerprofile_reconciler_evictions_total',
  /** Counter, labels `kind` and `completeness`. */
  legacyLoads: 'node_agent_user_profile_legacy_loads_total',
} as const;
