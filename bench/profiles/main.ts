/**
 * Profile-cache benchmark on the embedded API server: 300 running containers (100 workloads,
 * 3 containers per pod) whose ContainerProfiles, and the user-managed and label-referenced
 * overlays some workloads carry, are read by a ContainerProfileCache. refwatch's watch stores
 * (one list+watch per object, changes pushed as events) next to node-agent's polling (every
 * dependency of every container GET every 30 s: `strategy: 'ttl'`, `ttl: 0`). Each variant runs
 * in a fresh worker process against the same server, alternating, ROUNDS times; medians are
 * reported. Measured per variant:
 *
 *  - API requests per second at steady state, by verb, counted by the server over a window
 *    that opens once all 300 containers are populated;
 *  - the time from a profile write (a PUT through the API) until getContainerProfile serves
 *    the change, for UPDATES writes spread through the window (p50 and max);
 *  - the time and the requests until all 300 containers are populated after start;
 *  - the connections the cache's client holds, the watch streams open, the worker's CPU.
 *
 *   npm run build && node dist/bench/profiles/main.js
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_PROFILE_WINDOW_MS (default 60 000),
 * BENCH_PROFILE_UPDATES (default 20), BENCH_PROFILE_POLL_MS (default 30 000, upstream's), and
 * BENCH_QUICK=1 for a smoke run of about a minute (1 round, a 20 s window, 8 writes, and the
 * polling interval shortened to 10 s so the window still holds two refresh passes; the title
 * says so).
 *
 * This file is the orchestrator: it runs the server, starts the workers (worker.ts) and makes
 * the table; fleet.ts is what both sides build the same way, config.ts the settings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILE_API_GROUP, profileResources } from '../../lib/profiles/resources.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { percentile } from '../../lib/util/percentile.js';
import { median, report, round } from '../report.js';
import { runBenchmark } from '../worker-channel.js';
import { startWorker, type ErrorMessage, type ResultMessage } from '../worker-process.js';
import {
  LABELS,
  POLL_INTERVAL_MS,
  POPULATE_TIMEOUT_MS,
  QUICK,
  ROUNDS,
  UPDATES,
  UPSTREAM_POLL_INTERVAL_MS,
  VARIANTS,
  VISIBILITY_TIMEOUT_MS,
  WINDOW_MS,
  type Variant,
} from './config.js';
import { buildFleet, seed } from './fleet.js';
import { worker, workerArgs, type Continue, type WorkerResult, type WorkerStep } from './worker.js';

/**
 * How long the orchestrator waits for any one step of a worker: the populate limit, the
 * settle before the window, the window, the last write's visibility limit, and a minute for
 * start-up and shut-down. A worker that takes longer is stuck.
 */
const STEP_TIMEOUT_MS = POPULATE_TIMEOUT_MS + POLL_INTERVAL_MS + WINDOW_MS + VISIBILITY_TIMEOUT_MS + 60_000;
/** How long a worker that sent its result gets to exit by itself. */
const STOP_GRACE_MS = 5_000;

type VerbCounts = { get: number; list: number; watch: number };

interface Sample extends WorkerResult {
  variant: Variant;
  round: number;
  /** Profile reads (get/list/watch) from the worker's start until all containers were populated. */
  populateRequests: VerbCounts;
  /** Profile reads the server answered in the window; the bench's own writes are not counted. */
  windowRequests: VerbCounts;
  windowMs: number;
  /** Watch streams open on the server at the end of the window. */
  openWatches: number;
  /** TCP connections the server had at the end of the window (the writer's included). */
  serverConnections: number;
}

function countReads(server: ApiServer, from: number): VerbCounts {
  const counts: VerbCounts = { get: 0, list: 0, watch: 0 };
  for (let i = from; i < server.requests.length; i++) {
    const r = server.requests[i];
    if (r.group === PROFILE_API_GROUP && (r.verb === 'get' || r.verb === 'list' || r.verb === 'watch')) counts[r.verb]++;
  }
  return counts;
}

/** One round of one variant: a fresh worker, the server's counts at each of its steps, its result. */
async function runRound(server: ApiServer, kubeconfigPath: string, variant: Variant, roundNo: number): Promise<Sample> {
  const worker = startWorker<Continue, WorkerStep | ResultMessage<WorkerResult> | ErrorMessage>(import.meta.url, workerArgs(variant, kubeconfigPath, roundNo), {
    label: `${variant} worker, round ${roundNo + 1}`,
  });
  try {
    const startIndex = server.requests.length;
    await worker.next('populated', STEP_TIMEOUT_MS);
    const populateRequests = countReads(server, startIndex);
    worker.send({ op: 'continue' });
    await worker.next('window-open', STEP_TIMEOUT_MS);
    const windowIndex = server.requests.length;
    const windowStarted = performance.now();
    worker.send({ op: 'continue' });
    await worker.next('window-close', STEP_TIMEOUT_MS);
    const windowRequests = countReads(server, windowIndex);
    const windowMs = performance.now() - windowStarted;
    const openWatches = server.openWatches;
    const serverConnections = server.connections;
    worker.send({ op: 'continue' });
    const { result } = await worker.next('result', STEP_TIMEOUT_MS);
    return { variant, round: roundNo, populateRequests, windowRequests, windowMs, openWatches, serverConnections, ...result };
  } finally {
    await worker.stop(STOP_GRACE_MS);
  }
}

const seen = (values: Array<number | null>) => values.filter((v): v is number => v !== null);

/** The largest latency of the writes that became visible (the others are counted apart). */
function maxOf(values: Array<number | null>): number {
  const visible = seen(values);
  return visible.length > 0 ? Math.max(...visible) : NaN;
}

/** The percentile (lib/util/percentile.ts, nearest rank) of the writes that became visible. */
function visiblePercentile(values: Array<number | null>, p: number): number {
  return percentile(seen(values), p);
}

const perSecond = (n: number, ms: number) => (n * 1000) / ms;

/** Polling's value over the watch store's: "∞" when the watch store needed none. */
function ratio(polling: number, watch: number): string {
  if (!Number.isFinite(polling) || !Number.isFinite(watch)) return '–';
  if (watch === 0) return polling === 0 ? '–' : '∞';
  return `${round(polling / watch, polling / watch >= 100 ? 0 : 1)}×`;
}

async function main(): Promise<void> {
  const fleet = buildFleet();
  const containerCount = fleet.reduce((n, w) => n + w.containers.length, 0);
  const server = await ApiServer.start({ tls: true, resources: Object.values(profileResources) });
  const dir = await mkdtemp(join(tmpdir(), 'refwatch-bench-profiles-'));
  const samples: Sample[] = [];
  try {
    const kubeconfigPath = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfigPath);
    const objects = seed(server, fleet);
    console.error(
      `${containerCount} containers in ${fleet.length} workloads, ${objects} profile objects ` +
        `(${fleet.filter((w) => w.ugName).length} workloads with ug- overlays, ${fleet.filter((w) => w.labelOverlay).length} with a label overlay); ` +
        `window ${WINDOW_MS / 1000} s, ${UPDATES} writes, ${ROUNDS} round(s)`,
    );
    for (let r = 0; r < ROUNDS; r++) {
      for (const variant of VARIANTS) {
        const s = await runRound(server, kubeconfigPath, variant, r);
        samples.push(s);
        const reads = s.windowRequests.get + s.windowRequests.list + s.windowRequests.watch;
        console.error(
          `round ${r + 1}/${ROUNDS} ${LABELS[variant]}: populated in ${Math.round(s.populateMs)} ms, ` +
            `${round(perSecond(reads, s.windowMs), 2)} req/s (${JSON.stringify(s.windowRequests)}), ` +
            `visible p50 ${round(visiblePercentile(s.latenciesMs, 50), 1)} ms max ${round(maxOf(s.latenciesMs), 1)} ms, ` +
            `${s.connectionsPeak} connection(s), ${s.openWatches} watches`,
        );
      }
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const med = (variant: Variant, f: (s: Sample) => number) => median(samples.filter((s) => s.variant === variant).map(f));
  const reqRate = (verb?: keyof VerbCounts) => (s: Sample) =>
    perSecond(verb ? s.windowRequests[verb] : s.windowRequests.get + s.windowRequests.list + s.windowRequests.watch, s.windowMs);
  const populateReads = (s: Sample) => s.populateRequests.get + s.populateRequests.list + s.populateRequests.watch;
  const notVisible = (s: Sample) => s.latenciesMs.filter((v) => v === null).length;
  const metrics: Array<[string, (s: Sample) => number, number]> = [
    ['API requests/s, steady state', reqRate(), 2],
    ['  get/s', reqRate('get'), 2],
    ['  list/s', reqRate('list'), 2],
    ['  watch/s', reqRate('watch'), 2],
    ['change visible after, p50 (ms)', (s) => visiblePercentile(s.latenciesMs, 50), 1],
    ['change visible after, max (ms)', (s) => maxOf(s.latenciesMs), 1],
    ['changes never visible', notVisible, 0],
    [`time until all ${containerCount} populated (ms)`, (s) => s.populateMs, 0],
    ['API requests to populate', populateReads, 0],
    ['TCP connections (peak, cache client)', (s) => s.connectionsPeak, 0],
    ['watch streams open', (s) => s.openWatches, 0],
    ['worker CPU in window (ms)', (s) => s.cpuMsInWindow, 0],
    ['worker RSS at the end (MiB)', (s) => s.rssMiB, 0],
  ];
  const rows = metrics.map(([metric, f, digits]) => {
    const watch = med('watch', f);
    const polling = med('polling', f);
    return { metric, [LABELS.watch]: round(watch, digits), [LABELS.polling]: round(polling, digits), 'polling / watch': ratio(polling, watch) };
  });
  const interval = POLL_INTERVAL_MS === UPSTREAM_POLL_INTERVAL_MS ? 'every 30 s as upstream' : `every ${POLL_INTERVAL_MS / 1000} s (shortened from upstream's 30 s)`;
  report(
    'profiles',
    `${containerCount} containers' profiles on the embedded API server: watch stores vs polling ${interval}; ` +
      `${WINDOW_MS / 1000} s steady-state window, ${UPDATES} profile writes per round, medians of ${ROUNDS} alternating round(s)`,
    rows,
    {
      config: { containers: containerCount, workloads: fleet.length, windowMs: WINDOW_MS, updates: UPDATES, pollIntervalMs: POLL_INTERVAL_MS, rounds: ROUNDS, quick: QUICK },
      samples,
    },
  );
}

runBenchmark({ main, worker });
