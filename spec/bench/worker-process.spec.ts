import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openFilesLimit } from '../../bench/proc.js';
import { parseMessage, type Command, type WorkerMessage } from '../../bench/side-by-side/protocol.js';
import { WorkerExitedError, WorkerProcess } from '../../bench/worker-process.js';

/**
 * A stand-in worker: says hello, answers "memory" with an error, ignores "start", crashes on
 * "expect" after a line on stderr, and, when started with "stubborn", ignores "stop" and SIGTERM.
 */
const WORKER = `
const stubborn = process.argv[2] === 'stubborn';
if (stubborn) process.on('SIGTERM', () => {});
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
console.log('stray output');
send({ type: 'hello', pid: process.pid, runtime: 'test', memory: {} });
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'memory') send({ type: 'error', message: 'no memory today' });
  if (cmd.op === 'expect') { process.stderr.write('about to fail\\n'); process.exit(3); }
  if (cmd.op === 'stop' && !stubborn) { send({ type: 'stopped' }); process.exit(0); }
});
setInterval(() => {}, 1000);
`;

const dir = mkdtempSync(path.join(tmpdir(), 'refwatch-worker-spec-'));
const script = path.join(dir, 'worker.cjs');
writeFileSync(script, WORKER);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (...args: string[]) => new WorkerProcess<Command, WorkerMessage>('test worker', process.execPath, [script, ...args], { fdLimit: 4_096, parse: parseMessage });

describe('WorkerProcess', () => {
  it('runs the worker itself under the pid it reports, with the open-files limit asked for', async () => {
    const w = start();
    try {
      const hello = await w.next('hello', 10_000);
      expect(hello.pid).toBe(w.pid);
      expect(openFilesLimit(w.pid)).toBe(4_096);
    } finally {
      await w.stop(2_000);
    }
    expect(w.hasExited).toBe(true);
  });

  it('gives up waiting after the timeout, and fails a wait the worker answers with an error', async () => {
    const w = start();
    try {
      await w.next('hello', 10_000);
      w.send({ op: 'start' });
      await expect(w.next('ready', 200)).rejects.toThrow('test worker: no ready within 0 s');
      w.send({ op: 'memory' });
      await expect(w.next('memory', 10_000)).rejects.toThrow('test worker: no memory today');
    } finally {
      await w.stop(2_000);
    }
  });

  it('fails every wait when the worker dies, with the end of its stderr', async () => {
    const w = start();
    await w.next('hello', 10_000);
    w.send({ op: 'expect', name: 'secret-1', value: 'v', timeoutMs: 1000 });
    const err = await w.next('armed', 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitedError);
    expect(String(err)).toMatch(/exited \(code 3\); stderr ends with:\nabout to fail/);
    await expect(w.next('memory', 10_000)).rejects.toThrow(WorkerExitedError);
    expect(w.stderrLines).toBe(1);
  });

  it('kills a worker that ignores both stop and SIGTERM', async () => {
    const w = start('stubborn');
    await w.next('hello', 10_000);
    await w.stop(100, 100);
    expect(w.hasExited).toBe(true);
  });
});
