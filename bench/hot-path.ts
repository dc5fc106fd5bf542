/**
 * Hot-path microbenchmark (issue 9, item 4), in memory, no network: the two calls a kubelet
 * makes most, each next to the kubelet-shaped baseline it replaces (bench/kubelet-shaped-
 * manager.ts, a direct port of pkg/kubelet/util/manager).
 *
 *  - getObject on a synced object: sequential awaited gets cycling over 1,000 synced secrets
 *    (target ≥ 2 M/s);
 *  - registerPod with 10 references on already-running reflectors: 1,000 fresh pods, each
 *    referencing 10 of the 1,000 secrets that anchor pods keep watched, registered one after
 *    another (target ≥ 200 k/s); then unregistered again, which is timed too.
 *
 * refwatch runs its real Watch store over MemorySource (lib/testing), every reflector listed
 * and watching; both sides use refwatch's podSecretNames, so the rows compare the managers
 * and stores. Each case runs in a fresh process (a warm-up, then one timed second), the cases
 * in an order rotated every round; ops/s medians over the rounds are reported.
 *
 *   npm run build && node dist/bench/hot-path.js           (BENCH_HOT_ROUNDS, default 5)
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { resources } from '../lib/api/resource.js';
import type { Manager } from '../lib/manager/interfaces.js';
import { isImmutableSecretOrConfigMap } from '../lib/manager/kind-managers.js';
import { podSecretNames } from '../lib/manager/pod-references.js';
import { createObjectManager } from '../lib/manager/strategy.js';
import { MemorySource } from '../lib/testing/memory-source.js';
import { KubeletShapedManager, KubeletShapedObjectCache } from './kubelet-shaped-manager.js';
import { median, round, writeResult, markdownTable } from './report.js';
import { roundOrder } from './side-by-side/options.js';
import { runBenchmark } from './worker-channel.js';
import { runWorker } from './worker-process.js';

const ROUNDS = Number(process.env.BENCH_HOT_ROUNDS ?? 5);
const NS = 'hot';
/** Synced objects the gets cycle over, and that the measured pods reference. */
const OBJECTS = 1_000;
/** References per measured pod. */
const REFS = 10;
/** Pods registered (and unregistered) per pass. */
const PODS = 1_000;
/** Warm-up before the timed part: long enough for V8 to optimise both paths. */
const WARMUP_MS = 500;
const MEASURE_MS = 1_000;
/** Gets between two clock reads, so reading the clock costs nothing measurable. */
const GET_BATCH = 10_000;
/** A case takes about 2 s (set-up, warm-up, one timed second); one still running after a minute is stuck. */
const CASE_TIMEOUT_MS = 60_000;

const TARGETS = { getObject: 2_000_000, registerPod: 200_000 } as const;

type Impl = 'refwatch' | 'kubelet-shaped';
type Op = 'getObject' | 'registerPod' | 'unregisterPod';
const CASES: Array<{ impl: Impl; op: Exclude<Op, 'unregisterPod'> }> = [
  { impl: 'refwatch', op: 'getObject' },
  { impl: 'kubelet-shaped', op: 'getObject' },
  { impl: 'refwatch', op: 'registerPod' },
  { impl: 'kubelet-shaped', op: 'registerPod' },
];

const name = (i: number) => `secret-${i}`;

/** A pod with 10 secret references: 4 volumes, 3 envFrom, 3 env valueFrom, as a busy pod has. */
function podWithRefs(id: string, refs: string[]): V1Pod {
  return {
    metadata: { namespace: NS, name: id, uid: `uid-${id}` },
    spec: {
      volumes: refs.slice(0, 4).map((secretName, i) => ({ name: `v${i}`, secret: { secretName } })),
      containers: [
        {
          name: 'app',
          envFrom: refs.slice(4, 7).map((n) => ({ secretRef: { name: n } })),
          env: refs.slice(7, 10).map((n, i) => ({ name: `E${i}`, valueFrom: { secretKeyRef: { name: n, key: 'k' } } })),
        },
      ],
    },
  };
}

/** Pod i references 10 distinct secrets spread over all of them. */
const measuredPods = Array.from({ length: PODS }, (_, i) =>
  podWithRefs(
    `pod-${i}`,
    Array.from({ length: REFS }, (_, k) => name((i * 7 + k * 97) % OBJECTS)),
  ),
);
/** Anchor pods keep every object referenced, so its reflector runs before and after each pass. */
const anchorPods = Array.from({ length: OBJECTS / REFS }, (_, j) =>
  podWithRefs(
    `anchor-${j}`,
    Array.from({ length: REFS }, (_, k) => name(j * REFS + k)),
  ),
);

function secrets(): V1Secret[] {
  return Array.from({ length: OBJECTS }, (_, i) => ({ metadata: { namespace: NS, name: name(i) }, data: { k: 'dg==' } }));
}

async function setUp(impl: Impl): Promise<{ manager: Pick<Manager<unknown>, 'getObject' | 'registerPod' | 'unregisterPod'>; close: () => Promise<void> }> {
  let manager: Pick<Manager<unknown>, 'getObject' | 'registerPod' | 'unregisterPod'>;
  let close = async () => {};
  if (impl === 'refwatch') {
    const source = new MemorySource<V1Secret>(resources.secrets);
    for (const s of secrets()) source.create(s);
    const m = createObjectManager<V1Secret>({ source, getReferencedObjects: podSecretNames, isImmutable: isImmutableSecretOrConfigMap });
    manager = m;
    close = () => m.close();
  } else {
    const objects = new Map(secrets().map((s) => [`${NS}/${s.metadata!.name}`, s]));
    manager = new KubeletShapedManager(new KubeletShapedObjectCache(objects), podSecretNames);
  }
  for (const pod of anchorPods) manager.registerPod(pod);
  // Every object synced (refwatch: listed, its watch open) before anything is timed.
  for (let i = 0; i < OBJECTS; i++) await manager.getObject(NS, name(i));
  return { manager, close };
}

/** ops/s of sequential awaited gets over at least `ms`. */
async function timeGets(manager: Pick<Manager<unknown>, 'getObject'>, ms: number): Promise<number> {
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < GET_BATCH; i++) await manager.getObject(NS, name((ops + i) % OBJECTS));
    ops += GET_BATCH;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (ops * 1000) / elapsed;
}

/** ops/s of registerPod and of unregisterPod over passes of all measured pods, at least `ms` of registering. */
function timeRegistrations(manager: Pick<Manager<unknown>, 'registerPod' | 'unregisterPod'>, ms: number): { registerPod: number; unregisterPod: number } {
  let registerMs = 0;
  let unregisterMs = 0;
  let passes = 0;
  do {
    const t0 = performance.now();
    for (const pod of measuredPods) manager.registerPod(pod);
    const t1 = performance.now();
    for (const pod of measuredPods) manager.unregisterPod(pod);
    const t2 = performance.now();
    registerMs += t1 - t0;
    unregisterMs += t2 - t1;
    passes++;
  } while (registerMs < ms);
  return { registerPod: (passes * PODS * 1000) / registerMs, unregisterPod: (passes * PODS * 1000) / unregisterMs };
}

async function runCase(impl: Impl, op: (typeof CASES)[number]['op']): Promise<Partial<Record<Op, number>>> {
  const { manager, close } = await setUp(impl);
  try {
    if (op === 'getObject') {
      await timeGets(manager, WARMUP_MS);
      return { getObject: await timeGets(manager, MEASURE_MS) };
    }
    timeRegistrations(manager, WARMUP_MS);
    return timeRegistrations(manager, MEASURE_MS);
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  const samples: Array<{ impl: Impl; op: Op; round: number; opsPerSecond: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of roundOrder(CASES, r)) {
      const result = await runWorker<Partial<Record<Op, number>>>(import.meta.url, [c.impl, c.op], CASE_TIMEOUT_MS, { label: `hot path ${c.impl} ${c.op}` });
      for (const [op, opsPerSecond] of Object.entries(result)) samples.push({ impl: c.impl, op: op as Op, round: r, opsPerSecond: opsPerSecond! });
      console.error(
        `hot path round ${r + 1}/${ROUNDS} ${c.impl} ${c.op}: ${Object.entries(result)
          .map(([k, v]) => `${k} ${Math.round(v!).toLocaleString('en-US')}/s`)
          .join(', ')}`,
      );
    }
  }
  const ops: Op[] = ['getObject', 'registerPod', 'unregisterPod'];
  const rows = ops.map((op) => {
    const of = (impl: Impl) => samples.filter((s) => s.impl === impl && s.op === op).map((s) => s.opsPerSecond);
    const mine = median(of('refwatch'));
    const base = median(of('kubelet-shaped'));
    const target = (TARGETS as Record<string, number>)[op];
    return {
      op,
      refwatch: round(mine, 0),
      refwatchMin: round(Math.min(...of('refwatch')), 0),
      refwatchMax: round(Math.max(...of('refwatch')), 0),
      kubeletShaped: round(base, 0),
      ratio: round(mine / base, 2),
      target,
      met: target === undefined ? undefined : mine >= target,
    };
  });
  const fmt = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${Math.round(v / 1e3)} k/s`);
  const label: Record<Op, string> = {
    getObject: 'getObject on a synced object',
    registerPod: `registerPod, ${REFS} references on running reflectors`,
    unregisterPod: `unregisterPod, ${REFS} references (objects stay watched)`,
  };
  const table = markdownTable(
    ['', 'refwatch (min – max)', 'kubelet-shaped port', 'refwatch / port', 'target'],
    rows.map((r) => [
      label[r.op],
      `${fmt(r.refwatch)} (${fmt(r.refwatchMin)} – ${fmt(r.refwatchMax)})`,
      fmt(r.kubeletShaped),
      `${r.ratio}×`,
      r.target === undefined ? '–' : `≥ ${fmt(r.target)}: ${r.met ? 'met' : 'NOT met'}`,
    ]),
  );
  const title = `Hot path, in memory (MemorySource, ${OBJECTS.toLocaleString('en-US')} synced objects): ops/s medians of ${ROUNDS} rounds, each case in a fresh process`;
  console.log(`\n${title}\n\n${table}\n`);
  writeResult('hot-path', {
    title,
    method: 'see bench/hot-path.ts',
    rounds: ROUNDS,
    objects: OBJECTS,
    refsPerPod: REFS,
    podsPerPass: PODS,
    measureMs: MEASURE_MS,
    table,
    rows,
    samples,
  });
}

runBenchmark({ main, worker: ([impl, op]) => runCase(impl as Impl, op as (typeof CASES)[number]['op']) });
