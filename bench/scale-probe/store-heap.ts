/**
 * Per-watch memory of the watch store: V8 heap and RSS per watched object, as the slope between
 * two sizes, against the embedded API server in a child process (so only the client's memory
 * is measured). It is the measurement behind issue 9's per-watch targets, small enough to run
 * while changing the reflector: `node --expose-gc dist/bench/scale-probe/store-heap.js 2000 10000`.
 * `HEAP_SNAPSHOT_DIR=/tmp/x` also writes a heap snapshot at each size, for
 * ../shared/tools/heap-diff.cjs. `WATCH_LIST=0` syncs with list+watch instead of WatchList.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';

const NS = 'heap';
const name = (i: number) => `s-${i}`;

/** The child: an embedded server with `count` secrets; prints its kubeconfig, stops when stdin closes. */
async function serve(count: number): Promise<void> {
  const server = await ApiServer.start({ maxConcurrentStreams: 1000 });
  for (let i = 0; i < count; i++) server.storage.create(resources.secrets, { metadata: { namespace: NS, name: name(i) }, data: { v: 'dg==' } } as KubeObject);
  process.stdout.write(`${JSON.stringify(server.kubeconfig())}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.stop().then(() => process.exit(0)));
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) collect();
}

async function measure(sizes: number[]): Promise<void> {
  const max = Math.max(...sizes);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', String(max)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const kc = new KubeConfig();
  kc.loadFromString(first);
  const client = new KubeClient(kc);
  const store = new WatchObjectStore<KubeObject>({
    source: client.source(resources.secrets),
    recycleInterval: 0,
    syncTimeout: 10 * 60_000,
    watchList: process.env.WATCH_LIST !== '0',
  });
  const rows: Array<{ watches: number; heapBytes: number; rssBytes: number; syncMs: number }> = [];
  let registered = 0;
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const started = Date.now();
    for (; registered < size; registered++) store.addReference(NS, name(registered), 'pod');
    for (let i = 0; i < size; i += 500) await Promise.all(Array.from({ length: Math.min(500, size - i) }, (_, j) => store.get(NS, name(i + j))));
    const syncMs = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 500));
    gc();
    const mem = process.memoryUsage();
    rows.push({ watches: size, heapBytes: mem.heapUsed, rssBytes: mem.rss, syncMs });
    if (process.env.HEAP_SNAPSHOT_DIR) writeHeapSnapshot(path.join(process.env.HEAP_SNAPSHOT_DIR, `watches-${size}.heapsnapshot`));
  }
  for (const row of rows)
    console.log(`${row.watches} watches: heap ${(row.heapBytes / 2 ** 20).toFixed(1)} MiB, rss ${(row.rssBytes / 2 ** 20).toFixed(1)} MiB, synced in ${row.syncMs} ms`);
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    const n = b.watches - a.watches;
    console.log(
      `slope ${a.watches}→${b.watches}: heap ${((b.heapBytes - a.heapBytes) / n / 1024).toFixed(2)} KiB/watch, rss ${((b.rssBytes - a.rssBytes) / n / 1024).toFixed(2)} KiB/watch`,
    );
  }
  await store.close();
  await client.close();
  child.stdin!.end();
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]));
else
  await measure(
    process.argv
      .slice(2)
      .map(Number)
      .filter((n) => n > 0).length
      ? process.argv.slice(2).map(Number)
      : [2000, 10000],
  );
