// Item 13 of issue 8: the kubeconfig's proxy-url was silently ignored. It is honoured now:
// an https:// server is reached through an HTTP CONNECT tunnel (HTTP/2 and HTTP/1.1 alike), an
// http:// one with absolute-form requests to the proxy, and any other proxy scheme is refused
// when the client is made. The proxy is a real one (http-proxy.ts) that records what it was
// asked.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { StatusError } from '../../../lib/api/errors.js';
import { KubeClient, type KubeClientOptions } from '../../../lib/api/kube-client.js';
import { resources } from '../../../lib/api/resource.js';
import { TransportError } from '../../../lib/api/transport-errors.js';
import { ApiServer, generateServingCertificates, type ServingCertificates } from '../../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../../lib/testing/fake-clock.js';
import { startHttpProxy, type HttpProxy, type HttpProxyOptions } from './http-proxy.js';
import { h1Server, hostileRig, kubeconfig, onCleanup, outcome, until } from './servers.js';

hostileRig();

/** A real HTTP proxy (http-proxy.ts), closed after the test. */
async function startProxy(opts: HttpProxyOptions = {}): Promise<HttpProxy> {
  const proxy = await startHttpProxy(opts);
  onCleanup(() => proxy.close());
  return proxy;
}

/**
 * Serving certificates for 127.0.0.1 only, no "localhost": TLS through a tunnel must check the
 * certificate against the server's address, not the name Node assumes for a given socket.
 */
let ipOnly: ServingCertificates;
beforeAll(async () => {
  ipOnly = await generateServingCertificates({ dnsNames: [], ipAddresses: ['127.0.0.1'] });
});

async function apiServer(tls = true): Promise<ApiServer> {
  const server = await ApiServer.start({ certificates: ipOnly, tls });
  onCleanup(() => server.stop());
  server.storage.create(resources.secrets, { metadata: { namespace: 'ns', name: 's' } });
  return server;
}

function client(kc: KubeConfig, opts: KubeClientOptions = {}): KubeClient {
  const c = new KubeClient(kc, opts);
  onCleanup(() => c.close());
  return c;
}

describe("the kubeconfig's proxy-url", () => {
  it('tunnels HTTP/2 through CONNECT: one tunnel carries every request and watch', async () => {
    const server = await apiServer();
    const proxy = await startProxy();
    const c = client(kubeconfig({ caPem: ipOnly.caPem, server: server.url, proxyUrl: proxy.url }));
    const secrets = c.source(resources.secrets);
    await expect(secrets.get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    const list = await secrets.list('ns');
    const it = secrets.watch('ns', { resourceVersion: list.metadata.resourceVersion })[Symbol.asyncIterator]();
    const next = it.next();
    await settle(10);
    server.storage.create(resources.secrets, { metadata: { namespace: 'ns', name: 'through-the-tunnel' } });
    await expect(next).resolves.toMatchObject({ value: { type: 'ADDED', object: { metadata: { name: 'through-the-tunnel' } } } });
    await it.return?.();
    expect(proxy.seen.connects).toEqual([new URL(server.url).host]);
    expect(c.stats().protocols).toEqual(['h2']);
    expect(server.requests.length).toBe(3);
  });

  it('tunnels HTTP/1.1 through CONNECT, keeping the tunnel alive between requests', async () => {
    const server = await apiServer();
    const proxy = await startProxy();
    const c = client(kubeconfig({ caPem: ipOnly.caPem, server: server.url, proxyUrl: proxy.url }), { http2: false });
    for (let i = 0; i < 3; i++) await expect(c.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(proxy.seen.connects).toEqual([new URL(server.url).host]);
    expect(c.stats().protocols).toEqual(['http/1.1']);
  });

  it('falls back to HTTP/1.1 through the tunnel when the server declines h2 in ALPN', async () => {
    const server = await h1Server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Secret', metadata: { name: 's', namespace: 'ns' } }));
    });
    const proxy = await startProxy();
    const c = client(kubeconfig({ server: `https://127.0.0.1:${server.port}`, proxyUrl: proxy.url }));
    for (let i = 0; i < 3; i++) await expect(c.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ kind: 'Secret' });
    // One tunnel for the ALPN answer, one kept alive for HTTP/1.1.
    expect(proxy.seen.connects).toEqual([`127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]);
    expect(c.stats().protocols).toEqual(['http/1.1']);
  });

  it('sends absolute-form requests to the proxy for an http:// server', async () => {
    const server = await apiServer(false);
    const proxy = await startProxy();
    const c = client(kubeconfig({ server: server.url, proxyUrl: proxy.url, ca: false, insecure: true })); // client-node's rule for http://
    await expect(c.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(proxy.seen.connects).toEqual([]);
    expect(proxy.seen.forwarded).toEqual([`GET ${server.url}/api/v1/namespaces/ns/secrets/s`]);
  });

  it('sends the proxy credentials from the URL as Proxy-Authorization, and never puts them in a message', async () => {
    const server = await apiServer();
    const proxy = await startProxy({ refuse: 407 });
    const proxyUrl = `http://agent:p%40ss-hunter2@127.0.0.1:${proxy.port}`;
    const c = client(kubeconfig({ caPem: ipOnly.caPem, server: server.url, proxyUrl }));
    const err = (await c
      .source(resources.secrets)
      .get('ns', 's')
      .catch((e: unknown) => e)) as Error;
    expect(proxy.seen.authorization).toEqual([`Basic ${Buffer.from('agent:p@ss-hunter2').toString('base64')}`]);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.message).toBe(`proxy ${proxy.url} refused CONNECT to ${new URL(server.url).host}: 407 Not Allowed Here`);
    expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toContain('hunter2');
  });

  it('gives up at requestTimeout on a proxy that never answers CONNECT, naming the proxy', async () => {
    const server = await apiServer();
    const proxy = await startProxy({ stall: true });
    const clock = new FakeClock();
    const c = client(kubeconfig({ caPem: ipOnly.caPem, server: server.url, proxyUrl: proxy.url }), { clock, requestTimeout: 500 });
    const get = outcome(c.source(resources.secrets).get('ns', 's'));
    await until(() => proxy.seen.connects.length === 1, 'the CONNECT');
    await clock.advance(500);
    await until(() => get.state === 'rejected', 'the get to fail');
    expect(get.error).toBeInstanceOf(StatusError);
    expect((get.error as Error).message).toMatch(new RegExp(`still connecting to ${server.url} \\(waiting for the answer of proxy ${proxy.url} to CONNECT\\)`));
  });

  for (const protocol of ['h2', 'http/1.1'] as const) {
    it(`close() while the proxy sits on a CONNECT leaves no socket at the proxy and no timer (${protocol})`, async () => {
      const server = await apiServer();
      const proxy = await startProxy({ stall: true });
      const clock = new FakeClock();
      const c = client(kubeconfig({ caPem: ipOnly.caPem, server: server.url, proxyUrl: proxy.url }), { clock, http2: protocol === 'h2' });
      const get = outcome(c.source(resources.secrets).get('ns', 's'));
      await until(() => proxy.seen.connects.length === 1, 'the CONNECT');
      await c.close();
      await until(() => proxy.sockets.size === 0 && get.state === 'rejected', 'the tunnel attempt to end');
      expect(get.error).toBeInstanceOf(TransportError);
      expect(clock.pendingTimers()).toBe(0);
    });
  }

  it.each([
    ['socks5://127.0.0.1:1080', 'socks5'],
    ['socks5h://127.0.0.1:1080', 'socks5h'],
    ['https://proxy.example:3128', 'https'],
  ])('%s is refused when the client is made, not bypassed', (proxyUrl, scheme) => {
    expect(() => client(kubeconfig({ server: 'https://127.0.0.1:6443', proxyUrl }))).toThrow(
      new RegExp(`proxy-url .* uses ${scheme}, which refwatch does not support: only http:// proxies \\(HTTP CONNECT\\) are`),
    );
  });
});
