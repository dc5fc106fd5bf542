// Item 14 of issue 8: a body cut off on the way is a transport failure. An HTTP/1.1 connection
// cut after a list's headers surfaced as a bare `Error: aborted`; an HTTP/2 connection lost in
// the middle of a body (which node:http2 ends quietly, as if the body were complete) surfaced
// as a server-side `StatusError 500 "not JSON"`.
import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { StatusError } from '../../../lib/api/errors.js';
import { resources } from '../../../lib/api/resource.js';
import { TransportError } from '../../../lib/api/transport-errors.js';
import { clientFor, h1Server, h2Server, hostileRig } from './servers.js';

hostileRig();

const HALF = '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"na';

describe('a list whose body is cut off', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`over HTTP/1.1 (${framing}) fails with a TransportError naming the server`, async () => {
      const server = await h1Server((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...(framing === 'content-length' ? { 'content-length': '4096' } : {}) });
        res.write(HALF, () => setTimeout(() => (res.socket as net.Socket).destroy(), 5));
      });
      const client = clientFor(server.port, { http2: false });
      const err = await client
        .source(resources.secrets)
        .list('ns')
        .catch((e) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect(err.message).toMatch(/^reading the response \(\d+ bytes received\) from https:\/\/127\.0\.0\.1:\d+ failed: aborted/);
      expect(err.code).toBe('ECONNRESET');
    });
  }

  for (const how of ['the connection is destroyed', 'the session is destroyed']) {
    it(`over HTTP/2, when ${how} mid-body, fails with a TransportError, not a 500 "not JSON"`, async () => {
      const server = await h2Server((stream, _headers, session) => {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.write(HALF, () =>
          setTimeout(() => {
            if (how === 'the session is destroyed') session.destroy();
            else for (const s of server.sockets) s.destroy();
          }, 5),
        );
      });
      const client = clientFor(server.port);
      const err = await client
        .source(resources.secrets)
        .list('ns')
        .catch((e) => e);
      expect(err).not.toBeInstanceOf(StatusError);
      expect(err).toBeInstanceOf(TransportError);
      expect(err.message).toMatch(new RegExp(`^the response from https://127\\.0\\.0\\.1:\\d+ was cut off after ${HALF.length} bytes`));
    });
  }

  it('still reads a complete body that is not JSON as the server answering badly (500), not as a transport failure', async () => {
    const server = await h2Server((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end('<html>a proxy error page</html>');
    });
    const client = clientFor(server.port);
    const err = await client
      .source(resources.secrets)
      .list('ns')
      .catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect(err.message).toMatch(/not JSON/);
  });
});
