// Which kubeconfigs share a client: every field that decides trust or identity, one at a time,
// makes a kubeconfig with the same cluster, user and context names a client of its own; an
// identical kubeconfig (another object, fields in another order, another context name or
// namespace) shares. Then the copy a
// shared client works from, and the credentials each client actually sends.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubeConfigIdentity, snapshotKubeConfig } from '../../lib/api/config-identity.js';
import { KubeClient, closeSharedClients } from '../../lib/api/kube-client.js';
import { kubeSource } from '../../lib/api/kube-source.js';
import { resources } from '../../lib/api/resource.js';
import { rotatingExecPlugin } from './exec-plugin.js';

type Options = { cluster: Record<string, unknown>; user: Record<string, unknown>; context: Record<string, unknown> };

/** The common case the issue describes: everything named "default". */
function base(): Options {
  return {
    cluster: { name: 'default', server: 'https://127.0.0.1:6443', caData: Buffer.from('ca-one').toString('base64'), skipTLSVerify: false },
    user: { name: 'default', token: 'token-one' },
    context: { name: 'default', cluster: 'default', user: 'default' },
  };
}

function kubeconfig(opts: Options): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [opts.cluster], users: [opts.user], contexts: [opts.context], currentContext: opts.context.name });
  return kc;
}

function with_(change: (o: Options) => void): KubeConfig {
  const o = base();
  change(o);
  return kubeconfig(o);
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await closeSharedClients();
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A plain-HTTP server that records the Authorization header of every request and answers an
 * empty list, or a 401 Status for the credentials `refuse` names.
 */
async function recordingServer(refuse: (authorization: string) => boolean = () => false): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const authorization = String(req.headers.authorization);
    seen.push(authorization);
    const code = refuse(authorization) ? 401 : 200;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(code === 200 ? { kind: 'List', metadata: { resourceVersion: '1' }, items: [] } : { kind: 'Status', code, reason: 'Unauthorized', message: 'Unauthorized' }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('KubeClient.shared', () => {
  const differing: Array<[string, (o: Options) => void]> = [
    ['server', (o) => (o.cluster.server = 'https://127.0.0.1:6444')],
    ['certificate-authority-data', (o) => (o.cluster.caData = Buffer.from('ca-two').toString('base64'))],
    ['certificate-authority (a file)', (o) => (delete o.cluster.caData, (o.cluster.caFile = '/etc/other-ca.crt'))],
    ['insecure-skip-tls-verify', (o) => (o.cluster.skipTLSVerify = true)],
    ['tls-server-name', (o) => (o.cluster.tlsServerName = 'other.example')],
    ['proxy-url', (o) => (o.cluster.proxyUrl = 'http://proxy.example:3128')],
    ['token', (o) => (o.user.token = 'token-two')],
    ['token file (auth-provider tokenFile)', (o) => (delete o.user.token, (o.user.authProvider = { name: 'tokenFile', config: { tokenFile: '/var/run/other/token' } }))],
    ['client-certificate-data', (o) => (o.user.certData = Buffer.from('cert-two').toString('base64'))],
    ['client-certificate (a file)', (o) => (o.user.certFile = '/etc/client.crt')],
    ['client-key-data', (o) => (o.user.keyData = Buffer.from('key-two').toString('base64'))],
    ['client-key (a file)', (o) => (o.user.keyFile = '/etc/client.key')],
    ['username', (o) => (o.user.username = 'alice')],
    ['password', (o) => ((o.user.username = 'alice'), (o.user.password = 'other'))],
    ['exec command', (o) => (o.user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'other-plugin', args: [] })],
    ['exec args', (o) => (o.user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'plugin', args: ['--tenant=b'] })],
    ['exec env', (o) => (o.user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'plugin', args: [], env: [{ name: 'TENANT', value: 'b' }] })],
    ['auth-provider config', (o) => (o.user.authProvider = { name: 'oidc', config: { 'client-id': 'b', 'id-token': 'x' } })],
    ['as (impersonation)', (o) => (o.user.impersonateUser = 'system:admin')],
  ];

  for (const [field, change] of differing) {
    it(`gives a kubeconfig that differs only in ${field} a client of its own`, () => {
      const first = KubeClient.shared(kubeconfig(base()));
      const other = KubeClient.shared(with_(change));
      expect(other).not.toBe(first);
      expect(KubeClient.shared(with_(change))).toBe(other);
    });
  }

  it('shares one client between kubeconfig objects with the same content, whatever their field order', () => {
    const o = base();
    const reordered = kubeconfig({
      cluster: Object.fromEntries(Object.entries(o.cluster).reverse()),
      user: Object.fromEntries(Object.entries(o.user).reverse()),
      context: Object.fromEntries(Object.entries(o.context).reverse()),
    });
    expect(KubeClient.shared(reordered)).toBe(KubeClient.shared(kubeconfig(base())));
    // Other clusters, users and contexts in the file do not matter, only the current ones.
    const bigger = kubeconfig(base());
    bigger.addCluster({ name: 'unused', server: 'https://10.0.0.1', skipTLSVerify: true });
    expect(KubeClient.shared(bigger)).toBe(KubeClient.shared(reordered));
    // Nor the context's name or namespace: it only points at the cluster and user.
    expect(KubeClient.shared(with_((o) => Object.assign(o.context, { name: 'elsewhere', namespace: 'other' })))).toBe(KubeClient.shared(reordered));
  });

  it('gives kubeconfigs with different custom authenticators, or a subclass, clients of their own', () => {
    const plain = KubeClient.shared(kubeconfig(base()));
    const authenticator = { isAuthProvider: () => false, applyAuthentication: async () => {} };
    const withA = kubeconfig(base());
    withA.addAuthenticator(authenticator);
    const withB = kubeconfig(base());
    withB.addAuthenticator({ ...authenticator });
    const withAagain = kubeconfig(base());
    withAagain.addAuthenticator(authenticator);
    class TenantConfig extends KubeConfig {}
    const sub = new TenantConfig();
    sub.loadFromOptions({ clusters: [base().cluster], users: [base().user], contexts: [base().context], currentContext: 'default' });
    const clients = [plain, KubeClient.shared(withA), KubeClient.shared(withB), KubeClient.shared(sub)];
    expect(new Set(clients).size).toBe(4);
    expect(KubeClient.shared(withAagain)).toBe(clients[1]);
  });

  it('hands out a new client after the kubeconfig changes, and the old client keeps the old credentials', async () => {
    const { url, seen } = await recordingServer();
    const kc = with_((o) => Object.assign(o.cluster, { server: url, skipTLSVerify: true, caData: undefined }));
    const before = kubeSource(kc, resources.secrets);
    await before.list('ns');
    (kc.getCurrentUser() as { token?: string }).token = 'token-two';
    const after = kubeSource(kc, resources.secrets);
    await after.list('ns');
    await before.list('ns');
    expect(seen).toEqual(['Bearer token-one', 'Bearer token-two', 'Bearer token-one']);
  });

  it('keeps one client for an exec plugin whose credential rotates, and that client picks up the new one', async () => {
    const { url, seen } = await recordingServer((authorization) => authorization === 'Bearer token-1');
    const dir = mkdtempSync(path.join(tmpdir(), 'refwatch-identity-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const exec = rotatingExecPlugin(dir);
    const kc = () => with_((o) => (Object.assign(o.cluster, { server: url, skipTLSVerify: true, caData: undefined }), delete o.user.token, (o.user.exec = exec)));
    const client = KubeClient.shared(kc());
    await kubeSource(kc(), resources.secrets).list('ns');
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(KubeClient.shared(kc())).toBe(client);
    expect(client.stats().requests.list).toBe(1);
  });

  it('sends each kubeconfig its own token although both users are named "default"', async () => {
    const { url, seen } = await recordingServer();
    const tenant = (token: string) => with_((o) => (Object.assign(o.cluster, { server: url, skipTLSVerify: true, caData: undefined }), (o.user.token = token)));
    await kubeSource(tenant('tenant-a-token'), resources.secrets).list('ns');
    await kubeSource(tenant('tenant-b-token'), resources.configMaps).list('ns');
    expect(seen).toEqual(['Bearer tenant-a-token', 'Bearer tenant-b-token']);
  });
});

describe('kubeConfigIdentity and snapshotKubeConfig', () => {
  it('is a sha256 digest, equal for equal content', () => {
    expect(kubeConfigIdentity(kubeconfig(base()))).toMatch(/^[0-9a-f]{64}$/);
    expect(kubeConfigIdentity(kubeconfig(base()))).toBe(kubeConfigIdentity(kubeconfig(base())));
  });

  it('copies the current context, cluster and user, so changing the original changes nothing in the copy', () => {
    const kc = kubeconfig(base());
    const copy = snapshotKubeConfig(kc);
    (kc.getCurrentUser() as { token?: string }).token = 'changed';
    (kc.getCurrentCluster() as { server: string }).server = 'https://elsewhere';
    kc.setCurrentContext('missing');
    expect((copy.getCurrentUser() as User).token).toBe('token-one');
    expect(copy.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(copy.getContexts()).toHaveLength(1);
  });

  it('keeps the class and the added authenticators of the original', async () => {
    class Custom extends KubeConfig {}
    const kc = new Custom();
    kc.loadFromOptions({ clusters: [base().cluster], users: [{ name: 'default', custom: true }], contexts: [base().context], currentContext: 'default' });
    kc.addAuthenticator({
      isAuthProvider: (user: User) => (user as { custom?: boolean }).custom === true,
      applyAuthentication: async (_user: User, opts: { headers?: Record<string, string> }) => {
        opts.headers = { ...opts.headers, Authorization: 'Bearer from-custom' };
      },
    });
    const copy = snapshotKubeConfig(kc);
    expect(copy).toBeInstanceOf(Custom);
    const opts: { headers?: Record<string, string> } = {};
    await copy.applyToHTTPSOptions(opts as never);
    expect(opts.headers?.Authorization).toBe('Bearer from-custom');
  });

  it('returns a kubeconfig without a current cluster as it is, so KubeClient can say what is missing', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
    expect(snapshotKubeConfig(kc)).toBe(kc);
    expect(() => KubeClient.shared(kc)).toThrow('the kubeconfig has no current cluster with a server address');
  });
});
