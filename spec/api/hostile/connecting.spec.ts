// Items 7, 8 and 10 of issue 8: connecting honours the request's deadline and signal (a server
// that accepts TCP and never does TLS, one that does TLS and never sends SETTINGS), a server
// that drops the connection during the SETTINGS wait fails the request at once, a server that
// allows zero streams is refused clearly, and close() in the middle of any of it leaves no
// socket on the server and no timer on the clock.
import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { StatusError } from '../../../lib/api/errors.js';
import { resources } from '../../../lib/api/resource.js';
import { TransportError } from '../../../lib/api/transport-errors.js';
import { FakeClock, settle } from '../../../lib/testing/fake-clock.js';
import { EMPTY_LIST, clientFor, h2Server, hostileRig, outcome, silentTcpServer, tlsWithoutSettingsServer, until } from './servers.js';

hostileRig();

const stalls = {
  'accepts TCP and never does TLS': { server: () => silentTcpServer(), step: /TLS handshake/ },
  'does TLS and never sends SETTINGS': { server: () => tlsWithoutSettingsServer(), step: /SETTINGS/ },
};

describe('connecting to a server that stalls', () => {
  for (const [name, { server: start, step }] of Object.entries(stalls)) {
    it(`fails a list at requestTimeout when the server ${name}, naming the step`, async () => {
      const server = await start();
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock, requestTimeout: 500 });
      const list = outcome(client.source(resources.secrets).list('ns'));
      await until(() => server.sockets.size === 1, 'the connection');
      await settle(10);
      await clock.advance(499);
      expect(list.state).toBe('pending');
      await clock.advance(1);
      await until(() => list.state === 'rejected', 'the list to fail');
      const err = list.error as StatusError;
      expect([err.code, err.reason]).toEqual([504, 'Timeout']);
      expect(err.message).toMatch(/did not complete within 500 ms, still connecting to https:\/\/127\.0\.0\.1:\d+/);
      expect(err.message).toMatch(step);
      // The attempt itself keeps its own connect deadline, then goes.
      await clock.advance(30_000);
      await until(() => server.sockets.size === 0, 'the attempt to be given up');
      expect(client.stats()).toMatchObject({ connecting: 0, connections: 0, activeStreams: 0 });
      expect(clock.pendingTimers()).toBe(0);
    });

    it(`fails a watch at requestTimeout when the server ${name}`, async () => {
      const server = await start();
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock, requestTimeout: 500 });
      const it = client.source(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
      const next = outcome(it.next());
      await until(() => server.sockets.size === 1, 'the connection');
      await settle(10);
      await clock.advance(500);
      await until(() => next.state === 'rejected', 'the watch to fail');
      expect((next.error as StatusError).code).toBe(504);
    });

    it(`stops waiting the moment the caller aborts, when the server ${name}`, async () => {
      const server = await start();
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock });
      const caller = new AbortController();
      const list = outcome(client.source(resources.secrets).list('ns', { signal: caller.signal }));
      await until(() => server.sockets.size === 1, 'the connection');
      caller.abort();
      await until(() => list.state === 'rejected', 'the list to fail');
      expect((list.error as Error).name).toBe('AbortError');
    });

    it(`close() while the server ${name} ends the attempt: no socket on the server, no timer on the clock`, async () => {
      const server = await start();
      const clock = new FakeClock();
      const client = clientFor(server.port, { clock });
      const list = outcome(client.source(resources.secrets).list('ns'));
      const it = client.source(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
      const next = outcome(it.next());
      await until(() => server.sockets.size === 1, 'the connection');
      await settle(10);
      expect(client.stats().connecting).toBe(1);
      await client.close();
      await until(() => server.sockets.size === 0 && list.state !== 'pending' && next.state !== 'pending', 'everything to end');
      expect(list.error).toBeInstanceOf(TransportError);
      expect(next.error).toBeInstanceOf(TransportError);
      expect(clock.pendingTimers()).toBe(0);
      expect(client.stats()).toMatchObject({ connecting: 0, connections: 0, activeStreams: 0 });
    });
  }

  it('fails the request at once when the server drops the connection during the SETTINGS wait', async () => {
    let drop: (() => void) | undefined;
    const server = await tlsWithoutSettingsServer((socket) => (drop = () => socket.end()));
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock, requestTimeout: 500 });
    const list = outcome(client.source(resources.secrets).list('ns'));
    await until(() => drop !== undefined, 'the TLS handshake');
    await settle(10);
    drop!();
    await until(() => list.state === 'rejected', 'the list to fail, with no time passing');
    expect(list.error).toBeInstanceOf(TransportError);
    expect(String(list.error)).toMatch(/https:\/\/127\.0\.0\.1:\d+/);
    expect(clock.pendingTimers()).toBe(0); // the request's timer and the connect deadline both ended
  });

  it('fails the request at once when the server closes TCP during the TLS handshake', async () => {
    const server = await silentTcpServer();
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock });
    const list = outcome(client.source(resources.secrets).list('ns'));
    await until(() => server.sockets.size === 1, 'the connection');
    for (const s of server.sockets) (s as net.Socket).end();
    await until(() => list.state === 'rejected', 'the list to fail');
    expect(list.error).toBeInstanceOf(TransportError);
  });
});

describe('SETTINGS_MAX_CONCURRENT_STREAMS=0', () => {
  it('on a new connection is refused clearly instead of waiting inside node:http2', async () => {
    let streams = 0;
    const server = await h2Server(() => streams++, { maxConcurrentStreams: 0 });
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock });
    const list = outcome(client.source(resources.secrets).list('ns'));
    await until(() => list.state === 'rejected', 'the list to fail, with no time passing');
    expect(list.error).toBeInstanceOf(TransportError);
    expect(String(list.error)).toMatch(/allows no streams.*SETTINGS_MAX_CONCURRENT_STREAMS=0/);
    expect(streams).toBe(0);
    expect(client.stats()).toMatchObject({ connections: 0, activeStreams: 0 });
    await until(() => server.sockets.size === 0, 'the refused connection to close');
  });

  it('sent later on a busy connection sends new requests to another connection', async () => {
    const sessions = new Set<unknown>();
    const server = await h2Server((stream, headers, session) => {
      sessions.add(session);
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      if (String(headers[':path']).includes('watch=true')) {
        stream.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"2"}}}\n');
        session.settings({ maxConcurrentStreams: 0 }); // this connection takes no more
      } else stream.end(EMPTY_LIST);
    });
    const client = clientFor(server.port);
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
    await it.next();
    await settle(10);
    await expect(client.source(resources.secrets).list('ns')).resolves.toMatchObject({ items: [] });
    await settle(10);
    expect(sessions.size).toBe(2);
    expect(client.stats()).toMatchObject({ http2Connections: 2, activeStreams: 1 });
    await it.return?.();
  });
});
