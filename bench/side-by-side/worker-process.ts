/**
 * The orchestrator's handle on one worker process: spawn it with a raised file-descriptor
 * limit, send commands, wait for its answers with a deadline, and stop it (ask, then SIGTERM,
 * then SIGKILL, always by its own pid). Every wait ends: on the answer, on the deadline, or when
 * the worker exits, so a stuck or crashed variant never hangs the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseMessage, type Command, type WorkerMessage } from './protocol.js';

/** How much of a worker's stderr is kept for the report (the Go client can log a line per failed dial). */
const STDERR_TAIL_BYTES = 16 * 1024;

type Waiter = { accept: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void; reject: (e: Error) => void };

/** A wait ended because the worker exited; the message holds the end of its stderr. */
export class WorkerExitedError extends Error {
  constructor(label: string, code: number | null, signal: string | null, stderrTail: string) {
    super(`${label} exited (${signal ?? `code ${code}`})${stderrTail ? `; stderr ends with:\n${stderrTail}` : ''}`);
    this.name = 'WorkerExitedError';
  }
}

/** One worker process and the messages it sent that nobody has waited for yet. */
export class WorkerProcess {
  /** The worker's own pid (sh execs it). */
  readonly pid: number;
  /** The last progress message, if any. */
  lastProgress: Extract<WorkerMessage, { type: 'progress' }> | undefined;
  private readonly child: ChildProcess;
  private readonly queue: WorkerMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private stderrTail = '';
  private stderrLineCount = 0;
  private exit: { code: number | null; signal: string | null } | undefined;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;

  /**
   * Starts `command args` through /bin/sh with `ulimit -n fdLimit` first (as root this raises
   * the hard limit too; otherwise the soft limit is raised to the hard one), then `exec`, so
   * the pid is the worker's own. A Go program raises its soft limit itself; Node does not, and a
   * client with one connection per informer needs one descriptor per object.
   */
  constructor(
    readonly label: string,
    command: string,
    args: string[],
    fdLimit: number,
  ) {
    const script = 'ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
    this.child = spawn('/bin/sh', ['-c', script, String(fdLimit), command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  send(cmd: Command): void {
    if (!this.exit) this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /**
   * The next message of `type` (taken from those already received first). Rejects with the
   * worker's own message when it answers `error` instead, with WorkerExitedError when it exits,
   * and after `timeoutMs`.
   */
  next<K extends WorkerMessage['type']>(type: K, timeoutMs: number): Promise<Extract<WorkerMessage, { type: K }>> {
    const accept = (m: WorkerMessage) => m.type === type || m.type === 'error';
    const queued = this.queue.findIndex(accept);
    if (queued >= 0) return this.settle(this.queue.splice(queued, 1)[0], type);
    if (this.exit) return Promise.reject(new WorkerExitedError(this.label, this.exit.code, this.exit.signal, this.stderrEnd()));
    return new Promise<WorkerMessage>((resolve, reject) => {
      const waiter: Waiter = {
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

  private settle<K extends WorkerMessage['type']>(m: WorkerMessage, type: K): Promise<Extract<WorkerMessage, { type: K }>> {
    if (m.type === 'error' && type !== 'error') return Promise.reject(new Error(`${this.label}: ${m.message}`));
    return Promise.resolve(m as Extract<WorkerMessage, { type: K }>);
  }

  private onLine(line: string): void {
    const m = parseMessage(line);
    if (!m) return;
    if (m.type === 'progress') {
      this.lastProgress = m;
      return;
    }
    for (const w of this.waiters) {
      if (w.accept(m)) return w.resolve(m);
    }
    this.queue.push(m);
  }
}
