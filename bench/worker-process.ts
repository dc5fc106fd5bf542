/**
 * How every benchmark starts a worker process and talks to it: the orchestrator's handle on one
 * worker. It spawns the worker (with a raised file-descriptor limit when asked), sends commands
 * as JSON lines on its stdin, reads messages as JSON lines from its stdout, waits for them with
 * a deadline, and stops it (ask, then SIGTERM, then SIGKILL, always by its own pid). Every wait
 * ends: on the answer, on the deadline, or when the worker exits, so a stuck or crashed worker
 * never hangs the benchmark. The worker's end is worker-channel.ts (Node workers) or
 * bench/kubelet/main.go (the Go worker of the side-by-side benchmark).
 *
 * Every protocol spoken over it shares three conventions: a `{ type: 'error', message }`
 * message fails the wait it answers; `{ type: 'progress' }` messages are not queued, the last
 * one is kept; `{ op: 'stop' }` asks the worker to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How much of a worker's stderr is kept for the report (the Go client can log a line per failed dial). */
const STDERR_TAIL_BYTES = 16 * 1024;
/** How long runWorker gives a worker that has answered to exit by itself before it is ended. */
const STOP_GRACE_MS = 5_000;

/** The shape every message has; `error` is the one every protocol shares. */
export type MessageBase = { type: string };
/** The shape every command has; `stop` is the one every protocol shares. */
export type CommandBase = { op: string };
/** What a worker answers when it cannot do what it was asked. */
export type ErrorMessage = { type: 'error'; message: string };

/** A message from one line of worker output: any JSON object with a string `type`; undefined for anything else. */
export function parseJsonMessage<M extends MessageBase>(line: string): M | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as { type?: unknown } | null;
    return typeof value?.type === 'string' ? (value as M) : undefined;
  } catch {
    return undefined;
  }
}

export interface WorkerProcessOptions<M extends MessageBase> {
  /**
   * Runs the worker through /bin/sh with `ulimit -n fdLimit` first (as root this raises the
   * hard limit too; otherwise the soft limit is raised to the hard one), then `exec`, so the
   * pid is the worker's own. A Go program raises its soft limit itself; Node does not, and a
   * client with one connection per informer needs one descriptor per object. Default: the
   * worker inherits this process's limit and is spawned directly.
   */
  fdLimit?: number;
  /** Turns a stdout line into a message, undefined for stray output. Default parseJsonMessage. */
  parse?: (line: string) => M | undefined;
}

type Waiter<M> = { accept: (m: M) => boolean; resolve: (m: M) => void; reject: (e: Error) => void };

/** A wait ended because the worker exited; the message holds the end of its stderr. */
export class WorkerExitedError extends Error {
  constructor(label: string, code: number | null, signal: string | null, stderrTail: string) {
    super(`${label} exited (${signal ?? `code ${code}`})${stderrTail ? `; stderr ends with:\n${stderrTail}` : ''}`);
    this.name = 'WorkerExitedError';
  }
}

/** One worker process and the messages it sent that nobody has waited for yet. */
export class WorkerProcess<C extends CommandBase, M extends MessageBase> {
  /** The worker's own pid (sh execs it). */
  readonly pid: number;
  /** The last progress message, if any. */
  lastProgress: Extract<M, { type: 'progress' }> | undefined;
  private readonly child: ChildProcess;
  private readonly parse: (line: string) => M | undefined;
  private readonly queue: M[] = [];
  private readonly waiters = new Set<Waiter<M>>();
  private stderrTail = '';
  private stderrLineCount = 0;
  private exit: { code: number | null; signal: string | null } | undefined;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;

  /** Starts `command args`; `label` names the worker in every error. */
  constructor(
    readonly label: string,
    command: string,
    args: string[],
    opts: WorkerProcessOptions<M> = {},
  ) {
    this.parse = opts.parse ?? parseJsonMessage;
    const script = 'ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
    this.child =
      opts.fdLimit === undefined
        ? spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn('/bin/sh', ['-c', script, String(opts.fdLimit), command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`${label}: could not start ${command}`);
    this.pid = this.child.pid;
    this.child.stdin!.on('error', () => {}); // EPIPE after the worker died; the exit handler reports it
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.stderrLineCount += text.split('\n').length - 1;
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        const err = new WorkerExitedError(label, code, signal, this.stderrEnd());
        for (const w of this.waiters) w.reject(err);
        this.waiters.clear();
        resolve();
      }),
    );
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Lines the worker wrote to stderr so far. */
  get stderrLines(): number {
    return this.stderrLineCount;
  }

  /** The last few lines of stderr (bounded), for failure reports. */
  stderrEnd(lines = 12): string {
    return this.stderrTail.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Writes one command line; a no-op once the worker has exited. */
  send(cmd: C | { op: 'stop' }): void {
    if (!this.exit) this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /**
   * The next message of `type` (taken from those already received first). Rejects with the
   * worker's own message when it answers `error` instead, with WorkerExitedError when it exits,
   * and after `timeoutMs`.
   */
  next<K extends M['type']>(type: K, timeoutMs: number): Promise<Extract<M, { type: K }>> {
    const accept = (m: M) => m.type === type || m.type === 'error';
    const queued = this.queue.findIndex(accept);
    if (queued >= 0) return this.settle(this.queue.splice(queued, 1)[0], type);
    if (this.exit) return Promise.reject(new WorkerExitedError(this.label, this.exit.code, this.exit.signal, this.stderrEnd()));
    return new Promise<M>((resolve, reject) => {
      const waiter: Waiter<M> = {
        accept,
        resolve: (m) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(e);
        },
      };
      const timer = setTimeout(() => waiter.reject(new Error(`${this.label}: no ${type} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.waiters.add(waiter);
    }).then((m) => this.settle(m, type));
  }

  /**
   * Asks the worker to stop; SIGTERM after `graceMs`, SIGKILL `termMs` later. Resolves once it
   * has exited, whatever it was doing.
   */
  async stop(graceMs: number, termMs = 5_000): Promise<void> {
    if (this.exit) return;
    this.send({ op: 'stop' });
    if (await this.exitsWithin(graceMs)) return;
    this.child.kill('SIGTERM');
    if (await this.exitsWithin(termMs)) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ends the worker at once (a variant past its time limit). */
  async kill(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  private settle<K extends M['type']>(m: M, type: K): Promise<Extract<M, { type: K }>> {
    if (m.type === 'error' && type !== 'error') return Promise.reject(new Error(`${this.label}: ${(m as unknown as ErrorMessage).message}`));
    return Promise.resolve(m as Extract<M, { type: K }>);
  }

  private onLine(line: string): void {
    const m = this.parse(line);
    if (!m) return;
    if (m.type === 'progress') {
      this.lastProgress = m as Extract<M, { type: 'progress' }>;
      return;
    }
    for (const w of this.waiters) {
      if (w.accept(m)) return w.resolve(m);
    }
    this.queue.push(m);
  }
}

/** How a benchmark file starts itself as a worker (see runBenchmark in worker-channel.ts). */
export interface StartWorkerOptions<M extends MessageBase> extends WorkerProcessOptions<M> {
  /** Names the worker in errors. Default `worker`. */
  label?: string;
  /** Node flags before the script, e.g. `--expose-gc`. */
  nodeFlags?: string[];
}

/**
 * Starts the benchmark file at `moduleUrl` (its `import.meta.url`) as a worker: `node
 * [nodeFlags] <file> --worker ...args`, which runBenchmark routes to the file's worker function.
 */
export function startWorker<C extends CommandBase, M extends MessageBase>(moduleUrl: string, args: string[], opts: StartWorkerOptions<M> = {}): WorkerProcess<C, M> {
  const { label = 'worker', nodeFlags = [], ...rest } = opts;
  return new WorkerProcess<C, M>(label, process.execPath, [...nodeFlags, fileURLToPath(moduleUrl), '--worker', ...args], rest);
}

/** What runBenchmark sends when the worker function returns. */
export type ResultMessage<R> = { type: 'result'; result: R };

/**
 * Starts the benchmark file at `moduleUrl` as a worker, waits up to `timeoutMs` for its result
 * (what its worker function returned) and stops it. Rejects with the worker's error, when it
 * exits first, or after `timeoutMs`.
 */
export async function runWorker<R>(moduleUrl: string, args: string[], timeoutMs: number, opts: StartWorkerOptions<ResultMessage<R> | ErrorMessage> = {}): Promise<R> {
  const worker = startWorker<CommandBase, ResultMessage<R> | ErrorMessage>(moduleUrl, args, opts);
  try {
    return (await worker.next('result', timeoutMs)).result;
  } finally {
    await worker.stop(STOP_GRACE_MS);
  }
}
