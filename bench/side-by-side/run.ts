/**
 * One run: one variant, one size, one fresh worker process, measured the same way for every
 * variant. Until all objects are readable (or the limit): the worker's peak TCP connections to
 * the apiserver, sampled every second. Then, once the apiserver serves a watch per object and
 * after a settle pause: steady connections, memory
 * after collections, RSS, the apiserver's RSS and its open watches; then the update-to-visible
 * latency of `updates` writes spread evenly over the objects, one at a time. A run that does
 * not converge is recorded with what it reached, and the worker is stopped; the apiserver is
 * given time to drop its watches before the next run starts.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import type { V1Secret } from '@kubernetes/client-node';
import type { ObjectWriter } from '../../lib/api/object-writer.js';
import { errorMessage } from '../../lib/util/logger.js';
import type { RealCluster } from '../../e2e/harness/cluster.js';
import { connectionsTo, cpuMs, openFilesLimit, rssBytes } from '../proc.js';
import { WorkerProcess } from '../worker-process.js';
import { monotonicMs, parseMessage, type Command, type MemoryReport, type WorkerMessage } from './protocol.js';
import { VARIANT_SPECS, workerCommand, type VariantId } from './variants.js';
import { NAMESPACE, secretName, valuePatch } from './workload.js';

/** After all are readable, before anything is measured: in-flight watch requests land, first-sync garbage becomes collectable. */
const SETTLE_MS = 3_000;
/** A worker that is not up by then (a Node start on a loaded machine takes a few seconds) failed. */
const HELLO_TIMEOUT_MS = 60_000;
/** Two full collections of a multi-GiB heap take seconds, not minutes. */
const MEMORY_TIMEOUT_MS = 120_000;
/** An update not visible within this is counted as lost (the latency table says how many). */
const UPDATE_TIMEOUT_MS = 10_000;
/** Between updates, so that one update's fan-out is over before the next write. */
const UPDATE_GAP_MS = 10;
/** A worker asked to stop gets this long to close its watches before SIGTERM. */
const STOP_GRACE_MS = 15_000;
/**
 * After ready, how long to wait for the last watches to open before measuring (a variant may
 * answer from a list before its watch is established, and updates must find every object
 * watched): a minute plus 3 ms per object.
 */
const watchedLimitMs = (objects: number) => 60_000 + 3 * objects;
/** How long the apiserver may take to notice a stopped worker's watches are gone. */
const DRAIN_LIMIT_MS = 60_000;
const PEAK_SAMPLE_MS = 1_000;

/** A worker's memory, the same fields for every variant. */
export interface MemorySample {
  /** Node: V8 heapUsed after gc(); Go: HeapInuse after runtime.GC(). */
  heapBytes: number;
  /** Go only: goroutine stacks (StackInuse). */
  stackBytes?: number;
  goroutines?: number;
  /** Node only: V8's heap reserved (heapTotal) and memory outside it held by JS objects (external). */
  heapTotalBytes?: number;
  externalBytes?: number;
  /** Read from /proc/<pid>/status, the same way for every variant. */
  rssBytes: number;
}

/** Everything measured in one run; the JSON keeps every one of them. */
export interface RunSample {
  variant: VariantId;
  objects: number;
  round: number;
  /** ready: all readable within the limit; timeout: not; failed: the worker broke. */
  outcome: 'ready' | 'timeout' | 'failed';
  /** What went wrong (timeout, failed), with the end of the worker's stderr. */
  failure?: string;
  runtime?: string;
  fdLimit?: number;
  /** 1-minute load average when the run started: how busy the shared machine was. */
  loadAverage: number;
  readyMs?: number;
  /** At ready, or what was reached by the limit. */
  readable: number;
  failedGets: number;
  lastError?: string;
  /** Worker CPU time (user + system) from start until ready or the limit. */
  cpuMs?: number;
  /** Established connections from the worker to the apiserver, after settling (or at the limit). */
  connections?: number;
  peakConnections: number;
  /** WATCH requests for secrets open on the apiserver (its own gauge, minus the ones it holds itself). */
  watches?: number;
  /** From ready until the apiserver served a watch per object; undefined if it never did within watchedLimitMs. */
  allWatchedMs?: number;
  baseline?: MemorySample;
  memory?: MemorySample;
  apiserverRssBeforeBytes?: number;
  apiserverRssBytes?: number;
  /** Per update, ms from the write until the worker's cache served it; null: not within UPDATE_TIMEOUT_MS. */
  latencyMs: Array<number | null>;
  /** Per update, ms until the apiserver acknowledged the write. */
  writeMs: number[];
  /** Time the apiserver needed to drop the worker's watches after it stopped. */
  drainMs?: number;
  stderrLines?: number;
  /** The last lines the worker wrote to stderr (client logs: dial errors, throttling), bounded. */
  stderrTail?: string;
}

/** What every run of a benchmark shares: the cluster, the writer, the settings. */
export interface RunContext {
  cluster: RealCluster;
  /** Secret watches open before any worker ran: the apiserver's own (it watches secrets itself). */
  baselineWatches: number;
  apiserverPid: number;
  apiPort: number;
  writer: ObjectWriter<V1Secret>;
  kubeletBinary?: string;
  kubeletFlags: string[];
  nodeFlags: string[];
  fdLimit: number;
  updates: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A variant's worker, speaking protocol.ts. */
type VariantWorker = WorkerProcess<Command, WorkerMessage>;

function memorySample(report: MemoryReport, rss: number | undefined): MemorySample {
  const go = report.heapInuse !== undefined;
  return {
    heapBytes: (go ? report.heapInuse : report.heapUsed) ?? NaN,
    ...(go ? { stackBytes: report.stackInuse, goroutines: report.goroutines } : { heapTotalBytes: report.heapTotal, externalBytes: report.external }),
    rssBytes: rss ?? report.rss ?? NaN,
  };
}

/**
 * Runs one variant at one size. `limitMs`: how long it may take until all are readable;
 * `stallMs`: how long it may go without one more object becoming readable (a variant caught in
 * a retry storm is reported then, not after the whole limit).
 */
export async function runOnce(ctx: RunContext, variant: VariantId, objects: number, round: number, limitMs: number, stallMs: number): Promise<RunSample> {
  const spec = VARIANT_SPECS[variant];
  const sample: RunSample = { variant, objects, round, outcome: 'failed', loadAverage: loadavg()[0], readable: 0, failedGets: 0, peakConnections: 0, latencyMs: [], writeMs: [] };
  const { command, args } = workerCommand(variant, {
    kubeconfigPath: ctx.cluster.admin.kubeconfigPath,
    namespace: NAMESPACE,
    count: objects,
    kubeletBinary: ctx.kubeletBinary,
    kubeletFlags: ctx.kubeletFlags,
    nodeFlags: ctx.nodeFlags,
  });
  sample.apiserverRssBeforeBytes = rssBytes(ctx.apiserverPid);
  const worker: VariantWorker = new WorkerProcess(`${variant} worker`, command, args, { fdLimit: ctx.fdLimit, parse: parseMessage });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const hello = await worker.next('hello', HELLO_TIMEOUT_MS);
    sample.runtime = hello.runtime;
    sample.fdLimit = openFilesLimit(worker.pid);
    sample.baseline = memorySample(hello.memory, rssBytes(worker.pid));
    const cpuBefore = cpuMs(worker.pid) ?? 0;
    const peak = () => (sample.peakConnections = Math.max(sample.peakConnections, connectionsTo(worker.pid, ctx.apiPort) ?? 0));
    sampler = setInterval(peak, PEAK_SAMPLE_MS);
    worker.send({ op: 'start' });
    let ready;
    try {
      ready = await untilReady(worker, limitMs, stallMs);
    } catch (err) {
      clearInterval(sampler);
      peak();
      const progress = worker.lastProgress;
      sample.outcome = worker.hasExited ? 'failed' : 'timeout';
      sample.failure = errorMessage(err);
      sample.readable = progress?.readable ?? 0;
      sample.failedGets = progress?.failedGets ?? 0;
      sample.lastError = progress?.lastError;
      sample.cpuMs = (cpuMs(worker.pid) ?? NaN) - cpuBefore;
      sample.connections = connectionsTo(worker.pid, ctx.apiPort);
      const rss = rssBytes(worker.pid);
      if (rss !== undefined) sample.memory = { heapBytes: NaN, rssBytes: rss };
      sample.apiserverRssBytes = rssBytes(ctx.apiserverPid);
      sample.watches = await workerWatches(ctx).catch(() => undefined);
      return sample;
    }
    clearInterval(sampler);
    peak();
    sample.readyMs = ready.readyMs;
    sample.readable = ready.readable;
    sample.failedGets = ready.failedGets;
    sample.lastError = ready.lastError;
    sample.cpuMs = (cpuMs(worker.pid) ?? NaN) - cpuBefore;
    if (spec.watches) sample.allWatchedMs = await untilAllWatched(ctx, sample.objects);
    await sleep(SETTLE_MS);
    sample.connections = connectionsTo(worker.pid, ctx.apiPort);
    worker.send({ op: 'memory' });
    sample.memory = memorySample(await worker.next('memory', MEMORY_TIMEOUT_MS), rssBytes(worker.pid));
    sample.apiserverRssBytes = rssBytes(ctx.apiserverPid);
    sample.watches = await workerWatches(ctx);
    if (spec.watches) await measureUpdates(ctx, worker, sample);
    sample.outcome = 'ready';
    return sample;
  } catch (err) {
    sample.outcome = 'failed';
    sample.failure = errorMessage(err);
    return sample;
  } finally {
    clearInterval(sampler);
    await worker.stop(STOP_GRACE_MS);
    sample.stderrLines = worker.stderrLines;
    sample.stderrTail = worker.stderrEnd(6) || undefined;
    sample.drainMs = await drain(ctx);
  }
}

/** The worker's ready message; rejects after `limitMs`, after `stallMs` without progress, or when it exits. */
async function untilReady(worker: VariantWorker, limitMs: number, stallMs: number): Promise<Extract<WorkerMessage, { type: 'ready' }>> {
  const ready = worker.next('ready', limitMs);
  ready.catch(() => {}); // the race below reports it, or the stall did
  let watchdog: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    let last = -1;
    let since = performance.now();
    watchdog = setInterval(() => {
      const readable = worker.lastProgress?.readable ?? 0;
      if (readable !== last) {
        last = readable;
        since = performance.now();
      } else if (performance.now() - since > stallMs) {
        reject(new Error(`${worker.label}: stalled, no object became readable for ${Math.round(stallMs / 1000)} s`));
      }
    }, PEAK_SAMPLE_MS);
  });
  try {
    return await Promise.race([ready, stalled]);
  } finally {
    clearInterval(watchdog);
  }
}

/**
 * Writes `ctx.updates` new values, one at a time, to secrets spread evenly over all of them,
 * and records for each how long after the write the worker's cache served it.
 */
async function measureUpdates(ctx: RunContext, worker: VariantWorker, sample: RunSample): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  for (let k = 0; k < ctx.updates; k++) {
    const name = secretName(Math.floor(((k + 0.5) * sample.objects) / ctx.updates));
    const value = `${sample.variant}-r${sample.round}-u${k}-${tag}`;
    worker.send({ op: 'expect', name, value, timeoutMs: UPDATE_TIMEOUT_MS });
    await worker.next('armed', UPDATE_TIMEOUT_MS);
    const sent = monotonicMs();
    try {
      await ctx.writer.patch(NAMESPACE, name, valuePatch(value));
      sample.writeMs.push(monotonicMs() - sent);
    } catch (err) {
      ctx.log(`  update of ${name} failed: ${errorMessage(err)}`);
    }
    const visible = await worker.next('visible', UPDATE_TIMEOUT_MS * 2);
    if (visible.name !== name) throw new Error(`${worker.label}: visible for ${visible.name}, expected ${name}`);
    sample.latencyMs.push(visible.atMs === null ? null : visible.atMs - sent);
    await sleep(UPDATE_GAP_MS);
  }
}

/** Secret watches the apiserver serves beyond its own. */
async function workerWatches(ctx: RunContext): Promise<number> {
  return (await ctx.cluster.openWatches('secrets')) - ctx.baselineWatches;
}

/** Waits until the apiserver serves a watch for every object; the time it took, or undefined if it never did. */
async function untilAllWatched(ctx: RunContext, objects: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < watchedLimitMs(objects)) {
    if ((await workerWatches(ctx).catch(() => 0)) >= objects) return performance.now() - started;
    await sleep(250);
  }
  ctx.log(`  not every object was watched ${Math.round(watchedLimitMs(objects) / 1000)} s after all were readable`);
  return undefined;
}

/** Waits until the apiserver holds no secret watches beyond its own; the time it took, or undefined if it never did. */
async function drain(ctx: RunContext): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < DRAIN_LIMIT_MS) {
    const open = await workerWatches(ctx).catch(() => NaN);
    if (open <= 0) return performance.now() - started;
    await sleep(500);
  }
  ctx.log(`  the apiserver still holds secret watches ${DRAIN_LIMIT_MS / 1000} s after the worker stopped`);
  return undefined;
}
