/**
 * Watch-line parsing benchmark: how long WatchStream takes to deliver one 2 MiB event when the
 * body arrives in 64-, 256- or 16,384-byte chunks (HTTP/2 DATA frames of that size) or as one
 * chunk. A parser that rescans its pending line on every chunk is quadratic in the number of
 * chunks (issue 8: 31 s for 64-byte frames); this one should take about the same time for every
 * chunk size. The body is a PassThrough, so only parsing is measured, not the network.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/watch-framing.js
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_EVENT_MIB (default 2).
 */
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { DeadlineWheel } from '../lib/api/deadline-wheel.js';
import { WatchStream, type WatchHost } from '../lib/api/watch-stream.js';
import { realClock } from '../lib/util/clock.js';
import { noopLogger } from '../lib/util/logger.js';
import { median, report, round } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EVENT_MIB = Number(process.env.BENCH_EVENT_MIB ?? 2);
/** 64 and 256 bytes are the hostile framings of issue 8; 16 KiB is HTTP/2's default frame size. */
const CHUNK_SIZES = [64, 256, 16_384, Infinity];

/** Milliseconds from the first chunk until the event is delivered. */
async function parseOnce(line: Buffer, chunk: number): Promise<number> {
  const body = new PassThrough({ highWaterMark: 1 << 30 });
  const host: WatchHost = {
    clock: realClock,
    logger: noopLogger,
    http1QuietMs: 0,
    deadlines: new DeadlineWheel(realClock),
    open: () => Promise.resolve({ status: 200, headers: {}, body, protocol: 'h2' }),
    onMalformed: (_path, reason) => {
      throw new Error(`benchmark event rejected: ${reason}`);
    },
  };
  const stream = new WatchStream<unknown>(host, '/watch', 3_600_000);
  const it = stream[Symbol.asyncIterator]();
  const delivered = it.next();
  await new Promise((r) => setImmediate(r)); // let the stream attach to the body
  const start = performance.now();
  const step = Number.isFinite(chunk) ? chunk : line.length;
  for (let at = 0; at < line.length; at += step) body.write(line.subarray(at, at + step));
  await delivered;
  const ms = performance.now() - start;
  await it.return?.();
  return ms;
}

async function main(): Promise<void> {
  const line = Buffer.from(
    `${JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'big', resourceVersion: '7' }, data: { v: 'x'.repeat(EVENT_MIB * 1024 * 1024) } } })}\n`,
  );
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const chunk of CHUNK_SIZES) (samples[label(chunk)] ??= []).push(await parseOnce(line, chunk));
  }
  const rows = CHUNK_SIZES.map((chunk) => ({
    'chunk size': label(chunk),
    chunks: Number.isFinite(chunk) ? Math.ceil(line.length / chunk) : 1,
    'ms to deliver the event (median)': round(median(samples[label(chunk)]), 1),
  }));
  report('watch-framing', `One ${EVENT_MIB} MiB watch event through WatchStream by chunk size, medians of ${ROUNDS} rounds`, rows, samples);
}

function label(chunk: number): string {
  return Number.isFinite(chunk) ? `${chunk} B` : 'whole line';
}

await main();
