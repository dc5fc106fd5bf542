// WatchStream's line splitting on its own, over a PassThrough body: lines cut at every byte
// (multi-byte characters included), the oversized-line limit when the runaway line arrives in
// small pieces, the last line without a newline, and backpressure on a slow reader.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { PoolResponse } from '../../lib/api/connection-pool.js';
import type { WatchEvent } from '../../lib/api/source.js';
import { DeadlineWheel } from '../../lib/api/deadline-wheel.js';
import { WatchStream, type WatchHost } from '../../lib/api/watch-stream.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { noopLogger } from '../../lib/util/logger.js';

function streamOver(body: PassThrough, maxLineLength?: number) {
  const malformed: string[] = [];
  const res: PoolResponse = { status: 200, headers: {}, body, protocol: 'h2' };
  const clock = new FakeClock();
  const host: WatchHost = {
    clock,
    logger: noopLogger,
    http1QuietMs: 0,
    maxLineLength,
    deadlines: new DeadlineWheel(clock),
    open: () => Promise.resolve(res),
    onMalformed: (_path, reason) => malformed.push(reason),
  };
  const stream = new WatchStream<{ v: string }>(host, '/watch', 60_000);
  return { stream, malformed };
}

async function drain(stream: WatchStream<{ v: string }>): Promise<WatchEvent<{ v: string }>[]> {
  const out: WatchEvent<{ v: string }>[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

/** Lets a feeding loop stop when its test timed out, instead of running on in the background. */
let testEnded = false;
beforeEach(() => {
  testEnded = false;
});
afterEach(() => {
  testEnded = true;
});

const event = (v: string) => JSON.stringify({ type: 'ADDED', object: { v } });

describe('WatchStream line splitting', () => {
  it('reassembles events cut at every possible byte, multi-byte characters included', async () => {
    const bytes = Buffer.from(`${event('é€𝄞 one')}\n${event('two')}\n`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const body = new PassThrough();
      const { stream, malformed } = streamOver(body);
      const events = drain(stream);
      body.write(bytes.subarray(0, cut));
      body.end(bytes.subarray(cut));
      expect((await events).map((e) => e.object.v)).toEqual(['é€𝄞 one', 'two']);
      expect(malformed).toEqual([]);
    }
  });

  it('reassembles one line sent a byte at a time', async () => {
    const bytes = Buffer.from(`${event('x'.repeat(5000))}\n`);
    const body = new PassThrough();
    const { stream } = streamOver(body);
    const events = drain(stream);
    for (const b of bytes) body.write(Buffer.from([b]));
    body.end();
    expect((await events)[0].object.v).toHaveLength(5000);
  });

  it('drops a line longer than maxLineLength that arrives in small pieces, and keeps the next one', async () => {
    const body = new PassThrough();
    const { stream, malformed } = streamOver(body, 1000);
    const events = drain(stream);
    const runaway = Buffer.from(event('y'.repeat(5000)));
    for (let at = 0; at < runaway.length; at += 64) body.write(runaway.subarray(at, at + 64));
    body.write('\n');
    body.end(`${event('after')}\n`);
    expect((await events).map((e) => e.object.v)).toEqual(['after']);
    expect(malformed).toEqual(['line longer than 1000 bytes']);
  });

  it('delivers a last line that has no newline when the stream ends', async () => {
    const body = new PassThrough();
    const { stream } = streamOver(body);
    const events = drain(stream);
    body.write(event('a').slice(0, 10));
    body.end(event('a').slice(10));
    expect((await events).map((e) => e.object.v)).toEqual(['a']);
  });

  it('parses an 8 MiB event arriving in 64-byte chunks in one pass (a rescanning parser needs minutes)', async () => {
    // 131,072 chunks: scanning only new bytes reads 8 MiB once; rescanning the pending line on
    // every chunk reads it about 65,000 times (measured: 2 MiB this way took the old parser 34 s).
    // Chunks go in batches with an event-loop turn between, so the test's timeout can end a slow run.
    const body = new PassThrough({ highWaterMark: 1 << 30 });
    const { stream } = streamOver(body);
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    const line = Buffer.from(`${event('z'.repeat(8 * 1024 * 1024))}\n`);
    for (let at = 0; at < line.length && !testEnded; at += 64) {
      body.write(line.subarray(at, at + 64));
      if ((at / 64) % 1024 === 0) await new Promise((r) => setImmediate(r));
    }
    expect((await first).value?.object.v).toHaveLength(8 * 1024 * 1024);
    await it.return?.();
  }, 10_000);

  it('pauses the body while 256 events wait for a slow reader, and resumes when they are read', async () => {
    const body = new PassThrough();
    const { stream } = streamOver(body);
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    body.write(Array.from({ length: 300 }, (_, i) => `${event(String(i))}\n`).join(''));
    expect((await first).value?.object.v).toBe('0');
    await settle();
    expect(body.isPaused()).toBe(true);
    for (let i = 1; i < 300; i++) expect((await it.next()).value?.object.v).toBe(String(i));
    expect(body.isPaused()).toBe(false);
    await it.return?.();
  });
});
