/**
 * The line protocol between the side-by-side orchestrator and its workers: one JSON object
 * per line, commands on the worker's stdin, messages on its stdout. The Node workers
 * (node-worker.ts) and the Go worker (bench/kubelet/main.go) speak it alike, so every variant
 * is started, read and stopped by the same orchestrator code.
 *
 * Time stamps are CLOCK_MONOTONIC milliseconds (`monotonicMs`), which every process on the
 * machine shares: the orchestrator subtracts the moment it sent a write from the moment the
 * worker saw its value, with no message round trip in between.
 */

/**
 * How often a worker re-reads an expected secret from its cache. A Node timer cannot fire
 * more often than every millisecond without spinning the event loop (and a core of this
 * 2-core machine), and every variant must be read alike, so all poll at 1 ms: a propagation
 * delay is measured up to ~1 ms late, the same for each.
 */
export const POLL_INTERVAL_MS = 1;

/** What the orchestrator asks of a worker (see the Go worker's header for the sequence). */
export type Command = { op: 'start' } | { op: 'memory' } | { op: 'expect'; name: string; value: string; timeoutMs: number } | { op: 'stop' };

/** Memory as the worker's runtime reports it; Node and Go fill different fields. */
export interface MemoryReport {
  /** Node: V8 heap used after gc(). */
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  arrayBuffers?: number;
  rss?: number;
  /** Go: runtime.MemStats.HeapInuse after runtime.GC(). */
  heapInuse?: number;
  heapAlloc?: number;
  /** Go: goroutine stacks (MemStats.StackInuse), reported apart from the heap. */
  stackInuse?: number;
  sys?: number;
  goroutines?: number;
}

/** How far a worker's sync has got. */
export interface Progress {
  /** Objects a get has answered at least once. */
  readable: number;
  /** Gets that failed and were retried (sync timeouts, mostly). */
  failedGets: number;
  /** The last failure's message (names, never data). */
  lastError?: string;
}

/** What a worker reports: one per command, plus progress every second while syncing. */
export type WorkerMessage =
  | { type: 'hello'; pid: number; runtime: string; memory: MemoryReport; k8s?: string }
  | ({ type: 'progress'; elapsedMs: number; goroutines?: number } & Progress)
  | ({ type: 'ready'; readyMs: number } & Progress)
  | ({ type: 'memory' } & MemoryReport)
  | { type: 'armed'; name: string }
  /** atMs null: the value was not seen before the expect's timeout. */
  | { type: 'visible'; name: string; atMs: number | null }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const TYPES = new Set(['hello', 'progress', 'ready', 'memory', 'armed', 'visible', 'stopped', 'error']);

/** A message from one line of worker output; undefined for anything else (stray output). */
export function parseMessage(line: string): WorkerMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && TYPES.has(type) ? (value as WorkerMessage) : undefined;
}

/** A command from one line of worker input; undefined when the line is not one. */
export function parseCommand(line: string): Command | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const cmd = value as Partial<Command> | null;
  switch (cmd?.op) {
    case 'start':
    case 'memory':
    case 'stop':
      return { op: cmd.op };
    case 'expect': {
      const { name, value: expected, timeoutMs } = cmd as Partial<Extract<Command, { op: 'expect' }>>;
      if (typeof name !== 'string' || typeof expected !== 'string' || typeof timeoutMs !== 'number') return undefined;
      return { op: 'expect', name, value: expected, timeoutMs };
    }
    default:
      return undefined;
  }
}

/** CLOCK_MONOTONIC in ms (libuv's hrtime reads it on Linux; the Go worker reads it directly). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
