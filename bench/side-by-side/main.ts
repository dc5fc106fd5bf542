/**
 * The side-by-side benchmark (issue 9): on one real kube-apiserver, N secrets watched the way
 * a kubelet with N pods watches them, by refwatch's SecretManager, by the kubelet's own Go
 * watching secret manager, and by client-node informers (one per secret), plus the objects
 * alone as the floor. For each size the secrets are created once; then each variant runs in a
 * fresh process, in an order rotated every round, and the medians of the rounds are reported:
 * time until all are readable, TCP connections, heap and RSS (and their per-object slopes
 * between sizes), update-to-visible latency, the apiserver's RSS.
 *
 *   npm run bench                                   (1,000 and 10,000; builds what it needs)
 *   node dist/bench/side-by-side/main.js --sizes 1000,10000,100000 --rounds 1
 *   node dist/bench/side-by-side/main.js --help
 *
 * Needs Go (kube-apiserver, etcd and the kubelet worker are built from the Go module proxy by
 * scripts/kube/build.sh and scripts/bench/build-kubelet.sh, into ~/.cache/refwatch); without
 * it, it says so and exits 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { StatusError } from '../../lib/api/errors.js';
import { resources } from '../../lib/api/resource.js';
import { errorMessage } from '../../lib/util/logger.js';
import { RealCluster } from '../../e2e/harness/cluster.js';
import { openFilesLimit } from '../proc.js';
import { machine, writeResult } from '../report.js';
import { defaultLimitMs, defaultStallMs, parseOptions, roundOrder, runsAt, type BenchOptions } from './options.js';
import { count, figures, slopeTable, sizeTable, writeFigures } from './output.js';
import { runOnce, type RunContext, type RunSample } from './run.js';
import { slopesOf, summarize, type VariantSummary } from './summary.js';
import { VARIANT_SPECS, type VariantId } from './variants.js';
import { initialSecret, NAMESPACE } from './workload.js';

/** Concurrent creates while filling the namespace: fast, and well under the apiserver's 200 mutating requests in flight. */
const CREATE_CONCURRENCY = 64;
/** After the secrets of a size are written, before the first run: the apiserver's watch cache and GC catch up. */
const AFTER_CREATE_MS = 5_000;

/** How each quantity is measured, for the JSON and the README. */
const METHOD = [
  'One kube-apiserver and etcd for the whole run; secrets secret-0 … secret-(N-1) in one namespace, each with one small value.',
  'Each variant runs in a fresh worker process; rounds rotate the order of variants; tables show medians over the runs that converged.',
  'refwatch and the kubelet register one pod per secret (registerPod / RegisterPod), then get every secret, retrying each failed get at once (after 10 ms if it failed faster); client-node starts one ListWatch informer per secret with a metadata.name field selector, restarted 5 s after an error.',
  'Time until all readable: from the start command until every secret was read once, measured in the worker.',
  'TCP connections: ESTABLISHED sockets of the worker pid to the apiserver port (/proc/<pid>/fd inodes matched in /proc/<pid>/net/tcp{,6}), 3 s after ready; peak: sampled every second while syncing.',
  'Heap: Node process.memoryUsage().heapUsed after two gc() (--expose-gc); Go runtime.MemStats.HeapInuse after two runtime.GC(), goroutine stacks (StackInuse) apart. RSS: VmRSS of /proc/<pid>/status. Per-object costs are slopes between sizes of the medians.',
  'Update to visible: the orchestrator arms the worker (which starts reading that secret from its cache every 1 ms), notes CLOCK_MONOTONIC, merge-patches a new value; the worker reports the CLOCK_MONOTONIC at which its cache first served it. One update at a time, spread evenly over the secrets; p50/p99 by nearest rank per run, then the median over runs.',
  'Apiserver RSS: VmRSS of the kube-apiserver process after the worker was ready; watches: its apiserver_longrunning_requests gauge for secrets WATCH, minus the watches it held before any worker ran. Memory, connections and latency are measured once it serves a watch per secret.',
];

function log(line: string): void {
  console.error(line);
}

/** The built binary's path, or undefined when Go is not installed (exit code 3). */
function build(script: string, what: string): string | undefined {
  const started = performance.now();
  const result = spawnSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status === 3) return undefined;
  if (result.status !== 0) throw new Error(`${script} failed (${result.status ?? result.signal}); see its output above`);
  log(`${what}: ready in ${Math.round((performance.now() - started) / 100) / 10} s`);
  return result.stdout.trim().split('\n').pop()!;
}

/** The apiserver inherited this process's open-files limit; it serves one connection per client-node informer. */
function raiseFdLimit(pid: number, limit: number): number | undefined {
  const result = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`], { encoding: 'utf8' });
  const now = openFilesLimit(pid);
  if (result.status !== 0)
    log(`could not raise the apiserver's open-files limit to ${count(limit)} with prlimit (${(result.stderr || result.error?.message || '').trim()}); it stays at ${count(now)}`);
  return now;
}

async function createSecrets(writer: ObjectWriter<V1Secret>, from: number, to: number): Promise<void> {
  let next = from;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < to; i = next++) {
      try {
        await writer.create(NAMESPACE, initialSecret(i));
      } catch (err) {
        // 409: left by an earlier run of the same size.
        if (!(err instanceof StatusError && err.code === 409)) throw err;
      }
      if ((i + 1) % 10_000 === 0) log(`  created ${count(i + 1)} secrets`);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, lane));
  log(`created secrets ${count(from)} … ${count(to - 1)} in ${Math.round((performance.now() - started) / 100) / 10} s`);
}

function describeRun(s: RunSample): string {
  if (s.outcome !== 'ready') {
    return `${s.outcome === 'timeout' ? 'did not converge' : 'FAILED'}: ${count(s.readable)} readable, ${count(s.watches)} watches, ${count(s.connections)} connections; ${s.failure ?? ''}`;
  }
  const visible = s.latencyMs.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const lat = visible.length ? `, update→visible median ${visible[Math.ceil(visible.length / 2) - 1].toFixed(1)} ms (${visible.length}/${s.latencyMs.length})` : '';
  const mem = s.memory
    ? `, heap ${count(s.memory.heapBytes / 2 ** 20)} MiB${s.memory.stackBytes !== undefined ? ` + ${count(s.memory.stackBytes / 2 ** 20)} MiB stacks` : ''}, RSS ${count(s.memory.rssBytes / 2 ** 20)} MiB`
    : '';
  return `ready in ${((s.readyMs ?? NaN) / 1000).toFixed(2)} s, ${count(s.connections)} connections (peak ${count(s.peakConnections)})${mem}${lat}`;
}

interface Results {
  options: BenchOptions;
  kubeVersion: string;
  kubeletWorker?: string;
  samples: RunSample[];
  skipped: string[];
  loadAverage: { start: number; end?: number };
  apiserverFdLimit?: number;
  /** When and where the samples were taken (kept when re-rendering). */
  measured: { date: string; node: string; machine: ReturnType<typeof machine> };
}

function publish(results: Results, final: boolean): void {
  const { options, samples } = results;
  const measuredSizes = options.sizes.filter((n) => samples.some((s) => s.objects === n));
  const summaries = measuredSizes.flatMap((n) => options.variants.map((v) => summarize(samples, v, n)).filter((s): s is VariantSummary => s !== undefined));
  const slopes = options.variants.map((v) => slopesOf(summaries, v, measuredSizes));
  const tables: Record<string, string> = {};
  for (const n of measuredSizes)
    tables[String(n)] = sizeTable(
      summaries.filter((s) => s.objects === n),
      options.limitMs ?? defaultLimitMs(n),
    );
  const slopeText =
    measuredSizes.length > 1
      ? slopeTable(
          slopes,
          slopes.find((s) => s.variant === 'objects'),
        )
      : undefined;
  const m = results.measured.machine;
  const title = `Side by side on a real kube-apiserver ${results.kubeVersion}: ${measuredSizes.map(count).join(' / ')} secrets, one pod per secret, medians of ${options.rounds} round${options.rounds === 1 ? '' : 's'}`;
  const notes = [
    `${results.measured.date.slice(0, 10)}, ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, load average ${results.loadAverage.start.toFixed(1)} at start; Node ${results.measured.node}; ${results.kubeletWorker ?? ''}`,
    `medians of ${options.rounds} round${options.rounds === 1 ? '' : 's'}; method and every sample: bench/results/side-by-side.json`,
  ];
  if (final) {
    console.log(`\n${title}\n`);
    for (const n of measuredSizes) console.log(`${count(n)} secrets\n\n${tables[String(n)]}\n`);
    if (slopeText) console.log(`Per object (slopes between sizes)\n\n${slopeText}\n`);
    for (const s of results.skipped) console.log(`skipped: ${s}`);
  }
  const dir = path.resolve(options.out);
  writeResult(
    'side-by-side',
    {
      ...results.measured,
      title,
      complete: final,
      method: METHOD,
      options,
      kubeVersion: results.kubeVersion,
      kubeletWorker: results.kubeletWorker,
      loadAverage: results.loadAverage,
      apiserverFdLimit: results.apiserverFdLimit,
      skipped: results.skipped,
      tables,
      slopeTable: slopeText,
      summaries,
      slopes,
      samples,
    },
    dir,
  );
  if (final) writeFigures(dir, figures(summaries, options, notes));
}

/** Tables, summaries and figures again from the samples of an earlier run (after a change to how they are shown). */
function render(file: string, options: BenchOptions): void {
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  publish(
    {
      options: { ...saved.options, out: options.out },
      kubeVersion: saved.kubeVersion,
      kubeletWorker: saved.kubeletWorker,
      samples: saved.samples,
      skipped: saved.skipped ?? [],
      loadAverage: saved.loadAverage,
      apiserverFdLimit: saved.apiserverFdLimit,
      measured: { date: saved.date, node: saved.node, machine: saved.machine },
    },
    true,
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.render) return render(options.render, options);
  const binDir = RealCluster.binDirFromEnv() ?? build('scripts/kube/build.sh', 'kube-apiserver and etcd');
  if (!binDir) {
    console.log('side-by-side: skipped. Go is not installed; kube-apiserver, etcd and the kubelet worker are built from the Go module proxy (docs/real-apiserver.md).');
    return;
  }
  const skipped: string[] = [];
  let kubeletBinary: string | undefined;
  if (options.variants.includes('kubelet')) {
    // A failed Go build costs the kubelet column, not the whole benchmark.
    try {
      kubeletBinary = build('scripts/bench/build-kubelet.sh', 'kubelet worker');
      if (!kubeletBinary) skipped.push('kubelet (Go): Go is not installed');
    } catch (err) {
      log(errorMessage(err));
      skipped.push(`kubelet (Go): ${errorMessage(err)}`);
    }
  }
  const kubeletWorker = kubeletBinary ? execFileSync(kubeletBinary, ['-version'], { encoding: 'utf8' }).trim() : undefined;
  const kubeVersion = execFileSync(path.join(binDir, 'kube-apiserver'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^Kubernetes /, '');
  const measured = { date: new Date().toISOString(), node: process.version, machine: machine() };
  const results: Results = { options, kubeVersion, kubeletWorker, samples: [], skipped, loadAverage: { start: loadavg()[0] }, measured };

  const cluster = await RealCluster.start(binDir);
  onInterrupt = () => cluster.stop();
  const admin = new KubeClient(cluster.admin.kubeconfig);
  try {
    const apiserverPid = cluster.apiserverPid;
    if (apiserverPid === undefined) throw new Error('kube-apiserver is not running');
    results.apiserverFdLimit = raiseFdLimit(apiserverPid, options.fdLimit);
    await new ObjectWriter(admin, resources.namespaces).create('', { metadata: { name: NAMESPACE } });
    const writer = new ObjectWriter<V1Secret>(admin, resources.secrets);
    // Settle first: the apiserver starts its own secret watches (token authenticators) after it is ready.
    await new Promise((r) => setTimeout(r, AFTER_CREATE_MS));
    const baselineWatches = await cluster.openWatches('secrets');
    log(`the apiserver itself holds ${baselineWatches} secret watches; runs count those beyond them`);
    const ctx: RunContext = {
      cluster,
      baselineWatches,
      apiserverPid,
      apiPort: Number(new URL(cluster.url).port),
      writer,
      kubeletBinary,
      kubeletFlags: options.kubeletFlags,
      nodeFlags: options.nodeFlags,
      fdLimit: options.fdLimit,
      updates: options.updates,
      log,
    };
    let created = 0;
    for (const objects of options.sizes) {
      await createSecrets(writer, created, objects);
      created = objects;
      await new Promise((r) => setTimeout(r, AFTER_CREATE_MS));
      const variants = options.variants.filter((v) => {
        if (v === 'kubelet' && !kubeletBinary) return false;
        if (runsAt(options, v, objects)) return true;
        skipped.push(`${VARIANT_SPECS[v].label} at ${count(objects)} (above --client-node-max ${count(options.clientNodeMax)})`);
        return false;
      });
      const limitMs = options.limitMs ?? defaultLimitMs(objects);
      const stallMs = options.stallMs ?? defaultStallMs(objects);
      for (let round = 0; round < options.rounds; round++) {
        for (const variant of roundOrder<VariantId>(variants, round)) {
          const sample = await runOnce(ctx, variant, objects, round, limitMs, stallMs);
          results.samples.push(sample);
          log(`[${count(objects)} · round ${round + 1}/${options.rounds}] ${variant}: ${describeRun(sample)}`);
        }
      }
      // Partial results survive a later size that crashes or is interrupted.
      publish(results, false);
    }
    results.loadAverage.end = loadavg()[0];
    publish(results, true);
  } finally {
    await admin.close();
    await cluster.stop();
  }
}

/** What an interrupt must still do: stop the apiserver and etcd and remove their directory. */
let onInterrupt: (() => Promise<void>) | undefined;
/** How long that may take before the process exits anyway (cluster.ts kills its children on exit). */
const INTERRUPT_GRACE_MS = 20_000;

// The workers end by themselves when their stdin closes with this process.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the apiserver and etcd`);
    const exit = () => process.exit(130);
    setTimeout(exit, INTERRUPT_GRACE_MS).unref();
    void (onInterrupt?.() ?? Promise.resolve()).catch(() => {}).finally(exit);
  });
}

main().catch((err) => {
  console.error(errorMessage(err));
  console.error(err instanceof Error ? err.stack : '');
  process.exitCode = 1;
});
