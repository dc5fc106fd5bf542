// Item 9 of issue 8: a 2 MB watch event split into 64- or 256-byte HTTP/2 DATA frames took
// 6 to 31 s to parse, because every chunk was appended and the whole buffer scanned again from
// its start. Each chunk is now scanned once. The speed itself is measured by
// `npm run bench` (bench/watch-framing.ts); here a server really sends the frames and the event
// must arrive whole. The sizes are chosen so that the old quadratic scan (about 30 s for 2 MB in
// 64-byte frames, about 16 x 7 s for 8 MB in 256-byte frames) cannot finish within the 15 s a
// test gets, while a linear one needs about a second, mostly for the server's 32,768 writes.
import { describe, expect, it } from '@jest/globals';
import type http2 from 'node:http2';
import { resources } from '../../../lib/api/resource.js';
import type { WatchEvent } from '../../../lib/api/source.js';
import { clientFor, h2Server, hostileRig } from './servers.js';

hostileRig();

/** A MODIFIED event of about `bytes` bytes whose data values hold multi-byte UTF-8 (so frames split characters). */
function bigEvent(bytes: number): { line: Buffer; value: string } {
  const value = 'é€𝄞'.repeat(Math.ceil(bytes / 9)); // 2 + 3 + 4 bytes
  const event = { type: 'MODIFIED', object: { kind: 'Secret', metadata: { name: 'big', namespace: 'ns', resourceVersion: '7' }, data: { v: value } } };
  return { line: Buffer.from(`${JSON.stringify(event)}\n`), value };
}

/**
 * Writes `payload` to `stream` in `frame`-byte DATA frames. Each write waits until the previous
 * one went out, or node:http2 would coalesce the queued writes into 16 KiB frames.
 */
async function writeInFrames(stream: http2.ServerHttp2Stream, payload: Buffer, frame: number): Promise<number> {
  let frames = 0;
  for (let at = 0; at < payload.length; at += frame) {
    frames++;
    await new Promise((r) => stream.write(payload.subarray(at, at + frame), r));
  }
  return frames;
}

describe('a multi-megabyte watch event in small frames', () => {
  for (const [mib, frame] of [
    [2, 64],
    [8, 256],
  ]) {
    it(`arrives whole when the server sends ${mib} MiB in ${frame}-byte frames`, async () => {
      const { line, value } = bigEvent(mib * 1024 * 1024);
      let frames = 0;
      const server = await h2Server((stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        void writeInFrames(stream, line, frame).then((n) => (frames = n));
      });
      const client = clientFor(server.port);
      const it = client.source<{ data: { v: string } }>(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
      const { value: event } = (await it.next()) as IteratorYieldResult<WatchEvent<{ data: { v: string } }>>;
      expect(event.type).toBe('MODIFIED');
      expect(event.object.data.v === value).toBe(true); // not toEqual: a 2 MB diff would drown the report
      expect(frames).toBe(Math.ceil(line.length / frame));
      expect(client.stats().malformedWatchLines).toBe(0);
      await it.return?.();
    }, 15_000);
  }
});
