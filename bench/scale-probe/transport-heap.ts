/**
 * Probe: what one more open watch costs the client, in V8 heap and RSS, as a slope between two
 * sizes. The embedded ApiServer runs in a child process, so its own heap is not counted; this
 * process opens watches through KubeClient (one per object, by fieldSelector, as the reflector
 * does), waits until all are answered, collects garbage and measures, then opens more.
 *
 *     npm run build && node --expose-gc dist/bench/scale-probe/transport-heap.js 2000,10000 [snapshot-dir]
 *
 * PROBE_MODE=callbacks opens them with `watchEvents` (handlers, no pending promise per watch)
 * instead of the async iterator.
 *
 * With a snapshot directory it writes a heap snapshot per size, for
 * `node ../shared/tools/heap-diff.cjs a.heapsnapshot b.heapsnapshot <difference> 25`.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { KubeClient } from '../../lib/api/kube-client.js';
import { resources } from '../../lib/api/resource.js';
import type { WatchEvent } from '../../lib/api/source.js';

const NAMESPACE = 'probe';
/** Longer than the probe runs: no bookmark traffic while measuring. */
const BOOKMARK_INTERVAL_MS = 3_600_000;

async function server(): Promise<void> {
  const { ApiServer } = await import('../../lib/testing/api-server/server.js');
  const api = await ApiServer.start({ bookmarkInterval: BOOKMARK_INTERVAL_MS });
  const path = join(mkdtempSync(join(tmpdir(), 'scale-probe-')), 'kubeconfig');
  await api.writeKubeconfig(path, { namespace: NAMESPACE });
  process.send!({ kubeconfig: path });
  process.on('disconnect', () => void api.stop().then(() => process.exit(0)));
}

async function gc(): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '2000,10000').split(',').map(Number);
  const snapshots = process.argv[3];
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { kubeconfig } = await new Promise<{ kubeconfig: string }>((r) => child.once('message', (m) => r(m as { kubeconfig: string })));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  const source = client.source<unknown>(resources.secrets);
  const { metadata } = await source.list(NAMESPACE);
  const callbacks = process.env.PROBE_MODE === 'callbacks';
  const handler = {
    onEvent: () => {},
    onEnd: (err?: unknown) => err && console.error(`watch failed: ${(err as Error).message}`),
  };
  const held: Array<{ stop(): Promise<unknown> | void }> = [];
  const points: Array<{ watches: number; heap: number; heapTotal: number; external: number; rss: number; connections: number }> = [];
  const started = Date.now();
  for (const size of sizes) {
    while (held.length < size) {
      const i = held.length;
      const opts = { fieldSelector: `metadata.name=secret-${i}`, resourceVersion: metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 3000 };
      if (callbacks) {
        held.push(source.watchEvents!(NAMESPACE, opts, handler));
        continue;
      }
      const it: AsyncIterator<WatchEvent<unknown>> = source.watch(NAMESPACE, opts)[Symbol.asyncIterator]();
      it.next().catch((err: Error) => console.error(`watch ${i} failed: ${err.message}`));
      held.push({ stop: () => it.return?.() });
    }
    while (client.stats().activeStreams < size) await new Promise((r) => setTimeout(r, 20));
    await gc();
    const mem = process.memoryUsage();
    points.push({ watches: size, heap: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, rss: mem.rss, connections: client.stats().connections });
    if (snapshots) writeHeapSnapshot(join(snapshots, `watches-${size}.heapsnapshot`));
  }
  const [a, b] = [points[0], points[points.length - 1]];
  const per = (k: 'heap' | 'heapTotal' | 'external' | 'rss') => Math.round((b[k] - a[k]) / (b.watches - a.watches));
  console.log(
    JSON.stringify({
      mode: callbacks ? 'callbacks' : 'iterator',
      points,
      heapPerWatch: per('heap'),
      heapTotalPerWatch: per('heapTotal'),
      externalPerWatch: per('external'),
      rssPerWatch: per('rss'),
      seconds: (Date.now() - started) / 1000,
      node: process.version,
    }),
  );
  for (const watch of held) await watch.stop();
  await client.close();
  child.disconnect();
}

if (process.argv.includes('--server')) void server();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
