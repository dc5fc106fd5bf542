// Item 9 of issue 8: a 2 MB watch event split into 64- or 256-byte HTTP/2 DATA frames took
// 6 to 31 s to parse, because every chunk was appended and the whole buffer scanned again from
// its start. Each chunk is now scanned once. Here a server that writes its own HTTP/2 frames
// (node:http2 would coalesce small writes into 16 KiB frames) sends the event in exactly such
// frames and it must arrive whole; the old scan did not finish the 64-byte case within a
// test's 20 s. `npm run bench` (bench/watch-framing.ts) measures the speed.
import { describe, expect, it } from '@jest/globals';
import tls from 'node:tls';
import { resources } from '../../../lib/api/resource.js';
import type { WatchEvent } from '../../../lib/api/source.js';
import { certs, clientFor, hostileRig, listen } from './servers.js';

hostileRig();

const FRAME = { DATA: 0, HEADERS: 1, SETTINGS: 4, PING: 6, WINDOW_UPDATE: 8 } as const;
const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;
const PREFACE = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

/**
 * A minimal HTTP/2 server over TLS: it answers the first request with status 200 and `body` in
 * DATA frames of `frameSize` bytes, within the client's flow-control windows. It never ends the
 * stream (a watch); `sent.frames` counts what it sent.
 */
async function framingServer(body: Buffer, frameSize: number) {
  const state = { frames: 0 };
  const server = tls.createServer({ key: certs.keyPem, cert: certs.certPem, ALPNProtocols: ['h2'] }, (socket) => {
    let input = Buffer.alloc(0);
    let prefaceSeen = false;
    let connWindow = 65_535;
    let streamWindow = 65_535;
    let stream = 0;
    let sent = 0;
    const pump = () => {
      const out: Buffer[] = [];
      while (stream !== 0 && sent < body.length) {
        const size = Math.min(frameSize, body.length - sent);
        if (size > connWindow || size > streamWindow) break;
        out.push(frame(FRAME.DATA, 0, stream, body.subarray(sent, sent + size)));
        sent += size;
        connWindow -= size;
        streamWindow -= size;
        state.frames++;
      }
      if (out.length > 0) socket.write(Buffer.concat(out));
    };
    socket.on('data', (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      if (!prefaceSeen) {
        if (input.length < PREFACE) return;
        input = input.subarray(PREFACE);
        prefaceSeen = true;
        socket.write(frame(FRAME.SETTINGS, 0, 0));
      }
      while (input.length >= 9 && input.length >= 9 + input.readUIntBE(0, 3)) {
        const length = input.readUIntBE(0, 3);
        const [type, flags, id] = [input[3], input[4], input.readUInt32BE(5) & 0x7fffffff];
        const payload = input.subarray(9, 9 + length);
        input = input.subarray(9 + length);
        if (type === FRAME.SETTINGS && !(flags & FLAG.ACK)) {
          for (let at = 0; at + 6 <= payload.length; at += 6) if (payload.readUInt16BE(at) === 4) streamWindow = payload.readUInt32BE(at + 2);
          socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        } else if (type === FRAME.PING && !(flags & FLAG.ACK)) {
          socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
        } else if (type === FRAME.HEADERS && stream === 0) {
          stream = id;
          socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS, stream, Buffer.from([0x88]))); // HPACK static index 8: ":status: 200"
        } else if (type === FRAME.WINDOW_UPDATE) {
          const increment = payload.readUInt32BE(0) & 0x7fffffff;
          if (id === 0) connWindow += increment;
          else if (id === stream) streamWindow += increment;
        }
      }
      pump();
    });
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  const { port } = await listen(server);
  return { port, sent: state };
}

/** A MODIFIED event of about `bytes` bytes whose data value holds multi-byte UTF-8 (so frames split characters). */
function bigEvent(bytes: number): { line: Buffer; value: string } {
  const value = 'é€𝄞'.repeat(Math.ceil(bytes / 9)); // 2 + 3 + 4 bytes
  const event = { type: 'MODIFIED', object: { kind: 'Secret', metadata: { name: 'big', namespace: 'ns', resourceVersion: '7' }, data: { v: value } } };
  return { line: Buffer.from(`${JSON.stringify(event)}\n`), value };
}

describe('a 2 MB watch event in small frames', () => {
  for (const frameSize of [64, 256]) {
    it(`arrives whole when the server sends it in ${frameSize}-byte HTTP/2 DATA frames`, async () => {
      const { line, value } = bigEvent(2 * 1024 * 1024);
      const server = await framingServer(line, frameSize);
      const client = clientFor(server.port);
      const it = client.source<{ data: { v: string } }>(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
      const { value: event } = (await it.next()) as IteratorYieldResult<WatchEvent<{ data: { v: string } }>>;
      expect(event.type).toBe('MODIFIED');
      expect(event.object.data.v === value).toBe(true); // not toEqual: a 2 MB diff would drown the report
      expect(server.sent.frames).toBe(Math.ceil(line.length / frameSize));
      expect(client.stats()).toMatchObject({ protocols: ['h2'], malformedWatchLines: 0 });
      await it.return?.();
    });
  }
});
