/**
 * Scale benchmark against a real kube-apiserver: N secrets watched at once, one per pod, the
 * way a kubelet with N pods watches them. refwatch (one field-selector reflector per object
 * over a shared HTTP/2 pool) next to client-node's own answer (one ListWatch informer with a
 * field selector per object). Each variant runs in a fresh process, alternating, ROUNDS times;
 * medians are reported.
 *
 *   npm run bench            (builds kube-apiserver and etcd with Go first, if needed)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1Secret } from '@kubernetes/client-node';
import { KubeClient, ObjectWriter } from '../lib/api/kube-client.js';
import { resources } from '../lib/api/resource.js';
import { SecretManager } from '../lib/manager/kind-managers.js';
import { RealCluster } from '../e2e/harness/cluster.js';
import { establishedTo, median, report, round, runBenchmark } from './report.js';

const COUNT = Number(process.env.BENCH_SCALE_COUNT ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NS = 'bench';
const VARIANTS = ['refwatch', 'client-node informers'] as const;
type Variant = (typeof VARIANTS)[number];

interface Sample {
  variant: Variant;
  readyMs: number;
  connections: number;
  heapBytesPerObject: number;
  rssMiB: number;
}

const names = Array.from({ length: COUNT }, (_, i) => `secret-${i}`);

async function worker(variant: Variant, kubeconfigPath: string, port: number): Promise<Sample> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const gc = globalThis.gc!;
  // kube-apiserver talks to itself over loopback; those connections are not ours.
  const baselineConnections = establishedTo(port);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let stop: () => Promise<void>;
  if (variant === 'refwatch') {
    const client = new KubeClient(kc);
    const manager = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
    names.forEach((name, i) => manager.registerPod({ metadata: { namespace: NS, name: `pod-${i}`, uid: `uid-${i}` }, spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name } }] }] } }));
    // Like a kubelet, retry a get that timed out waiting for the first sync.
    let pending = names;
    while (pending.length > 0) {
      const results = await Promise.all(pending.map((n) => manager.getSecret(NS, n).then(() => undefined, () => n)));
      pending = results.filter((n): n is string => n !== undefined);
    }
    stop = async () => {
      await manager.close();
      await client.close();
    };
  } else {
    const core = kc.makeApiClient(CoreV1Api);
    const watch = new Watch(kc);
    let ready = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const informers = names.map((name) => {
      const informer = new ListWatch<V1Secret>(
        `/api/v1/namespaces/${NS}/secrets`,
        watch,
        () => core.listNamespacedSecret({ namespace: NS, fieldSelector: `metadata.name=${name}` }),
        false,
        undefined,
        `metadata.name=${name}`,
      );
      let seen = false;
      informer.on('add', () => {
        if (!seen && (seen = true) && ++ready === COUNT) resolveAll();
      });
      informer.on('error', () => {});
      void informer.start().catch(() => {});
      return informer;
    });
    await all;
    stop = async () => {
      await Promise.all(informers.map((i) => i.stop().catch(() => {})));
    };
  }
  const readyMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 500)); // let connections settle before counting
  const connections = establishedTo(port) - baselineConnections;
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  await stop();
  return { variant, readyMs, connections, heapBytesPerObject: (heapAfter - heapBefore) / COUNT, rssMiB };
}

async function main(): Promise<void> {
  const binDir = process.env.REFWATCH_KUBE_BIN ?? buildBinaries();
  const cluster = await RealCluster.start(binDir);
  const samples: Sample[] = [];
  try {
    const admin = new KubeClient(cluster.admin.kubeconfig);
    await new ObjectWriter(admin, resources.namespaces).create('', { metadata: { name: NS } });
    const secrets = new ObjectWriter<V1Secret>(admin, resources.secrets);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => secrets.create(NS, { metadata: { name }, data: { key: Buffer.from(name).toString('base64') } })));
    }
    await admin.close();
    const port = Number(new URL(cluster.url).port);
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--worker', variant, cluster.admin.kubeconfigPath, String(port)], {
          encoding: 'utf8',
          maxBuffer: 64 * 2 ** 20,
        });
        const line = child.stdout.trim().split('\n').pop() ?? '';
        if (child.status !== 0 || !line.startsWith('{')) throw new Error(`${variant} worker failed (${child.status}): ${child.stderr.slice(-2000)}`);
        samples.push(JSON.parse(line) as Sample);
        console.error(`round ${round + 1}/${ROUNDS} ${variant}: ${line}`);
      }
    }
  } finally {
    await cluster.stop();
  }
  const rows = VARIANTS.map((variant) => {
    const mine = samples.filter((s) => s.variant === variant);
    return {
      variant,
      [`time until all ${COUNT} readable (ms)`]: round(median(mine.map((s) => s.readyMs)), 0),
      'TCP connections': median(mine.map((s) => s.connections)),
      'heap per watched object (KiB)': round(median(mine.map((s) => s.heapBytesPerObject)) / 1024, 2),
      'RSS (MiB)': round(median(mine.map((s) => s.rssMiB)), 0),
    };
  });
  report('scale', `${COUNT} watched secrets on a real kube-apiserver, medians of ${ROUNDS} alternating rounds`, rows, samples);
}

function buildBinaries(): string {
  const out = execFileSync('scripts/kube/build.sh', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

runBenchmark((args) => worker(args[0] as Variant, args[1], Number(args[2])), main);
