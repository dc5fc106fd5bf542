/**
 * Probe (issue 9 item 5, "no update lost"): N secrets watched by refwatch's SecretManager
 * (Watch strategy, one pod per secret) on a real kube-apiserver, a writer updating a spread of
 * them continuously, and the apiserver stopped and started again in the middle of the writes.
 * Once the writer stops, every secret's served value must come to equal what a plain GET on
 * the server returns; any that does not within the deadline is a lost update, and the exit
 * code is 1.
 *
 *     npm run build && node dist/bench/scale-probe/restart-check.js [--objects 10000]
 *       [--spread 1000] [--writers 16] [--rate 200] [--before-ms 10000] [--after-ms 20000]
 *       [--down-ms 2000] [--converge-ms 60000]
 *
 * Writes bench/results/restart-check.json. Every update writes a unique, increasing value
 * (`u-<counter>`), so a served value that is not the server's is always an older one.
 */
import { execFileSync } from 'node:child_process';
import type { V1Secret } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { StatusError } from '../../lib/api/errors.js';
import { resources } from '../../lib/api/resource.js';
import { SecretManager } from '../../lib/manager/kind-managers.js';
import { errorMessage } from '../../lib/util/logger.js';
import { RealCluster } from '../../e2e/harness/cluster.js';
import { openFilesLimit } from '../proc.js';
import { report, round } from '../report.js';
import { decodedValue, initialSecret, podFor, secretName, valuePatch } from '../side-by-side/workload.js';

const NAMESPACE = 'restart-check';
/** Concurrent creates and truth GETs: as the side-by-side bench, well under the apiserver's in-flight limits. */
const CONCURRENCY = 64;
/** A get still waiting for a sync after this long counts as not converged yet, and is asked again. */
const READ_TIMEOUT_MS = 5_000;
/** Between passes over every secret while waiting for convergence. */
const CONVERGE_POLL_MS = 250;
/** A writer lane's pause after a failed write: the apiserver is down, no point in spinning. */
const WRITE_ERROR_PAUSE_MS = 100;

interface Options {
  objects: number;
  spread: number;
  writers: number;
  rate: number;
  beforeMs: number;
  afterMs: number;
  downMs: number;
  convergeMs: number;
}

function parseOptions(argv: string[]): Options {
  const defaults: Options = { objects: 10_000, spread: 0, writers: 16, rate: 200, beforeMs: 10_000, afterMs: 20_000, downMs: 2_000, convergeMs: 60_000 };
  const flags: Record<string, keyof Options> = {
    '--objects': 'objects',
    '--spread': 'spread',
    '--writers': 'writers',
    '--rate': 'rate',
    '--before-ms': 'beforeMs',
    '--after-ms': 'afterMs',
    '--down-ms': 'downMs',
    '--converge-ms': 'convergeMs',
  };
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help') {
      console.log(
        `usage: restart-check.js ${Object.keys(flags)
          .map((f) => `[${f} N]`)
          .join(' ')}`,
      );
      process.exit(0);
    }
    const key = flags[argv[i]];
    const value = Number(argv[++i]);
    if (!key || !Number.isInteger(value) || value < 0)
      throw new Error(`bad argument ${argv[i - 1]} ${argv[i] ?? ''}: expected one of ${Object.keys(flags).join(', ')} with a whole number`);
    opts[key] = value;
  }
  if (opts.objects < 1 || opts.writers < 1 || opts.rate < 1) throw new Error('--objects, --writers and --rate must be at least 1');
  // Default spread: every secret up to 1,000, then 1,000 evenly spaced ones.
  opts.spread = Math.min(opts.objects, opts.spread || 1_000);
  opts.writers = Math.min(opts.writers, opts.spread);
  return opts;
}

function log(line: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `task(i)` for i in [0, n) on `lanes` concurrent lanes. */
async function inLanes(n: number, lanes: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < n; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
}

type Phase = 'before' | 'outage' | 'after';

/**
 * Writes `u-<counter>` to the spread's secrets, each lane owning every writers-th of them so
 * that no two writes to one secret overlap: the last acknowledged write of a secret is then
 * its last value, unless a failed write (whose outcome is unknown) came after it.
 */
class Writer {
  private counter = 0;
  private stopping = false;
  phase: Phase = 'before';
  readonly acked: Record<Phase, number> = { before: 0, outage: 0, after: 0 };
  readonly failed: Record<Phase, number> = { before: 0, outage: 0, after: 0 };
  /** Per written secret: the counter of its last acknowledged write (0: none yet). */
  readonly lastAcked = new Map<string, number>();
  lastError: string | undefined;
  /** Acknowledged writes per second since start(): when the writes resumed after the restart. */
  readonly ackedPerSecond: number[] = [];
  private startedAt = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly secrets: ObjectWriter<V1Secret>,
    private readonly names: string[],
    private readonly lanes: number,
    private readonly rate: number,
  ) {}

  start(): void {
    const gapMs = (this.lanes * 1000) / this.rate;
    this.startedAt = performance.now();
    const lane = async (l: number) => {
      const mine = this.names.filter((_, j) => j % this.lanes === l);
      for (let k = 0; !this.stopping; k++) {
        const started = performance.now();
        const name = mine[k % mine.length];
        const value = ++this.counter;
        const phase = this.phase;
        if (!this.lastAcked.has(name)) this.lastAcked.set(name, 0);
        try {
          await this.secrets.patch(NAMESPACE, name, valuePatch(`u-${value}`));
          this.lastAcked.set(name, value);
          this.acked[phase]++;
          const second = Math.floor((performance.now() - this.startedAt) / 1000);
          while (this.ackedPerSecond.length <= second) this.ackedPerSecond.push(0);
          this.ackedPerSecond[second]++;
        } catch (err) {
          this.failed[phase]++;
          this.lastError = errorMessage(err);
          await sleep(WRITE_ERROR_PAUSE_MS);
        }
        const wait = gapMs - (performance.now() - started);
        if (wait > 0) await sleep(wait);
      }
    };
    this.running = Promise.all(Array.from({ length: this.lanes }, (_, l) => lane(l))).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  get attempted(): number {
    return this.counter;
  }
}

interface Mismatch {
  name: string;
  served: string | undefined;
  server: string | undefined;
  running?: boolean;
  synced?: boolean;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const binDir =
    RealCluster.binDirFromEnv() ??
    execFileSync('scripts/kube/build.sh', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
  const fdLimit = openFilesLimit(process.pid);
  log(`restart-check: ${opts.objects} secrets, updates to ${opts.spread} of them; open-files limit ${fdLimit}`);

  let cluster: RealCluster | undefined;
  let admin: KubeClient | undefined;
  let client: KubeClient | undefined;
  let manager: SecretManager<'Watch'> | undefined;
  let writer: Writer | undefined;
  // One cleanup for both ends, the normal one and an interrupt (also one during start: what is
  // not started yet is skipped, and cluster.ts kills its children on exit); kube-apiserver stops
  // before etcd (cluster.stop).
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await writer?.stop();
      await manager?.close();
      await client?.close();
      await admin?.close();
      await cluster?.stop();
    })());
  onSignal((signal) => {
    log(`${signal}: stopping the writer, refwatch, kube-apiserver and etcd`);
    return cleanup();
  });
  cluster = await RealCluster.start(binDir);
  admin = new KubeClient(cluster.admin.kubeconfig);
  client = new KubeClient(cluster.admin.kubeconfig);
  manager = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
  try {
    await new ObjectWriter(admin, resources.namespaces).create('', { metadata: { name: NAMESPACE } });
    const secrets = new ObjectWriter<V1Secret>(admin, resources.secrets);
    const names = Array.from({ length: opts.objects }, (_, i) => secretName(i));
    let started = performance.now();
    await inLanes(opts.objects, CONCURRENCY, async (i) => {
      await secrets.create(NAMESPACE, initialSecret(i));
    });
    const createMs = performance.now() - started;
    log(`created ${opts.objects} secrets in ${round(createMs / 1000)} s`);

    started = performance.now();
    names.forEach((_, i) => manager.registerPod(podFor(NAMESPACE, i)));
    let failedGets = 0;
    await inLanes(opts.objects, opts.objects, async (i) => {
      for (;;) {
        try {
          await manager.getSecret(NAMESPACE, names[i]);
          return;
        } catch {
          // A sync timeout while thousands of first lists are under way: ask again, as a kubelet does.
          failedGets++;
          await sleep(10);
        }
      }
    });
    const readableMs = performance.now() - started;
    log(`all ${opts.objects} readable after ${round(readableMs / 1000)} s (${failedGets} gets retried)`);
    const beforeRestart = client.stats().requests;

    const spread = Array.from({ length: opts.spread }, (_, j) => names[Math.floor((j * opts.objects) / opts.spread)]);
    writer = new Writer(secrets, spread, opts.writers, opts.rate);
    writer.start();
    await sleep(opts.beforeMs);
    writer.phase = 'outage';
    log(`restarting kube-apiserver (down ${opts.downMs} ms) after ${writer.acked.before} updates`);
    const restartStarted = performance.now();
    await cluster.restartApiserver(opts.downMs);
    const restartedAt = performance.now();
    writer.phase = 'after';
    log(
      `kube-apiserver ready again after ${round((restartedAt - restartStarted) / 1000)} s; ${writer.acked.outage} updates acknowledged and ${writer.failed.outage} failed meanwhile`,
    );
    await sleep(opts.afterMs);
    await writer.stop();
    const stoppedAt = performance.now();
    log(`writer stopped: ${writer.attempted} updates attempted, ${writer.acked.after} acknowledged after the restart`);

    // The truth: one plain GET per secret, now that nothing writes any more.
    const truth = new Map<string, string | undefined>();
    const truthStarted = performance.now();
    const serverSource = admin.source<V1Secret>(resources.secrets);
    await inLanes(opts.objects, CONCURRENCY, async (i) => {
      truth.set(names[i], decodedValue(await serverSource.get(NAMESPACE, names[i])));
    });
    const truthMs = performance.now() - truthStarted;
    // Counters are increasing: the server holding an older value than one it acknowledged would be the server's loss, not refwatch's.
    // A server value newer than the last acknowledged one is a write whose answer the outage cut off.
    let serverBehindAcked = 0;
    let serverHoldsUnacknowledged = 0;
    for (const [name, acked] of writer.lastAcked) {
      const held = Number((truth.get(name) ?? '').replace(/^u-/, '')) || 0;
      if (held < acked) serverBehindAcked++;
      else if (held > acked) serverHoldsUnacknowledged++;
    }

    let mismatches: Mismatch[] = [];
    let convergedAt: number | undefined;
    let passes = 0;
    while (performance.now() - stoppedAt < opts.convergeMs) {
      passes++;
      const found: Mismatch[] = [];
      await inLanes(opts.objects, CONCURRENCY * 4, async (i) => {
        const name = names[i];
        let served: string | undefined;
        try {
          served = decodedValue(await manager.getSecret(NAMESPACE, name, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) }));
        } catch (err) {
          served = `(get failed: ${errorMessage(err).slice(0, 80)})`;
        }
        if (served !== truth.get(name)) found.push({ name, served, server: truth.get(name) });
      });
      mismatches = found;
      if (found.length === 0) {
        convergedAt = performance.now();
        break;
      }
      await sleep(CONVERGE_POLL_MS);
    }
    const store = manager.manager.store;
    for (const m of mismatches) Object.assign(m, store.inspect(NAMESPACE, m.name));
    const after = client.stats();
    const notRunning = names.filter((n) => !store.inspect(NAMESPACE, n)?.running).length;

    const result = {
      objects: opts.objects,
      spread: opts.spread,
      updatesAttempted: writer.attempted,
      updatesAcknowledged: writer.acked.before + writer.acked.outage + writer.acked.after,
      updatesAcknowledgedBeforeRestart: writer.acked.before,
      updatesAcknowledgedDuringOutage: writer.acked.outage,
      updatesFailedDuringOutage: writer.failed.outage,
      updatesAcknowledgedAfterRestart: writer.acked.after,
      updatesFailedOtherwise: writer.failed.before + writer.failed.after,
      createSeconds: round(createMs / 1000),
      timeToAllReadableSeconds: round(readableMs / 1000),
      getsRetriedWhileSyncing: failedGets,
      apiserverDownSeconds: round((restartedAt - restartStarted) / 1000),
      convergedSecondsAfterRestart: convergedAt === undefined ? null : round((convergedAt - restartedAt) / 1000),
      convergedSecondsAfterWritesStopped: convergedAt === undefined ? null : round((convergedAt - stoppedAt) / 1000),
      truthGetSeconds: round(truthMs / 1000),
      convergencePasses: passes,
      mismatchedAtEnd: mismatches.length,
      serverBehindAcknowledged: serverBehindAcked,
      serverHoldsUnacknowledgedWrite: serverHoldsUnacknowledged,
      reflectorsNotRunning: notRunning,
      listsAfterRestart: after.requests.list - beforeRestart.list,
      watchesAfterRestart: after.requests.watch - beforeRestart.watch,
      requestsBeforeRestart: beforeRestart,
      throttled: after.throttled,
      writerClient: admin.stats(),
      restartSecondsAfterWriterStart: round(opts.beforeMs / 1000),
      acknowledgedPerSecond: writer.ackedPerSecond,
      connections: after.connections,
      store: store.stats(),
      mismatches: mismatches.slice(0, 50),
      lastWriteError: writer.lastError,
      options: opts,
    };
    const rows = [
      ['objects', result.objects],
      ['secrets updated (spread)', result.spread],
      ['updates acknowledged (attempted)', `${result.updatesAcknowledged} (${result.updatesAttempted})`],
      ['updates acknowledged / failed during the outage', `${result.updatesAcknowledgedDuringOutage} / ${result.updatesFailedDuringOutage}`],
      ['updates acknowledged after the restart', result.updatesAcknowledgedAfterRestart],
      ['time to all readable', `${result.timeToAllReadableSeconds} s`],
      ['apiserver restart (stop, down, ready)', `${result.apiserverDownSeconds} s`],
      [
        'all converged, after restart / after writes stopped',
        convergedAt === undefined ? `NOT within ${opts.convergeMs / 1000} s` : `${result.convergedSecondsAfterRestart} s / ${result.convergedSecondsAfterWritesStopped} s`,
      ],
      ['of which the truth GETs, and passes over all secrets', `${result.truthGetSeconds} s, ${passes}`],
      ['served value mismatched at the end', result.mismatchedAtEnd],
      ['relists / rewatches after the restart', `${result.listsAfterRestart} / ${result.watchesAfterRestart}`],
      ['429s answered', result.throttled],
    ].map(([what, value]) => ({ what: String(what), value: typeof value === 'number' ? value : String(value) }));
    report('restart-check', `restart-check: ${opts.objects} secrets, kube-apiserver restarted under ${opts.rate} updates/s`, rows, result);
    if (mismatches.length > 0) {
      console.error(`LOST UPDATES: ${mismatches.length} secrets serve another value than the server's, e.g.`);
      for (const m of mismatches.slice(0, 10)) console.error(`  ${m.name}: served ${m.served}, server ${m.server}, running ${m.running}, synced ${m.synced}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

/** How long cleaning up after a signal may take before the process exits anyway (cluster.ts kills its children on exit). */
const SIGNAL_GRACE_MS = 20_000;

/** On SIGINT or SIGTERM: `stop`, then exit 130, or exit anyway after SIGNAL_GRACE_MS. */
function onSignal(stop: (signal: string) => Promise<void>): void {
  const handle = (signal: NodeJS.Signals) => {
    setTimeout(() => process.exit(130), SIGNAL_GRACE_MS).unref();
    stop(signal).then(
      () => process.exit(130),
      (err: unknown) => {
        console.error(`cleanup after ${signal} failed: ${errorMessage(err)}`);
        process.exit(130);
      },
    );
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
}

main().catch((err: unknown) => {
  console.error(err instanceof StatusError ? `failed with status ${err.code}: ${errorMessage(err)}` : errorMessage(err));
  if (err instanceof Error && err.stack) console.error(err.stack);
  process.exitCode = 1;
});
