/**
 * From the samples of all rounds to what the tables and charts show: per size and variant the
 * median of each measurement over the runs that converged (a run that did not is never
 * averaged in, it is reported with what it reached), latency percentiles per run and their
 * median, and per variant the per-object slopes between consecutive sizes.
 */
import { percentile } from '../../lib/util/percentile.js';
import { median } from '../report.js';
import { slopes, type Slope } from '../slope.js';
import type { RunSample } from './run.js';
import type { VariantId } from './variants.js';

/** Update-to-visible latency of one variant at one size. */
export interface LatencySummary {
  /** Median over runs of each run's nearest-rank p50 / p99 of its visible updates. */
  p50: number;
  p99: number;
  /** All runs' visible updates pooled, for reference. */
  pooledP50: number;
  pooledP99: number;
  visible: number;
  updates: number;
}

/** One variant at one size: medians over its converged runs, or what it reached. */
export interface VariantSummary {
  variant: VariantId;
  objects: number;
  runs: number;
  converged: number;
  readyMs?: number;
  allWatchedMs?: number;
  cpuMs?: number;
  connections?: number;
  peakConnections?: number;
  heapBytes?: number;
  stackBytes?: number;
  goroutines?: number;
  rssBytes?: number;
  /** The apiserver's RSS before the worker started (what earlier runs left) and while it was served. */
  apiserverRssBeforeBytes?: number;
  apiserverRssBytes?: number;
  watches?: number;
  failedGets?: number;
  latency?: LatencySummary;
  /** Set when no run converged: medians of what the runs reached by the limit or failure. */
  reached?: {
    readable: number;
    watches?: number;
    connections?: number;
    peakConnections?: number;
    rssBytes?: number;
    failedGets?: number;
    /** One per run: why it ended (limit, stall, exit). */
    failures: string[];
    /** The last failed get or list of some run, as the variant's client worded it. */
    lastError?: string;
  };
}

/** One variant's per-object costs, one slope per pair of consecutive sizes. */
export interface VariantSlopes {
  variant: VariantId;
  heap: Slope[];
  /** Go only. */
  stack: Slope[];
  goroutines: Slope[];
  rss: Slope[];
}

/** The median of the defined, finite values; undefined when there are none. */
function med(values: Array<number | undefined>): number | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return finite.length === 0 ? undefined : median(finite);
}

function latency(runs: RunSample[]): LatencySummary | undefined {
  const perRun = runs.map((r) => r.latencyMs.filter((v): v is number => v !== null)).filter((v) => v.length > 0);
  if (perRun.length === 0) return undefined;
  const pooled = perRun.flat();
  return {
    p50: median(perRun.map((v) => percentile(v, 50))),
    p99: median(perRun.map((v) => percentile(v, 99))),
    pooledP50: percentile(pooled, 50),
    pooledP99: percentile(pooled, 99),
    visible: pooled.length,
    updates: runs.reduce((n, r) => n + r.latencyMs.length, 0),
  };
}

/** The summary of one variant at one size; undefined when it did not run there. */
export function summarize(samples: readonly RunSample[], variant: VariantId, objects: number): VariantSummary | undefined {
  const runs = samples.filter((s) => s.variant === variant && s.objects === objects);
  if (runs.length === 0) return undefined;
  const ok = runs.filter((s) => s.outcome === 'ready');
  const summary: VariantSummary = { variant, objects, runs: runs.length, converged: ok.length };
  if (ok.length === 0) {
    summary.reached = {
      readable: med(runs.map((r) => r.readable)) ?? 0,
      watches: med(runs.map((r) => r.watches)),
      connections: med(runs.map((r) => r.connections)),
      peakConnections: med(runs.map((r) => r.peakConnections)),
      rssBytes: med(runs.map((r) => r.memory?.rssBytes)),
      failedGets: med(runs.map((r) => r.failedGets)),
      failures: runs.map((r) => r.failure ?? r.outcome),
      lastError: runs.map((r) => r.lastError).find((e) => e !== undefined),
    };
    return summary;
  }
  return {
    ...summary,
    readyMs: med(ok.map((r) => r.readyMs)),
    allWatchedMs: med(ok.map((r) => (r.allWatchedMs === undefined ? undefined : r.readyMs! + r.allWatchedMs))),
    cpuMs: med(ok.map((r) => r.cpuMs)),
    connections: med(ok.map((r) => r.connections)),
    peakConnections: med(ok.map((r) => r.peakConnections)),
    heapBytes: med(ok.map((r) => r.memory?.heapBytes)),
    stackBytes: med(ok.map((r) => r.memory?.stackBytes)),
    goroutines: med(ok.map((r) => r.memory?.goroutines)),
    rssBytes: med(ok.map((r) => r.memory?.rssBytes)),
    apiserverRssBeforeBytes: med(ok.map((r) => r.apiserverRssBeforeBytes)),
    apiserverRssBytes: med(ok.map((r) => r.apiserverRssBytes)),
    watches: med(ok.map((r) => r.watches)),
    failedGets: med(ok.map((r) => r.failedGets)),
    latency: latency(ok),
  };
}

/**
 * Per-object slopes between consecutive `sizes`, from the per-size medians of one variant. A
 * size the variant did not run at, or did not converge at, has no value, so every variant has
 * one slope per pair of sizes and tables line up.
 */
export function slopesOf(summaries: readonly VariantSummary[], variant: VariantId, sizes: readonly number[]): VariantSlopes {
  const at = (objects: number) => summaries.find((s) => s.variant === variant && s.objects === objects);
  const of = (pick: (s: VariantSummary) => number | undefined) =>
    slopes(
      sizes.map((objects) => {
        const s = at(objects);
        return { objects, value: s ? pick(s) : undefined };
      }),
    );
  return {
    variant,
    heap: of((s) => s.heapBytes),
    stack: of((s) => s.stackBytes),
    goroutines: of((s) => s.goroutines),
    rss: of((s) => s.rssBytes),
  };
}
