// The embedded API server's network side: HTTP/2 or HTTP/1.1 chosen by ALPN on TLS, plain
// HTTP/1.1 and h2c, the SETTINGS_MAX_CONCURRENT_STREAMS it advertises, the connection count,
// a kubeconfig a real loader accepts, and a stop() that leaves no socket, stream or timer.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../lib/testing/fake-clock.js';
import { closeSession, eventually, h1, h2, h2connect, watchH1, watchH2 } from './http-clients.js';
import { serversPerTest } from './server-per-test.js';
import { expectAwaitUsingCloses } from '../../util/dispose-contract.js';

const SECRETS = '/api/v1/namespaces/ns1/secrets';

const { start } = serversPerTest();

/** The server's SETTINGS_MAX_CONCURRENT_STREAMS (h2connect waits for its SETTINGS frame). */
function maxStreams(session: http2.ClientHttp2Session): number | undefined {
  return session.remoteSettings.maxConcurrentStreams;
}

describe('ApiServer transport', () => {
  it('listens on 127.0.0.1 on a random port with an https URL and a CA that verifies the certificate', async () => {
    const server = await start();
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBe(Number(new URL(server.url).port));
    expect(server.caPem).toContain('BEGIN CERTIFICATE');
    const untrusted = new Promise<Error>((resolve) => {
      https.get(`${server.url}/readyz`, { agent: false }, () => resolve(new Error('accepted'))).on('error', resolve);
    });
    expect(((await untrusted) as NodeJS.ErrnoException).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // The certificate names localhost too.
    const viaLocalhost = await new Promise<number>((resolve, reject) => {
      https
        .get(`https://localhost:${server.port}/readyz`, { ca: server.caPem, agent: false, family: 4 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(viaLocalhost).toBe(200);
  });

  it('negotiates h2 by ALPN, and HTTP/1.1 when the client offers only http/1.1 or no ALPN', async () => {
    const server = await start();
    const session = await h2connect(server);
    try {
      expect(session.alpnProtocol).toBe('h2');
      expect((await h2(session, SECRETS)).status).toBe(200);
    } finally {
      await closeSession(session);
    }
    const onlyH1 = await h1(server, SECRETS, { alpn: ['http/1.1'] });
    expect([onlyH1.status, onlyH1.alpn, onlyH1.httpVersion]).toEqual([200, 'http/1.1', '1.1']);
    const noAlpn = await h1(server, SECRETS);
    expect([noAlpn.status, noAlpn.httpVersion]).toEqual([200, '1.1']);
    expect(server.requests.map((r) => r.httpVersion)).toEqual(['2.0', '1.1', '1.1']);
  });

  it('serves plain HTTP/1.1 and h2c (prior knowledge) on one port without TLS', async () => {
    const server = await start({ tls: false });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.caPem).toBeUndefined();
    expect((await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 'a' } } })).status).toBe(201);
    const session = await h2connect(server);
    try {
      const listed = await h2(session, SECRETS);
      expect(listed.body.items).toHaveLength(1);
      const watch = await watchH2(session, `${SECRETS}?watch=1`);
      await watch.next(1);
      watch.close();
    } finally {
      await closeSession(session);
    }
    const watch = await watchH1(server, `${SECRETS}?watch=1`);
    await watch.next(1);
    watch.close();
    expect(server.requests.map((r) => `${r.verb} ${r.httpVersion}`)).toEqual(['create 1.1', 'list 2.0', 'watch 2.0', 'watch 1.1']);
    expect(server.kubeconfig().clusters[0].cluster).toEqual({ server: server.url });
  });

  it('advertises maxConcurrentStreams in its SETTINGS, 100 by default, and a new limit to new connections', async () => {
    const byDefault = await start();
    const s0 = await h2connect(byDefault);
    expect(maxStreams(s0)).toBe(100);
    await closeSession(s0);

    const server = await start({ maxConcurrentStreams: 5 });
    const s1 = await h2connect(server);
    expect(maxStreams(s1)).toBe(5);
    server.faults.maxStreamsPerConnection(1);
    const s2 = await h2connect(server);
    expect(maxStreams(s2)).toBe(1);
    expect(s1.remoteSettings.maxConcurrentStreams).toBe(5);
    // (What a client does beyond the limit is the client's business: node:http2 queues the
    // stream on Node 20 and sends it to be refused on Node 22; refwatch's pool never exceeds it.)
    const watch = await watchH2(s2, `${SECRETS}?watch=1`);
    expect(server.openWatches).toBe(1);
    watch.close();
    await closeSession(s1);
    await closeSession(s2);
  });

  it('counts open client connections', async () => {
    const server = await start();
    expect(server.connections).toBe(0);
    const session = await h2connect(server);
    const agent = new https.Agent({ keepAlive: true, ca: server.caPem });
    try {
      await eventually(() => server.connections === 1);
      await Promise.all([h1(server, SECRETS, { agent }), h1(server, SECRETS, { agent })]);
      expect(server.connections).toBe(3);
      await Promise.all([h2(session, SECRETS), h2(session, SECRETS), h2(session, SECRETS)]);
      expect(server.connections).toBe(3);
    } finally {
      agent.destroy();
      await closeSession(session);
    }
    await eventually(() => server.connections === 0);
  });

  it('stop() closes every connection, stream and timer, and then refuses connections', async () => {
    const clock = new FakeClock();
    const server = await start({ clock });
    const session = await h2connect(server);
    const streams = [await watchH2(session, `${SECRETS}?watch=1&allowWatchBookmarks=1`), await watchH1(server, `/api/v1/configmaps?watch=1`)];
    server.faults.dropWatchesEvery(1_000);
    server.faults.delayLists(10_000);
    const delayed = h1(server, SECRETS).catch((err: Error) => err);
    await eventually(() => server.connections === 3 && clock.pendingTimers() === 5);
    expect(server.openWatches).toBe(2);

    await server.stop();
    expect(server.connections).toBe(0);
    expect(server.openWatches).toBe(0);
    expect(server.storage.watchCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(server.listening).toBe(false);
    expect(await Promise.all(streams.map((w) => w.ended))).toEqual(['end', 'end']);
    expect(await delayed).toMatchObject({ code: 'ECONNRESET' });
    const refused = await h1(server, '/readyz').catch((err: NodeJS.ErrnoException) => err.code);
    expect(refused).toBe('ECONNREFUSED');
    await closeSession(session);
    await server.stop();
  });
});

describe('ApiServer close()', () => {
  it('stops at the end of an `await using` block, also when the block throws, and close() is stop()', async () => {
    const clock = new FakeClock();
    await expectAwaitUsingCloses(
      () => start({ clock }),
      (server) => !server.listening && server.connections === 0 && clock.pendingTimers() === 0,
      async (server) => {
        const session = await h2connect(server);
        expect((await h2(session, SECRETS)).status).toBe(200);
        await closeSession(session);
      },
    );
    const server = await start();
    await server.close();
    expect(server.listening).toBe(false);
  });
});

describe('ApiServer kubeconfig and URL', () => {
  it('produces a kubeconfig that @kubernetes/client-node loads and connects with', async () => {
    const server = await start({ tokens: { 'tok-1': 'tester' } });
    const config = server.kubeconfig({ namespace: 'ns1' });
    expect(config).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'refwatch',
      clusters: [{ name: 'refwatch', cluster: { server: server.url, 'certificate-authority-data': Buffer.from(server.caPem!).toString('base64') } }],
      users: [{ name: 'tester', user: { token: 'tok-1' } }],
      contexts: [{ name: 'refwatch', context: { cluster: 'refwatch', user: 'tester', namespace: 'ns1' } }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'refwatch-kubeconfig-'));
    try {
      const path = join(dir, 'config');
      await server.writeKubeconfig(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(path, 'utf8')).clusters[0].cluster.server).toBe(server.url);
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      expect(kc.getCurrentCluster()?.server).toBe(server.url);
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request(`${server.url}${SECRETS}`, { ...opts, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names loopback in the URL when bound to all interfaces', async () => {
    const server = await start({ tls: false, host: '0.0.0.0' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await new Promise<number>((resolve, reject) => {
      http
        .get(`${server.url}/healthz`, { agent: false }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(res).toBe(200);
  });
});
