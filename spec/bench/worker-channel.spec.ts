import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { WorkerChannel } from '../../bench/worker-channel.js';
import { runWorker } from '../../bench/worker-process.js';

type Cmd = { op: 'continue' } | { op: 'go'; n: number };
type Msg = { type: 'step'; n: number };

/** A channel over in-memory streams, and the lines it wrote. */
function channel() {
  const input = new PassThrough();
  const output = new PassThrough();
  const written: unknown[] = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) written.push(JSON.parse(line));
  });
  let closed = 0;
  const ch = new WorkerChannel<Cmd, Msg>({ input, output, onInputClosed: () => closed++ });
  return { ch, input, written, closed: () => closed };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('WorkerChannel', () => {
  it('writes each message as one JSON line', async () => {
    const { ch, written } = channel();
    ch.send({ type: 'step', n: 1 });
    await ch.sendAndFlush({ type: 'error', message: 'no' });
    await turn();
    expect(written).toEqual([
      { type: 'step', n: 1 },
      { type: 'error', message: 'no' },
    ]);
  });

  it('hands commands out in the order they arrived, whether they came before or after the wait', async () => {
    const { ch, input } = channel();
    input.write('{"op":"go","n":1}\n{"op":"go","n":2}\n');
    await turn();
    expect(await ch.receive()).toEqual({ op: 'go', n: 1 });
    expect(await ch.receive()).toEqual({ op: 'go', n: 2 });
    const third = ch.receive();
    input.write('{"op":"continue"}\n');
    expect(await third).toEqual({ op: 'continue' });
  });

  it('answers a line that is not a command with an error and keeps going', async () => {
    const { ch, input, written } = channel();
    input.write('not json\n{"no":"op"}\n{"op":"continue"}\n');
    expect(await ch.receive()).toEqual({ op: 'continue' });
    expect(written).toEqual([
      { type: 'error', message: 'bad command' },
      { type: 'error', message: 'bad command' },
    ]);
  });

  it('takes a step with the orchestrator: the message out, then its answer', async () => {
    const { ch, input, written } = channel();
    const step = ch.ask({ type: 'step', n: 7 }, 'continue');
    await turn();
    expect(written).toEqual([{ type: 'step', n: 7 }]);
    input.write('{"op":"continue"}\n');
    await expect(step).resolves.toEqual({ op: 'continue' });
    const wrong = ch.ask({ type: 'step', n: 8 }, 'continue');
    input.write('{"op":"go","n":1}\n');
    await expect(wrong).rejects.toThrow("expected the orchestrator's continue after step, got go");
  });

  it('reports the end of the input once, and fails the waits that can never be answered', async () => {
    const { ch, input, closed } = channel();
    const waiting = ch.receive();
    input.end();
    await expect(waiting).rejects.toThrow('closed the command stream');
    await expect(ch.receive()).rejects.toThrow('closed the command stream');
    expect(closed()).toBe(1);
  });
});

describe('runWorker', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'refwatch-worker-channel-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /**
   * A stand-in benchmark file: as a worker it prints stray output, then its flags and arguments
   * as the result; with `fail` it answers an error, with `hang` nothing until it is asked to stop.
   */
  const script = path.join(dir, 'bench.mjs');
  writeFileSync(
    script,
    `if (process.argv[2] !== '--worker') process.exit(9);
console.log('stray output');
if (process.argv[3] === 'fail') { process.stdout.write(JSON.stringify({ type: 'error', message: 'it broke' }) + '\\n'); process.exit(1); }
if (process.argv[3] === 'hang') process.stdin.on('data', (d) => { if (String(d).includes('"stop"')) process.exit(0); });
else process.stdout.write(JSON.stringify({ type: 'result', result: { args: process.argv.slice(3), gc: typeof globalThis.gc } }) + '\\n');
`,
  );
  const url = pathToFileURL(script).href;

  it('starts the file as a worker with its Node flags and arguments and returns its result', async () => {
    await expect(runWorker(url, ['a', 'b'], 10_000, { nodeFlags: ['--expose-gc'] })).resolves.toEqual({ args: ['a', 'b'], gc: 'function' });
  });

  it('rejects with the worker’s error, and after the timeout when it never answers', async () => {
    await expect(runWorker(url, ['fail'], 10_000, { label: 'stand-in' })).rejects.toThrow('stand-in: it broke');
    await expect(runWorker(url, ['hang'], 300, { label: 'stand-in' })).rejects.toThrow('stand-in: no result within 0 s');
  });
});
