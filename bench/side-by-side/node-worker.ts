/**
 * The Node side of the worker protocol (protocol.ts): a worker entry point describes its
 * variant (how to register and read every object, how to read one, how to close) and
 * `runNodeWorker` does the rest exactly as the Go worker does it: the hello with baseline
 * memory, progress every second, memory after collections, polling an expected value every
 * millisecond, and stopping. Protocol messages are the only thing on stdout; anything a
 * library prints goes to stderr.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../../lib/util/logger.js';
import { WorkerChannel } from '../worker-channel.js';
import { secretName } from './workload.js';
import { monotonicMs, parseCommand, POLL_INTERVAL_MS, type Command, type MemoryReport, type Progress, type WorkerMessage } from './protocol.js';

/** A worker's command line. */
export interface WorkerConfig {
  kubeconfig: string;
  namespace: string;
  count: number;
  /** secret-0 … secret-(count−1). */
  names: string[];
}

/** What a Node worker entry point supplies: its variant's way of syncing, reading and closing. */
export interface NodeVariant {
  /**
   * Makes every object readable, the way the variant's user would, and resolves once each has
   * been read once; counts into `progress` as it goes.
   */
  syncAll(progress: Progress): Promise<void>;
  /** The DATA_KEY value (decoded) the variant's cache serves for a name now; undefined if none. */
  read(name: string): Promise<string | undefined> | string | undefined;
  close(): Promise<void>;
}

/** A failed get that returned faster than this is retried after it, so a retry loop cannot starve the event loop. */
export const RETRY_FLOOR_MS = 10;

/** How long `close()` may take before the worker exits anyway. */
const CLOSE_LIMIT_MS = 15_000;

/**
 * Reads one object until a read succeeds, as a kubelet's pod worker retries a pod whose
 * secret get timed out. Every failure is counted in `progress`.
 */
export async function readUntilReadable(read: () => Promise<unknown>, progress: Progress): Promise<void> {
  for (;;) {
    const started = performance.now();
    try {
      await read();
      progress.readable++;
      return;
    } catch (err) {
      progress.failedGets++;
      progress.lastError = errorMessage(err);
      if (performance.now() - started < RETRY_FLOOR_MS) await new Promise((r) => setTimeout(r, RETRY_FLOOR_MS));
    }
  }
}

/** Set once the worker starts: the process's stdin and stdout, which the protocol owns. */
let channel: WorkerChannel<Command, WorkerMessage>;

function send(message: WorkerMessage): void {
  channel.send(message);
}

async function memory(): Promise<MemoryReport> {
  const gc = globalThis.gc!;
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

async function expect(variant: NodeVariant, cmd: Extract<Command, { op: 'expect' }>): Promise<void> {
  const seen = async () => {
    try {
      return (await variant.read(cmd.name)) === cmd.value;
    } catch {
      return false;
    }
  };
  if (await seen()) return send({ type: 'error', message: 'expected value already visible before the write' });
  send({ type: 'armed', name: cmd.name });
  const deadline = performance.now() + cmd.timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    if (await seen()) return send({ type: 'visible', name: cmd.name, atMs: monotonicMs() });
    if (performance.now() > deadline) return send({ type: 'visible', name: cmd.name, atMs: null });
  }
}

/** Runs a worker process: argv holds --kubeconfig, --namespace and --count. */
export function runNodeWorker(create: (config: WorkerConfig) => NodeVariant): void {
  // Libraries may print; the channel sends console output to stderr.
  channel = WorkerChannel.ofProcess(parseCommand);
  main(create).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

async function main(create: (config: WorkerConfig) => NodeVariant): Promise<void> {
  if (typeof globalThis.gc !== 'function') throw new Error('run workers with --expose-gc');
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, namespace: { type: 'string' }, count: { type: 'string' } } });
  const count = Number(values.count);
  if (!values.kubeconfig || !values.namespace || !(count > 0)) throw new Error('usage: --kubeconfig FILE --namespace NS --count N');
  const config: WorkerConfig = { kubeconfig: values.kubeconfig, namespace: values.namespace, count, names: Array.from({ length: count }, (_, i) => secretName(i)) };

  send({ type: 'hello', pid: process.pid, runtime: `node ${process.version}`, memory: await memory() });
  const variant = create(config);
  let started = false;
  // A bad line is answered with an error by the channel; its end (the orchestrator is gone) exits.
  for (;;) {
    const cmd = await channel.receive();
    switch (cmd.op) {
      case 'start':
        if (started) break;
        started = true;
        void syncAll(variant);
        break;
      case 'memory':
        send({ type: 'memory', ...(await memory()) });
        break;
      case 'expect':
        void expect(variant, cmd);
        break;
      case 'stop': {
        const limit = new Promise((r) => setTimeout(r, CLOSE_LIMIT_MS).unref());
        await Promise.race([variant.close().catch((err) => console.error('close failed:', err)), limit]);
        send({ type: 'stopped' });
        process.exit(0);
      }
    }
  }
}

async function syncAll(variant: NodeVariant): Promise<void> {
  const progress: Progress = { readable: 0, failedGets: 0 };
  const started = monotonicMs();
  const ticker = setInterval(() => send({ type: 'progress', elapsedMs: monotonicMs() - started, ...progress }), 1_000);
  try {
    await variant.syncAll(progress);
    send({ type: 'ready', readyMs: monotonicMs() - started, ...progress });
  } catch (err) {
    send({ type: 'error', message: `sync failed: ${errorMessage(err)}` });
  } finally {
    clearInterval(ticker);
  }
}
