// The connection pool against real local servers: HTTP/2 multiplexing and sharding at the
// server's stream limit, HTTP/1.1 fallback by ALPN and for http://, TLS verification errors,
// dead-connection detection by PING (through a proxy that freezes), idle closing, close().
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConnectionPool, TransportError } from '../../lib/api/connection-pool.js';
import type { TlsMaterial } from '../../lib/api/kube-auth.js';
import { generateServingCertificates, type ServingCertificates } from '../../lib/testing/api-server/certificates.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';

let certs: ServingCertificates;
let otherCa: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  [certs, { caPem: otherCa }] = await Promise.all([generateServingCertificates(), generateServingCertificates()]);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function material(ca = certs.caPem): TlsMaterial {
  return { ca, rejectUnauthorized: true, identity: ca === certs.caPem ? 'good' : 'other' };
}

/** Counts connections; answers /watch by holding the stream open after one line, others at once. */
async function startServer(kind: 'h2' | 'h1-tls' | 'h1-plain', maxStreams = 100) {
  const sockets = new Set<net.Socket>();
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const out = res as http.ServerResponse;
    out.writeHead(200, { 'content-type': 'application/json' });
    if ((req.url ?? '').startsWith('/watch')) out.write('{"type":"BOOKMARK"}\n');
    else out.end(JSON.stringify({ httpVersion: req.httpVersion }));
  };
  const tlsOpts = { key: certs.keyPem, cert: certs.certPem };
  const server =
    kind === 'h2'
      ? http2.createSecureServer({ ...tlsOpts, allowHTTP1: true, settings: { maxConcurrentStreams: maxStreams } }, handler)
      : kind === 'h1-tls'
        ? https.createServer(tlsOpts, handler)
        : http.createServer(handler);
  server.on(kind === 'h1-plain' ? 'connection' : 'secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { url: new URL(`${kind === 'h1-plain' ? 'http' : 'https'}://127.0.0.1:${port}`), sockets };
}

function pool(url: URL, opts: ConstructorParameters<typeof ConnectionPool>[1] = {}) {
  const p = new ConnectionPool(url, opts);
  cleanups.push(() => p.close());
  return p;
}

/** The first chunk, without consuming the rest (a for-await would destroy the stream on return). */
async function firstLine(body: NodeJS.ReadableStream): Promise<string> {
  const [chunk] = await once(body as NodeJS.EventEmitter, 'data');
  return String(chunk);
}

/** Waits, in real time but briefly, until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error('condition not reached within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A full garbage collection; the flag is set before the function is fetched from a fresh context. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
}

describe('ConnectionPool', () => {
  it('multiplexes watches as HTTP/2 streams and opens a second connection only past the server limit', async () => {
    const server = await startServer('h2', 100);
    const p = pool(server.url);
    const responses = await Promise.all(Array.from({ length: 150 }, (_, i) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() })));
    const lines = await Promise.all(responses.map((r) => firstLine(r.body)));
    expect(lines.every((l) => l.includes('BOOKMARK'))).toBe(true);
    expect(responses.every((r) => r.protocol === 'h2')).toBe(true);
    expect(p.stats()).toMatchObject({ http2Connections: 2, connections: 2, activeStreams: 150 });
    expect(server.sockets.size).toBe(2);
  });

  it('honours a lower limit the server advertises', async () => {
    const server = await startServer('h2', 10);
    const p = pool(server.url);
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() })));
    expect(responses).toHaveLength(25);
    expect(p.stats().http2Connections).toBe(3);
  });

  it('dials for a burst in parallel, as many connections as the burst needs and at most 8 at once', async () => {
    const server = await startServer('h2', 10);
    const burst = async (n: number) => {
      const p = pool(server.url, { maxStreamsPerConnection: 10 });
      const requests = Array.from({ length: n }, (_, i) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() }));
      const dialling = p.stats().connecting;
      const responses = await Promise.all(requests);
      await Promise.all(responses.map((r) => firstLine(r.body)));
      return { dialling, stats: p.stats() };
    };
    expect(await burst(50)).toMatchObject({ dialling: 5, stats: { http2Connections: 5, activeStreams: 50, connecting: 0 } });
    expect(await burst(200)).toMatchObject({ dialling: 8, stats: { http2Connections: 20, activeStreams: 200, connecting: 0 } });
    expect(server.sockets.size).toBe(25);
  });

  it('learns the stream limit from the first connection before dialling the rest', async () => {
    const server = await startServer('h2', 10);
    const p = pool(server.url);
    const requests = Array.from({ length: 45 }, (_, i) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() }));
    expect(p.stats().connecting).toBe(1); // our cap is 1000 until a server says otherwise
    await Promise.all(requests);
    expect(p.stats()).toMatchObject({ http2Connections: 5, activeStreams: 45 });
  });

  it('a dial that fails fails only the requests the other dials cannot carry', async () => {
    const server = await startServer('h2', 10);
    // In front of the server: the second connection is cut before TLS, the others pass.
    let accepted = 0;
    const pairs: net.Socket[] = [];
    const front = net.createServer((client) => {
      client.on('error', () => {});
      if (++accepted === 2) return void client.destroy();
      const upstream = net.connect(Number(server.url.port), '127.0.0.1');
      upstream.on('error', () => {});
      pairs.push(client, upstream);
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    cleanups.push(async () => {
      for (const sock of pairs) sock.destroy();
      await new Promise((r) => front.close(r));
    });
    const p = pool(new URL(`https://127.0.0.1:${(front.address() as net.AddressInfo).port}`), { maxStreamsPerConnection: 10 });
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() })));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(10);
    expect(failed.every((o) => (o as PromiseRejectedResult).reason instanceof TransportError)).toBe(true);
    expect(p.stats()).toMatchObject({ http2Connections: 2, activeStreams: 20, connecting: 0 });
  });

  it('a connection lost under load fails only its own streams, and their retries share one new connection', async () => {
    const server = await startServer('h2', 10);
    const p = pool(server.url);
    const watch = (i: number) => p.request({ method: 'GET', path: `/watch/${i}`, headers: {}, tls: material() });
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => watch(i)));
    await Promise.all(responses.map((r) => firstLine(r.body)));
    expect(p.stats()).toMatchObject({ http2Connections: 3, activeStreams: 30 });
    const closed = new Set<number>();
    responses.forEach((r, i) => r.body.once('close', () => closed.add(i)));
    const [lost] = server.sockets;
    lost.destroy();
    await until(() => closed.size === 10 && p.stats().http2Connections === 2);
    await settle(10);
    expect(closed.size).toBe(10); // the other connections' 20 streams are untouched
    const retries = [...closed].map((i) => watch(i));
    expect(p.stats().connecting).toBe(1);
    await Promise.all(retries);
    expect(p.stats()).toMatchObject({ http2Connections: 3, activeStreams: 30 });
    expect(server.sockets.size).toBe(3);
  });

  it('releases a stream slot when a request completes or is aborted', async () => {
    const server = await startServer('h2');
    const p = pool(server.url);
    const done = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material() });
    expect(JSON.parse(await firstLine(done.body))).toEqual({ httpVersion: '2.0' });
    const controller = new AbortController();
    const watch = await p.request({ method: 'GET', path: '/watch', headers: {}, tls: material(), signal: controller.signal });
    expect(p.stats().activeStreams).toBe(1);
    controller.abort();
    watch.body.destroy();
    await settle();
    expect(p.stats().activeStreams).toBe(0);
  });

  it('falls back to HTTP/1.1 with keep-alive when the server does not offer h2', async () => {
    const server = await startServer('h1-tls');
    const p = pool(server.url);
    for (let i = 0; i < 3; i++) {
      const res = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material() });
      expect(res.protocol).toBe('http/1.1');
      expect(JSON.parse(await firstLine(res.body))).toEqual({ httpVersion: '1.1' });
    }
    await settle();
    expect(p.stats()).toMatchObject({ http2Connections: 0, protocols: ['http/1.1'] });
    expect(server.sockets.size).toBe(1); // kept alive and reused
  });

  it('keeps no finished HTTP/1.1 request or response alive through its kept-alive socket', async () => {
    // A socket lives as long as the connection; anything its listeners close over lives as long.
    const server = await startServer('h1-tls');
    const p = pool(server.url);
    // In a function of its own, so no stale register of this suspended test holds a response.
    const oneRequest = async () => {
      const res = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material() });
      for await (const chunk of res.body) expect(JSON.parse(String(chunk))).toEqual({ httpVersion: '1.1' });
      return [new WeakRef(res.body), new WeakRef((res.body as unknown as { req: http.ClientRequest }).req)];
    };
    const refs: Array<WeakRef<object>> = [];
    for (let i = 0; i < 3; i++) refs.push(...(await oneRequest()));
    await settle(10);
    expect(server.sockets.size).toBe(1); // still open, and reused
    await collectGarbage();
    expect(refs.map((r, i) => (r.deref() === undefined ? -1 : i)).filter((i) => i >= 0)).toEqual([]);
  });

  it('keeps neither the request nor its signal alive once an HTTP/2 answer is open', async () => {
    // A watch's stream is open for up to an hour; what it holds on to, every watch costs.
    const server = await startServer('h2');
    const p = pool(server.url);
    const open = async () => {
      const controller = new AbortController();
      const req = { method: 'GET' as const, path: '/watch/held', headers: {}, tls: material(), signal: controller.signal };
      const res = await p.request(req);
      await firstLine(res.body);
      return { res, refs: [new WeakRef(req), new WeakRef(controller), new WeakRef(controller.signal)] };
    };
    const { res, refs } = await open();
    await collectGarbage();
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true, true]);
    expect(p.stats().activeStreams).toBe(1); // the stream itself is still open
    res.body.destroy();
  });

  it('speaks HTTP/1.1 to a plain http:// server', async () => {
    const server = await startServer('h1-plain');
    const p = pool(server.url);
    const res = await p.request({ method: 'GET', path: '/get', headers: {}, tls: { rejectUnauthorized: true, identity: 'plain' } });
    expect(res.protocol).toBe('http/1.1');
  });

  it('fails with a clear TLS verification error when the CA is wrong', async () => {
    const server = await startServer('h2');
    const p = pool(server.url);
    const err = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material(otherCa) }).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.message).toMatch(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \(\w+\).*certificate-authority/);
  });

  for (const kind of ['h2', 'h1-tls'] as const) {
    it(`never carries a request of another TLS identity on a connection verified with the right CA (${kind})`, async () => {
      const server = await startServer(kind);
      const p = pool(server.url);
      const ok = await p.request({ method: 'GET', path: '/watch/open', headers: {}, tls: material() });
      await firstLine(ok.body); // a verified connection stays open
      const err = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material(otherCa) }).catch((e) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect(err.message).toMatch(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
      ok.body.destroy();
    });
  }

  it('reports connection refused with its code, so callers can retry', async () => {
    const server = await startServer('h2');
    const url = server.url;
    for (const c of cleanups.splice(0)) await c();
    const p = pool(url);
    const err = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material() }).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('detects a dead connection with PING and fails its streams', async () => {
    const server = await startServer('h2');
    // A proxy that can stop forwarding, like a network path that silently dies.
    let frozen = false;
    const pairs: net.Socket[] = [];
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(server.url.port), '127.0.0.1');
      pairs.push(client, upstream);
      client.on('data', (d) => frozen || upstream.write(d));
      upstream.on('data', (d) => frozen || client.write(d));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => {});
      upstream.on('error', () => {});
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanups.push(async () => {
      for (const s of pairs) s.destroy();
      await new Promise((r) => proxy.close(r));
    });
    const clock = new FakeClock();
    const p = pool(new URL(`https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`), { clock, pingInterval: 30_000, pingTimeout: 15_000 });
    const res = await p.request({ method: 'GET', path: '/watch', headers: {}, tls: material() });
    await firstLine(res.body);
    const ended = new Promise<string>((resolve) => {
      res.body.on('error', (e) => resolve(`error: ${e.message}`));
      res.body.on('close', () => resolve('closed'));
    });

    await clock.advance(30_000); // a PING goes out and is answered: nothing happens
    await settle(10);
    expect(p.stats().http2Connections).toBe(1);

    frozen = true;
    await clock.advance(30_000); // the next PING goes unanswered...
    await clock.advance(15_000); // ...and the connection is declared dead
    expect(await ended).toMatch(/closed|PING|aborted/);
    expect(p.stats()).toMatchObject({ http2Connections: 0, activeStreams: 0 });
  });

  it('closes a connection left idle for idleTimeout', async () => {
    const server = await startServer('h2');
    const clock = new FakeClock();
    const p = pool(server.url, { clock, idleTimeout: 90_000 });
    const res = await p.request({ method: 'GET', path: '/get', headers: {}, tls: material() });
    await firstLine(res.body);
    await settle();
    await clock.advance(89_000);
    expect(p.stats().http2Connections).toBe(1);
    await clock.advance(1_000);
    await settle(10);
    expect(p.stats().http2Connections).toBe(0);
    expect(server.sockets.size).toBe(0);
  });

  it('close() closes every connection, both protocols, and refuses new requests', async () => {
    const h2server = await startServer('h2');
    const p = pool(h2server.url);
    await Promise.all(Array.from({ length: 5 }, () => p.request({ method: 'GET', path: '/watch', headers: {}, tls: material() })));
    await p.close();
    await settle(10);
    expect(p.stats().connections).toBe(0);
    expect(h2server.sockets.size).toBe(0);
    await expect(p.request({ method: 'GET', path: '/get', headers: {}, tls: material() })).rejects.toThrow('is closed');

    const h1server = await startServer('h1-tls');
    const p1 = pool(h1server.url);
    await Promise.all(Array.from({ length: 3 }, () => p1.request({ method: 'GET', path: '/watch', headers: {}, tls: material() })));
    expect(h1server.sockets.size).toBe(3);
    await p1.close();
    await settle(10);
    expect(h1server.sockets.size).toBe(0);
  });
});
