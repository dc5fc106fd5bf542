/**
 * What the profile cache reports, as node-agent's MetricsManager methods for it. The cache only
 * calls this interface, so the library does not depend on a metrics client; the default does
 * nothing, and examples/prom-metrics.ts shows a prom-client adapter under upstream's metric names.
 */
import type { OverlayKind } from './projection.js';

/** What a gauge of entries counts: after add/remove `container` and `pending`; after a reconciler pass `total` and `pending`. */
export type CacheEntriesKind = 'container' | 'pending' | 'total';
/**
 * The reconciler phase a duration is reported for: `evict` (a pass) or `refresh` (a refresh of every
 * entry).
 */
export type ReconcilerPhase = 'evict' | 'refresh';
/** Why the reconciler evicted an entry; upstream knows one reason, the container's pod shows it stopped. */
export type EvictionReason = 'pod_stopped';
/** Whether a merged overlay covers every container of the pod (`full`) or not (`partial`). */
export type OverlayCompleteness = 'full' | 'partial';

/**
 * The metrics the profile cache reports, as node-agent's MetricsManager methods; implement it over a
 * metrics client (examples/prom-metrics.ts does, with prom-client). Methods must not throw.
 */
export interface ContainerProfileCacheMetrics {
  /** Sets the gauge of entries of a kind. */
  setContainerProfileCacheEntries(kind: CacheEntriesKind, count: number): void;
  /** One `getContainerProfile` lookup (only that getter reports). */
  reportContainerProfileCacheHit(hit: boolean): void;
  /** How long a reconciler phase took, in milliseconds (Prometheus adapters divide by 1000). */
  reportContainerProfileReconcilerDuration(phase: ReconcilerPhase, durationMs: number): void;
  /** The reconciler evicted one entry, for `reason`. */
  reportContainerProfileReconcilerEviction(reason: EvictionReason): void;
  /** A user-authored overlay was merged, covering all pod containers (`full`) or not (`partial`). */
  reportContainerProfileLegacyLoad(kind: OverlayKind, completeness: OverlayCompleteness): void;
}

/** Metrics that go nowhere: the cache's default. */
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
