/**
 * The demo: pods that reference secrets and configmaps, kept by the kubelet's two caching
 * strategies side by side, Watch (a watch per object) and Cache (a TTL cache), while a writer
 * keeps changing secrets. A live table shows what each strategy holds and costs: objects,
 * references, live reflectors, connections, API requests by verb, and how long an update takes
 * to reach a reader (p50/p99).
 *
 *   npm run demo                       # an embedded API server on loopback (real HTTP/2 + TLS)
 *   KUBECONFIG=~/.kube/config npm run demo   # a real cluster: works in a temporary namespace
 *
 * It ends by itself (DEMO_DURATION_MS, default 20 s) and removes what it created.
 */
import { randomBytes } from 'node:crypto';
import { KubeConfig, type V1ConfigMap, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import {
  ConfigMapManager,
  KubeClient,
  ObjectWriter,
  SecretManager,
  errorMessage,
  resources,
  type ChangeDetectionStrategy,
} from '../lib/index.js';
import { ApiServer } from '../lib/testing/index.js';
import { percentile } from '../lib/util/percentile.js';

const DURATION_MS = Number(process.env.DEMO_DURATION_MS ?? 20_000);
const PODS = 30;
const SECRETS = 15;
const CONFIGMAPS = 5;
/** The Cache lane's TTL. The kubelet's default is 1 minute; 5 s shows the staleness within the demo. */
const CACHE_TTL_MS = 5_000;
const WRITE_EVERY_MS = 300;
/** Readers read every object this often, as the kubelet's volume manager re-reads on each sync. */
const READ_EVERY_MS = 100;
const REDRAW_EVERY_MS = 500;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();

interface Lane {
  strategy: ChangeDetectionStrategy;
  client: KubeClient;
  secrets: SecretManager;
  configMaps: ConfigMapManager;
  latencies: number[];
  seen: Set<string>;
}

function pod(ns: string, i: number): V1Pod {
  return {
    metadata: { namespace: ns, name: `web-${i}`, uid: `uid-web-${i}` },
    spec: {
      containers: [
        {
          name: 'app',
          envFrom: [{ secretRef: { name: `secret-${i % SECRETS}` } }, { configMapRef: { name: `config-${i % CONFIGMAPS}` } }],
        },
      ],
      volumes: [{ name: 'tls', secret: { secretName: `secret-${(i + 7) % SECRETS}` } }],
    },
  };
}

/** A latency percentile for the table, rounded to whole ms; "-" before any update was seen. */
function latencyCell(values: number[], p: number): number | string {
  return values.length === 0 ? '-' : Math.round(percentile(values, p));
}

async function connect(): Promise<{ kc: KubeConfig; where: string; server?: ApiServer; namespace: string }> {
  const namespace = `refwatch-demo-${randomBytes(3).toString('hex')}`;
  if (process.env.KUBECONFIG) {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return { kc, where: `cluster ${kc.getCurrentCluster()?.server} (namespace ${namespace})`, namespace };
  }
  const server = await ApiServer.start();
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  return { kc, where: `embedded API server ${server.url} (HTTP/2 over TLS)`, server, namespace };
}

async function main(): Promise<void> {
  const { kc, where, server, namespace: ns } = await connect();
  const admin = new KubeClient(kc);
  const lanes: Lane[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await new ObjectWriter(admin, resources.namespaces).create('', { metadata: { name: ns } });
    const secretWriter = new ObjectWriter<V1Secret>(admin, resources.secrets);
    const configMapWriter = new ObjectWriter<V1ConfigMap>(admin, resources.configMaps);
    for (let s = 0; s < SECRETS; s++) await secretWriter.create(ns, { metadata: { name: `secret-${s}` }, data: { version: b64('0') } });
    for (let c = 0; c < CONFIGMAPS; c++) await configMapWriter.create(ns, { metadata: { name: `config-${c}` }, data: { mode: 'blue' } });

    for (const strategy of ['Watch', 'Cache'] as const) {
      const client = new KubeClient(kc);
      const opts = { strategy, ttl: CACHE_TTL_MS };
      lanes.push({
        strategy,
        client,
        secrets: new SecretManager({ ...opts, source: client.source(resources.secrets) }),
        configMaps: new ConfigMapManager({ ...opts, source: client.source(resources.configMaps) }),
        latencies: [],
        seen: new Set(),
      });
    }
    for (const lane of lanes) {
      for (let i = 0; i < PODS; i++) {
        lane.secrets.registerPod(pod(ns, i));
        lane.configMaps.registerPod(pod(ns, i));
      }
    }

    // The writer: one secret gets a new version every WRITE_EVERY_MS.
    const writtenAt = new Map<string, number>();
    let writes = 0;
    timers.push(
      setInterval(() => {
        const name = `secret-${writes % SECRETS}`;
        const version = String(++writes);
        writtenAt.set(`${name}@${version}`, Date.now());
        secretWriter.patch(ns, name, { data: { version: b64(version) } }).catch((err) => console.error(`write failed: ${errorMessage(err)}`));
      }, WRITE_EVERY_MS),
    );

    // The readers: every secret and configmap, every READ_EVERY_MS, in each lane.
    timers.push(
      setInterval(() => {
        for (const lane of lanes) {
          for (let s = 0; s < SECRETS; s++) {
            const name = `secret-${s}`;
            lane.secrets.getSecret(ns, name).then(
              (secret) => {
                const key = `${name}@${unb64(secret.data?.version)}`;
                const at = writtenAt.get(key);
                if (at !== undefined && !lane.seen.has(key)) {
                  lane.seen.add(key);
                  lane.latencies.push(Date.now() - at);
                }
              },
              () => {},
            );
          }
          for (let c = 0; c < CONFIGMAPS; c++) lane.configMaps.getConfigMap(ns, `config-${c}`).catch(() => {});
        }
      }, READ_EVERY_MS),
    );

    const started = Date.now();
    const draw = (final: boolean) => {
      const rows = lanes.map((lane) => {
        const stores = [lane.secrets.manager, lane.configMaps.manager];
        const held = stores.map((m) => m.watchStore?.stats() ?? m.ttlStore!.stats());
        const stats = lane.client.stats();
        return {
          strategy: lane.strategy === 'Cache' ? `Cache (TTL ${CACHE_TTL_MS / 1000} s)` : 'Watch',
          objects: held.reduce((n, h) => n + h.objects, 0),
          references: held.reduce((n, h) => n + h.references, 0),
          'live reflectors': stores.reduce((n, m) => n + (m.watchStore?.stats().runningReflectors ?? 0), 0),
          connections: stats.connections,
          GET: stats.requests.get,
          LIST: stats.requests.list,
          WATCH: stats.requests.watch,
          'updates seen': `${lane.latencies.length}/${writes}`,
          'p50 ms': latencyCell(lane.latencies, 50),
          'p99 ms': latencyCell(lane.latencies, 99),
        };
      });
      const live = process.stdout.isTTY && !final;
      if (live) process.stdout.write('\x1b[2J\x1b[H');
      console.log(`refwatch demo on ${where}`);
      console.log(
        `${PODS} pods → ${SECRETS} secrets + ${CONFIGMAPS} configmaps; one secret updated every ${WRITE_EVERY_MS} ms; ` +
          `readers read every object every ${READ_EVERY_MS} ms; ${Math.round((Date.now() - started) / 1000)} s of ${DURATION_MS / 1000} s`,
      );
      console.table(rows);
      console.log('latency = from a write to the first read that returns it');
    };
    if (process.stdout.isTTY) timers.push(setInterval(() => draw(false), REDRAW_EVERY_MS));
    await new Promise((r) => setTimeout(r, DURATION_MS));
    for (const t of timers.splice(0)) clearInterval(t);
    draw(true);
  } finally {
    for (const t of timers) clearInterval(t);
    for (const lane of lanes) {
      await lane.secrets.close();
      await lane.configMaps.close();
      await lane.client.close();
    }
    await new ObjectWriter(admin, resources.namespaces).delete('', ns).catch(() => {});
    await admin.close();
    const left = lanes.reduce((n, l) => n + l.client.stats().connections, 0);
    if (server) {
      await server.stop();
      console.log(`\ncleaned up: managers and clients closed (${left} connections left), embedded server stopped`);
    } else {
      console.log(`\ncleaned up: managers and clients closed (${left} connections left), namespace ${ns} deleted`);
    }
  }
}

main().catch((err) => {
  console.error(`demo failed: ${errorMessage(err)}`);
  process.exitCode = 1;
});
