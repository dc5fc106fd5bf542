// Item 6 of issue 8: every body read has a deadline on the injected clock. A watch answered
// with a 500 whose body never ends used to hang its reflector for ever, over HTTP/2 and
// HTTP/1.1, because the error body was read after the request timer had been cancelled.
import { describe, expect, it } from '@jest/globals';
import { StatusError, isTooManyRequests } from '../../../lib/api/errors.js';
import { resources } from '../../../lib/api/resource.js';
import { FakeClock, settle } from '../../../lib/testing/fake-clock.js';
import { clientFor, h1Server, h2Server, hostileRig, outcome, until } from './servers.js';

hostileRig();

type Status = { code: number; headers?: Record<string, string> };

/** Answers every request with `status` and a body that starts and never ends, over the given protocol. */
async function neverEndingBody(protocol: 'h2' | 'http/1.1', { code, headers = {} }: Status) {
  let requests = 0;
  const begin = '{"kind":"Status","code":500,"message":"still writ';
  if (protocol === 'h2') {
    const server = await h2Server((stream) => {
      requests++;
      stream.respond({ ':status': code, 'content-type': 'application/json', ...headers });
      stream.write(begin);
    });
    return { port: server.port, sockets: server.sockets, requests: () => requests };
  }
  const server = await h1Server((_req, res) => {
    requests++;
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.write(begin);
  });
  return { port: server.port, sockets: server.sockets, requests: () => requests };
}

describe('an error body that never ends', () => {
  for (const protocol of ['h2', 'http/1.1'] as const) {
    it(`fails a watch at requestTimeout with the server's status (${protocol})`, async () => {
      const server = await neverEndingBody(protocol, { code: 500 });
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock, requestTimeout: 5_000, http2: protocol === 'h2' });
      const it = client.source(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
      const next = outcome(it.next());
      await until(() => server.requests() === 1, 'the watch request');
      await settle(10);
      await clock.advance(4_999);
      await settle(10);
      expect(next.state).toBe('pending');
      await clock.advance(1);
      await until(() => next.state === 'rejected', 'the watch to fail');
      expect(next.error).toBeInstanceOf(StatusError);
      expect((next.error as StatusError).code).toBe(500);
      expect(client.stats().activeStreams).toBe(0);
      await client.close();
      expect(clock.pendingTimers()).toBe(0);
    });
  }

  it('keeps a 429 and its Retry-After when the body stalls', async () => {
    const server = await neverEndingBody('h2', { code: 429, headers: { 'retry-after': '7' } });
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock, requestTimeout: 5_000 });
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
    const next = outcome(it.next());
    await until(() => server.requests() === 1, 'the watch request');
    await settle(10);
    await clock.advance(5_000);
    await until(() => next.state === 'rejected', 'the watch to fail');
    expect(isTooManyRequests(next.error)).toBe(true);
    expect((next.error as StatusError).retryAfterSeconds).toBe(7);
  });

  for (const protocol of ['h2', 'http/1.1'] as const) {
    it(`fails a list at requestTimeout, without a retry (${protocol})`, async () => {
      const server = await neverEndingBody(protocol, { code: 500 });
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock, requestTimeout: 5_000, http2: protocol === 'h2' });
      const list = outcome(client.source(resources.secrets).list('ns'));
      await until(() => server.requests() === 1, 'the list request');
      await settle(10);
      await clock.advance(5_000);
      await until(() => list.state === 'rejected', 'the list to fail');
      expect((list.error as StatusError).code).toBe(500);
      expect(server.requests()).toBe(1);
    });
  }
});
