/**
 * The worker's end of worker-process.ts, and the one way a benchmark file starts as a worker.
 * Messages go out as JSON lines on stdout, commands come in as JSON lines on stdin; nothing
 * else may write to stdout, so a worker's console output is sent to stderr. When stdin ends the
 * orchestrator is gone and the worker exits: there is no one left to report to.
 *
 * A benchmark that measures in a fresh process (so that one variant's heap, JIT state and
 * sockets cannot colour the next) is one file with two functions: `main`, the orchestrator, which
 * starts the file again with startWorker or runWorker (worker-process.ts), and `worker`, which
 * runBenchmark runs when the file is started with `--worker`.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { CommandBase, ErrorMessage, MessageBase, ResultMessage } from './worker-process.js';

export interface WorkerChannelOptions<C extends CommandBase> {
  input: Readable;
  output: Writable;
  /** Turns a stdin line into a command, undefined when it is not one. Default: any JSON object with a string `op`. */
  parse?: (line: string) => C | undefined;
  /**
   * Called once the input has ended. Default: exit the process with code 0. Commands still
   * awaited then are rejected.
   */
  onInputClosed?: () => void;
}

/** A command from one line of input: any JSON object with a string `op`. */
export function parseJsonCommand<C extends CommandBase>(line: string): C | undefined {
  try {
    const value = JSON.parse(line) as { op?: unknown } | null;
    return typeof value?.op === 'string' ? (value as C) : undefined;
  } catch {
    return undefined;
  }
}

export class WorkerChannel<C extends CommandBase, M extends MessageBase> {
  private readonly output: Writable;
  private readonly parse: (line: string) => C | undefined;
  private readonly commands: C[] = [];
  private readonly receivers: Array<{ resolve: (c: C) => void; reject: (e: Error) => void }> = [];
  private inputClosed = false;

  /**
   * The channel over this process's stdin and stdout. It takes stdout over: console.log, info
   * and debug write to stderr from now on, so a library that prints cannot break a message.
   */
  static ofProcess<C extends CommandBase, M extends MessageBase>(parse?: (line: string) => C | undefined): WorkerChannel<C, M> {
    console.log = console.info = console.debug = console.error;
    return new WorkerChannel<C, M>({ input: process.stdin, output: process.stdout, parse });
  }

  constructor(opts: WorkerChannelOptions<C>) {
    this.output = opts.output;
    this.parse = opts.parse ?? parseJsonCommand;
    const onInputClosed = opts.onInputClosed ?? (() => process.exit(0));
    const lines = createInterface({ input: opts.input });
    lines.on('line', (line) => this.onLine(line));
    lines.on('close', () => {
      this.inputClosed = true;
      for (const r of this.receivers.splice(0)) r.reject(new Error('the orchestrator closed the command stream'));
      onInputClosed();
    });
  }

  /** Writes one message line. */
  send(message: M | ErrorMessage): void {
    this.output.write(JSON.stringify(message) + '\n');
  }

  /** Writes one message line and resolves once it has been handed to the operating system. */
  sendAndFlush(message: M | ErrorMessage): Promise<void> {
    return new Promise((resolve, reject) => this.output.write(JSON.stringify(message) + '\n', (err) => (err ? reject(err) : resolve())));
  }

  /** The next command, in the order they arrived. Rejects once the input has ended. */
  receive(): Promise<C> {
    const queued = this.commands.shift();
    if (queued) return Promise.resolve(queued);
    if (this.inputClosed) return Promise.reject(new Error('the orchestrator closed the command stream'));
    return new Promise((resolve, reject) => this.receivers.push({ resolve, reject }));
  }

  /**
   * Sends `message` and waits for the orchestrator's answer, which must be a command `op`:
   * the worker's half of a step the two take together (the orchestrator reads its counters
   * while the worker waits). Rejects on any other command.
   */
  async ask(message: M, op: C['op']): Promise<C> {
    this.send(message);
    const answer = await this.receive();
    if (answer.op !== op) throw new Error(`expected the orchestrator's ${op} after ${message.type}, got ${answer.op}`);
    return answer;
  }

  private onLine(line: string): void {
    const command = this.parse(line);
    if (!command) {
      this.send({ type: 'error', message: 'bad command' });
      return;
    }
    const receiver = this.receivers.shift();
    if (receiver) receiver.resolve(command);
    else this.commands.push(command);
  }
}

/**
 * A benchmark file's entry point. Started with `--worker` as its first argument, it runs
 * `worker` on the remaining arguments with the process's channel, sends what it returns as a
 * `result` message and exits 0; if it throws, it prints the error to stderr, sends an `error`
 * message and exits 1. Otherwise it runs `main`, and a failure sets a non-zero exit code.
 */
export function runBenchmark<R, C extends CommandBase = CommandBase, M extends MessageBase = MessageBase>(bench: {
  main: () => Promise<void>;
  worker: (args: string[], channel: WorkerChannel<C, M | ResultMessage<R>>) => Promise<R>;
}): void {
  if (process.argv[2] !== '--worker') {
    bench.main().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
    return;
  }
  const channel = WorkerChannel.ofProcess<C, M | ResultMessage<R>>();
  bench.worker(process.argv.slice(3), channel).then(
    async (result) => {
      await channel.sendAndFlush({ type: 'result', result });
      process.exit(0);
    },
    async (err: unknown) => {
      console.error(err);
      await channel.sendAndFlush({ type: 'error', message: err instanceof Error ? err.message : String(err) }).catch(() => {});
      process.exit(1);
    },
  );
}
