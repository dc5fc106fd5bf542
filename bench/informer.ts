/**
 * Informer benchmark: one Informer over 10,000 sandboxes (the sandbox Provider's indexes) on
 * the embedded API server, measured in a fresh worker process:
 *
 * - heap per cached object, next to the same objects decoded into a plain array;
 * - lookups per second: by key, and by the claimed-id, owner and pool indexes;
 * - the time from a status write to a waiting Pause task's return (the watch event closes its
 *   hook), p50/p99, next to the same wait with only upstream's fallback: a GET every 10 s.
 *
 *   npm run build && node dist/bench/informer.js      (BENCH_INFORMER_COUNT, BENCH_ROUNDS)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer, KubeClient, WaitHooks, newWaitTask, type KubeObject, type ObjectSource } from '../lib/index.js';
import { ApiServer } from '../lib/testing/index.js';
import { sandboxCrds } from '../examples/sandbox-provider/crds.js';
import { IndexName, sandboxIndexers } from '../examples/sandbox-provider/indexes.js';
import { SandboxProvider } from '../examples/sandbox-provider/provider.js';
import { patchStatus } from '../examples/sandbox-provider/status-writer.js';
import { pauseSatisfied } from '../examples/sandbox-provider/tasks.js';
import { ANNOTATION_OWNER, API_VERSION, LABEL_SANDBOX_CLAIMED, LABEL_SANDBOX_TEMPLATE, sandboxResources, type Sandbox } from '../examples/sandbox-provider/types.js';
import { percentile } from '../lib/util/percentile.js';
import { median, report, round } from './report.js';
import { runBenchmark } from './worker-channel.js';
import { runWorker } from './worker-process.js';

const COUNT = Number(process.env.BENCH_INFORMER_COUNT ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAMESPACES = 10;
const USERS = 1_000;
const TEMPLATES = 20;
/** Sequential event-path waits per round: each one is a few milliseconds. */
const EVENT_SAMPLES = 200;
/** Concurrent poll-only waits per round; each lasts up to one 10 s poll period. */
const POLL_SAMPLES = 100;
const POLL_INTERVAL = 10_000;
const LOOKUP_MS = 500;
/** A round takes about a minute on 2 cores at 10,000 sandboxes; one still running after ten is stuck. */
const WORKER_TIMEOUT_MS = 10 * 60_000;

interface Sample {
  objectJsonBytes: number;
  syncMs: number;
  heapPerObjectInformer: number;
  heapPerObjectPlain: number;
  lookupsPerSecond: Record<string, number>;
  eventLatencyMs: number[];
  pollLatencyMs: number[];
  pollGets: number;
  pollWindowMs: number;
}

const ns = (i: number) => `team-${i % NAMESPACES}`;
const nameOf = (i: number) => `sbx-${i}`;

/** A claimed sandbox or a pool member, with a pod template the size of a small real one. */
function sandboxObject(i: number): Sandbox {
  const pool = i % 2 === 0;
  return {
    apiVersion: API_VERSION,
    kind: 'Sandbox',
    metadata: {
      namespace: ns(i),
      name: nameOf(i),
      generation: 1,
      labels: pool ? { [LABEL_SANDBOX_TEMPLATE]: `tmpl-${i % TEMPLATES}` } : { [LABEL_SANDBOX_CLAIMED]: 'true' },
      annotations: { [ANNOTATION_OWNER]: `user-${i % USERS}` },
      ownerReferences: pool ? [{ apiVersion: API_VERSION, kind: 'SandboxSet', name: `tmpl-${i % TEMPLATES}`, uid: `uid-sbs-${i % TEMPLATES}`, controller: true }] : [],
    },
    spec: {
      paused: false,
      template: {
        spec: {
          containers: [
            {
              name: 'sandbox',
              image: 'registry.example.com/agents/sandbox-runtime:v0.3.0',
              resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
              env: Array.from({ length: 5 }, (_, k) => ({ name: `ENV_${k}`, value: `value-${k}-${i}` })),
            },
          ],
        },
      },
    },
    status: {
      phase: 'Running',
      observedGeneration: 1,
      podInfo: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady' }],
    },
  };
}

function heapNow(): number {
  globalThis.gc!();
  globalThis.gc!();
  return process.memoryUsage().heapUsed;
}

function opsPerSecond(fn: (i: number) => void): number {
  let n = 0;
  const end = performance.now() + LOOKUP_MS;
  while (performance.now() < end) for (let k = 0; k < 1_000; k++) fn(n++);
  return n / (LOOKUP_MS / 1000);
}

async function warmUp(source: ObjectSource<Sandbox>): Promise<void> {
  await source.list('');
}

/** The same objects decoded into a plain array: what the data costs with no cache around it. */
async function measurePlain(source: ObjectSource<Sandbox>): Promise<{ objectJsonBytes: number; heapPerObjectPlain: number }> {
  const before = heapNow();
  const { items } = await source.list('');
  const heapPerObjectPlain = (heapNow() - before) / items.length;
  return { objectJsonBytes: Buffer.byteLength(JSON.stringify(items[0])), heapPerObjectPlain };
}

async function worker(kubeconfigPath: string): Promise<Sample> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const client = new KubeClient(kc);
  const source = client.source<Sandbox>(sandboxResources.sandboxes);
  // Warm up the connection and the decoding path's one-time costs (code, hidden classes), so
  // neither measurement pays for them. Each step is its own function: a suspended async frame
  // can keep the last awaited value alive, which would hide a list's objects from the diff.
  await warmUp(source);
  const { objectJsonBytes, heapPerObjectPlain } = await measurePlain(source);

  const base = heapNow();
  const started = performance.now();
  const informer = new Informer<Sandbox>({ source, indexers: sandboxIndexers });
  informer.start();
  await informer.synced();
  const syncMs = performance.now() - started;
  const heapPerObjectInformer = (heapNow() - base) / informer.size;

  let sink = 0;
  const lookupsPerSecond = {
    'get by namespace/name': opsPerSecond((i) => (sink += informer.get(ns(i % COUNT), nameOf(i % COUNT)) ? 1 : 0)),
    'claimed id (1 match, limit 1)': opsPerSecond((i) => {
      const j = ((i % (COUNT / 2)) << 1) | 1;
      sink += informer.list({ index: { name: IndexName.ClaimedSandboxId, value: `${ns(j)}--${nameOf(j)}` }, limit: 1 }).length;
    }),
    [`owner (${COUNT / USERS} matches)`]: opsPerSecond((i) => (sink += informer.list({ index: { name: IndexName.User, value: `user-${i % USERS}` } }).length)),
    [`pool in a namespace (${COUNT / 2 / TEMPLATES / NAMESPACES} matches)`]: opsPerSecond(
      (i) => (sink += informer.list({ namespace: ns(i), index: { name: IndexName.SandboxPool, value: `tmpl-${i % TEMPLATES}` } }).length),
    ),
  };
  if (sink < 0) console.error(sink);
  await informer.close();

  // Event path: the Provider's Pause task, woken by the informer's watch event.
  const provider = new SandboxProvider({ client });
  await provider.run();
  const eventLatencyMs: number[] = [];
  for (let k = 0; k < EVENT_SAMPLES; k++) {
    const i = 2 * k + 1; // claimed sandboxes
    const sbx = provider.informers.sandboxes.get(ns(i), nameOf(i))!;
    const task = provider.newSandboxPauseTask(sbx);
    try {
      const waiting = task.wait(30_000);
      const t0 = performance.now();
      await patchStatus(client, sandboxResources.sandboxes, ns(i), nameOf(i), {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'PodReady' },
          { type: 'SandboxPaused', status: 'True', reason: 'SetPause' },
        ],
      });
      await waiting;
      eventLatencyMs.push(performance.now() - t0);
    } finally {
      task.release();
    }
  }
  await provider.stop();

  // Upstream's fallback alone: no events reach these hooks; each waiter GETs every 10 s.
  const hooks = new WaitHooks();
  const getsBefore = client.stats().requests.get;
  const pollStarted = performance.now();
  const pollLatencyMs = await Promise.all(
    Array.from({ length: POLL_SAMPLES }, async (_, k) => {
      const i = 2 * (EVENT_SAMPLES + k) + 1;
      const sbx = await source.get(ns(i), nameOf(i));
      // Waiters start at random points of a poll period, and the write lands one period later.
      await new Promise((r) => setTimeout(r, Math.random() * POLL_INTERVAL));
      const task = newWaitTask<Sandbox>({
        hooks,
        object: sbx,
        action: 'Pause',
        check: pauseSatisfied,
        update: (s) => source.get(s.metadata.namespace!, s.metadata.name!),
        pollInterval: POLL_INTERVAL,
      });
      const waiting = task.wait(3 * POLL_INTERVAL);
      await new Promise((r) => setTimeout(r, POLL_INTERVAL + Math.random() * POLL_INTERVAL));
      const t0 = performance.now();
      await patchStatus(client, sandboxResources.sandboxes, ns(i), nameOf(i), {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'PodReady' },
          { type: 'SandboxPaused', status: 'True', reason: 'SetPause' },
        ],
      });
      await waiting;
      return performance.now() - t0;
    }),
  );
  const pollWindowMs = performance.now() - pollStarted;
  const pollGets = client.stats().requests.get - getsBefore;
  await client.close();
  return { objectJsonBytes, syncMs, heapPerObjectInformer, heapPerObjectPlain, lookupsPerSecond, eventLatencyMs, pollLatencyMs, pollGets, pollWindowMs };
}

async function main(): Promise<void> {
  const touched = 2 * (EVENT_SAMPLES + POLL_SAMPLES) + 2;
  if (COUNT < touched) throw new RangeError(`BENCH_INFORMER_COUNT must be at least ${touched}: each round pauses that many distinct sandboxes`);
  const server = await ApiServer.start({ crds: sandboxCrds() });
  const dir = mkdtempSync(path.join(tmpdir(), 'refwatch-bench-'));
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < COUNT; i++) server.storage.create(sandboxResources.sandboxes, sandboxObject(i) as KubeObject, ns(i));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    for (let r = 0; r < ROUNDS; r++) {
      // Every round starts from unpaused sandboxes: put back the ones the last round paused.
      for (let i = 0; i < touched; i++) server.storage.update(sandboxResources.sandboxes, sandboxObject(i) as KubeObject, ns(i));
      const sample = await runWorker<Sample>(import.meta.url, [kubeconfig], WORKER_TIMEOUT_MS, { label: `informer worker, round ${r + 1}`, nodeFlags: ['--expose-gc'] });
      samples.push(sample);
      console.error(
        `round ${r + 1}/${ROUNDS}: sync ${round0(sample.syncMs)} ms, ${round0(sample.heapPerObjectInformer)} B/object, event p50 ${round(percentile(sample.eventLatencyMs, 50), 1)} ms, poll p50 ${round0(percentile(sample.pollLatencyMs, 50))} ms`,
      );
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (f: (s: Sample) => number) => median(samples.map(f));
  const events = samples.flatMap((s) => s.eventLatencyMs);
  const polls = samples.flatMap((s) => s.pollLatencyMs);
  const rows: Array<Record<string, string | number>> = [
    { measure: `sandbox JSON size (bytes)`, value: med((s) => s.objectJsonBytes) },
    { measure: `time until ${COUNT} synced (ms)`, value: round0(med((s) => s.syncMs)) },
    { measure: 'heap per object, Informer with 3 indexes (KiB)', value: round(med((s) => s.heapPerObjectInformer) / 1024, 2) },
    { measure: 'heap per object, plain decoded array (KiB)', value: round(med((s) => s.heapPerObjectPlain) / 1024, 2) },
    ...Object.keys(samples[0].lookupsPerSecond).map((k) => ({ measure: `lookups/s: ${k}`, value: round0(med((s) => s.lookupsPerSecond[k])) })),
    { measure: `status write -> Pause task returns, event path, p50 (ms), n=${events.length}`, value: round(percentile(events, 50), 2) },
    { measure: 'status write -> Pause task returns, event path, p99 (ms)', value: round(percentile(events, 99), 2) },
    { measure: `same wait polling a GET every 10 s, p50 (ms), n=${polls.length}`, value: round0(percentile(polls, 50)) },
    { measure: 'same wait polling a GET every 10 s, p99 (ms)', value: round0(percentile(polls, 99)) },
    {
      measure: 'polling GETs per waiter per minute',
      value: round(
        med((s) => s.pollGets / POLL_SAMPLES / (s.pollWindowMs / 60_000)),
        1,
      ),
    },
  ];
  report('informer', `Informer over ${COUNT} sandboxes on the embedded API server, medians of ${ROUNDS} worker rounds (latency percentiles over all samples)`, rows, samples);
}

function round0(v: number): number {
  return Math.round(v);
}

runBenchmark({ main, worker: (args) => worker(args[0]) });
