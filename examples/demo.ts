/**
 * The demo: pods that reference secrets, served by the secret manager in Watch mode next to
 * Cache (TTL) mode, while some secrets change. It prints what each strategy costs in API
 * requests and how fast a change reaches a reader. It runs on the in-memory source and ends by
 * itself after a few seconds.
 *
 *   npm run demo
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { SecretManager, resources, type ChangeDetectionStrategy } from '../lib/index.js';
import { MemorySource, ObjectStorage } from '../lib/testing/index.js';

const PODS = 20;
const SECRETS = 10;
const DURATION_MS = Number(process.env.DEMO_DURATION_MS ?? 4_000);
const UPDATE_EVERY_MS = 250;
const READ_EVERY_MS = 100;

const NS = 'demo';

function pod(i: number): V1Pod {
  const names = [`secret-${i % SECRETS}`, `secret-${(i + 3) % SECRETS}`];
  return {
    metadata: { namespace: NS, name: `pod-${i}`, uid: `uid-${i}` },
    spec: {
      containers: [{ name: 'app', image: 'app', envFrom: [{ secretRef: { name: names[0] } }] }],
      volumes: [{ name: 'creds', secret: { secretName: names[1] } }],
    },
  };
}

interface Lane {
  strategy: ChangeDetectionStrategy;
  source: MemorySource<V1Secret>;
  manager: SecretManager;
  latencies: number[];
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const storage = new ObjectStorage();
  const writer = new MemorySource<V1Secret>(resources.secrets, storage);
  for (let s = 0; s < SECRETS; s++) writer.create({ metadata: { namespace: NS, name: `secret-${s}` }, data: { version: Buffer.from('0').toString('base64') } });

  const lanes: Lane[] = (['Watch', 'Cache'] as const).map((strategy) => {
    const source = new MemorySource<V1Secret>(resources.secrets, storage);
    // Cache mode with a 1 s TTL, so the demo shows its staleness within seconds.
    return { strategy, source, manager: new SecretManager({ source, strategy, ttl: 1_000 }), latencies: [] };
  });
  for (const lane of lanes) for (let i = 0; i < PODS; i++) lane.manager.registerPod(pod(i));

  // Writes: bump one secret's version every UPDATE_EVERY_MS and remember when.
  const writtenAt = new Map<string, number>();
  let version = 0;
  const writes = setInterval(() => {
    const name = `secret-${version % SECRETS}`;
    version++;
    writer.put({ metadata: { namespace: NS, name }, data: { version: Buffer.from(String(version)).toString('base64') } });
    writtenAt.set(`${name}@${version}`, Date.now());
  }, UPDATE_EVERY_MS);

  // Reads: each lane reads every secret every READ_EVERY_MS and records when it first saw each version.
  const seen = lanes.map(() => new Set<string>());
  const reads = setInterval(() => {
    lanes.forEach((lane, li) => {
      for (let s = 0; s < SECRETS; s++) {
        const name = `secret-${s}`;
        lane.manager.getSecret(NS, name).then(
          (secret) => {
            const v = Buffer.from(secret.data?.version ?? '', 'base64').toString();
            const key = `${name}@${v}`;
            const at = writtenAt.get(key);
            if (at !== undefined && !seen[li].has(key)) {
              seen[li].add(key);
              lane.latencies.push(Date.now() - at);
            }
          },
          () => {},
        );
      }
    });
  }, READ_EVERY_MS);

  await new Promise((r) => setTimeout(r, DURATION_MS));
  clearInterval(writes);
  clearInterval(reads);

  const rows = lanes.map((lane) => ({
    strategy: lane.strategy,
    pods: PODS,
    objects: SECRETS,
    gets: lane.source.count('get'),
    lists: lane.source.count('list'),
    watches: lane.source.count('watch'),
    'open watches': lane.source.openWatchCount,
    'updates seen': `${lane.latencies.length}/${version}`,
    'p50 ms': percentile(lane.latencies, 50),
    'p99 ms': percentile(lane.latencies, 99),
  }));
  console.log(`\n${PODS} pods referencing ${SECRETS} secrets; one secret updated every ${UPDATE_EVERY_MS} ms, every secret read every ${READ_EVERY_MS} ms, for ${DURATION_MS / 1000} s:\n`);
  console.table(rows);
  for (const lane of lanes) await lane.manager.close();
  console.log('\nAll managers closed; open watches now:', lanes.map((l) => `${l.strategy}=${l.source.openWatchCount}`).join(', '));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
