// Items 11 and 12 of issue 8: the kubeconfig's server as users write it. `127.0.0.1:PORT` or a
// bare host is accepted as kubectl accepts it, with https://, and anything else is refused with
// a message that says what is wrong; a server URL with a path prefix keeps it on every request
// and watch.
import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import http2 from 'node:http2';
import { KubeClient } from '../../../lib/api/kube-client.js';
import { resources } from '../../../lib/api/resource.js';
import { ApiServer } from '../../../lib/testing/api-server/index.js';
import { startHttpProxy } from './http-proxy.js';
import { EMPTY_LIST, certs, hostileRig, kubeconfig, listen, onCleanup } from './servers.js';

hostileRig();

function client(kc: KubeConfig, opts: ConstructorParameters<typeof KubeClient>[1] = {}): KubeClient {
  const c = new KubeClient(kc, opts);
  onCleanup(() => c.close());
  return c;
}

async function apiServer(): Promise<ApiServer> {
  const server = await ApiServer.start({ certificates: certs });
  onCleanup(() => server.stop());
  server.storage.create(resources.secrets, { metadata: { namespace: 'ns', name: 's' } });
  return server;
}

describe('a server address without a scheme', () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    it(`${host}:PORT with a certificate-authority is reached over https, as kubectl does`, async () => {
      const server = await apiServer();
      const c = client(kubeconfig({ server: `${host}:${new URL(server.url).port}` }));
      expect(c.server.protocol).toBe('https:');
      await expect(c.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
      expect(c.stats().protocols).toEqual(['h2']);
    });
  }

  it('127.0.0.1:PORT with a proxy-url is reached through the proxy (client-node alone refuses that pair)', async () => {
    const server = await apiServer();
    const proxy = await startHttpProxy();
    onCleanup(() => proxy.close());
    const c = client(kubeconfig({ server: `127.0.0.1:${new URL(server.url).port}`, proxyUrl: proxy.url }));
    await expect(c.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(proxy.seen.connects).toEqual([new URL(server.url).host]);
  });

  it('127.0.0.1:PORT without any TLS setting still gets https (kube-apiserver has no insecure port)', () => {
    expect(client(kubeconfig({ server: '127.0.0.1:6443', ca: false })).server.href).toBe('https://127.0.0.1:6443/');
  });

  it('a bare host gets https and the default port', () => {
    expect(client(kubeconfig({ server: 'kube.example.internal' })).server.href).toBe('https://kube.example.internal/');
    expect(client(kubeconfig({ server: '[::1]:6443' })).server.href).toBe('https://[::1]:6443/');
  });

  it.each([
    [
      'kube.example:6443/some/path',
      /the kubeconfig's server "kube\.example:6443\/some\/path" is neither a URL \(https:\/\/host:port, optionally with a path\) nor a host:port pair/,
    ],
    ['https://exa mple', /the kubeconfig's server "https:\/\/exa mple" is neither a URL/],
    ['::::', /the kubeconfig's server "::::" is neither a URL/],
    ['ftp://kube.example', /unsupported server address "ftp:\/\/kube\.example": expected https:\/\/ or http:\/\//],
    ['https://kube.example/?watch=1', /has a query or fragment/],
    ['https://admin:hunter2@kube.example', /server address for https:\/\/kube\.example carries user info/],
  ])('%s is refused with a message that says what is wrong', (server, message) => {
    let err: unknown;
    try {
      client(kubeconfig({ server }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).not.toBe('TypeError');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('a server URL with a path prefix', () => {
  const PREFIX = '/k8s/clusters/c-m-abc123';

  /** Answers only under PREFIX, like a Rancher-style proxy; records every path it is asked for. */
  async function prefixedServer() {
    const paths: string[] = [];
    const server = http2.createSecureServer({ key: certs.keyPem, cert: certs.certPem, allowHTTP1: true }, (req, res) => {
      const path = req.url ?? '';
      paths.push(path);
      if (!path.startsWith(`${PREFIX}/api/v1/`)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (path.includes('watch=true')) res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 's', namespace: 'ns', resourceVersion: '2' } } })}\n`);
      else if (path.includes('/secrets/s')) res.end(JSON.stringify({ kind: 'Secret', metadata: { name: 's', namespace: 'ns' } }));
      else res.end(EMPTY_LIST);
    });
    const listening = await listen(server);
    return { port: listening.port, paths };
  }

  for (const protocol of ['h2', 'http/1.1'] as const) {
    for (const trailing of ['', '/']) {
      it(`keeps the prefix on gets, lists and watches (${protocol}, ${trailing ? 'with' : 'without'} a trailing slash)`, async () => {
        const server = await prefixedServer();
        const c = client(kubeconfig({ server: `https://127.0.0.1:${server.port}${PREFIX}${trailing}` }), { http2: protocol === 'h2' });
        const secrets = c.source(resources.secrets);
        await expect(secrets.get('ns', 's')).resolves.toMatchObject({ kind: 'Secret' });
        await expect(secrets.list('ns')).resolves.toMatchObject({ items: [] });
        const it = secrets.watch('ns', { resourceVersion: '1' })[Symbol.asyncIterator]();
        await expect(it.next()).resolves.toMatchObject({ value: { type: 'ADDED' } });
        await it.return?.();
        expect(server.paths).toHaveLength(3);
        for (const p of server.paths) expect(p.startsWith(`${PREFIX}/api/v1/namespaces/ns/secrets`)).toBe(true);
        expect(c.stats().protocols).toEqual([protocol]);
      });
    }
  }
});
