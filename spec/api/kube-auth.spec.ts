// Auth from client-node's KubeConfig, end to end against the embedded API server: in-cluster
// config (service-account token file and CA), an exec plugin whose credential rotates (picked
// up after a 401), and client certificates reaching the TLS layer.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeAuth, tlsIdentity, type TlsMaterial } from '../../lib/api/kube-auth.js';
import { rotatingExecPlugin } from './exec-plugin.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import { resources } from '../../lib/api/resource.js';
import { ApiServer, generateServingCertificates, type ServingCertificates } from '../../lib/testing/api-server/index.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';

let certificates: ServingCertificates;
let dir: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  certificates = await generateServingCertificates();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  dir = mkdtempSync(path.join(tmpdir(), 'refwatch-auth-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(tokens: Record<string, string>): Promise<ApiServer> {
  const server = await ApiServer.start({ certificates, tokens });
  cleanups.push(() => server.stop());
  server.storage.create(resources.secrets, { metadata: { namespace: 'ns', name: 's' } });
  return server;
}

describe('KubeConfig auth through KubeClient', () => {
  it('works with in-cluster config: the service-account token file and CA', async () => {
    const server = await serve({ 'sa-token': 'system:serviceaccount:ns:agent' });
    const root = tempDir();
    const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), 'sa-token');
    writeFileSync(path.join(sa, 'ca.crt'), server.caPem!);
    writeFileSync(path.join(sa, 'namespace'), 'ns');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = String(new URL(server.url).port);
    cleanups.push(() => {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const kc = new KubeConfig();
    kc.loadFromCluster(root);
    const client = new KubeClient(kc);
    cleanups.push(() => client.close());
    await expect(client.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(client.stats().protocols).toEqual(['h2']);
  });

  it('runs an exec plugin, and runs it again after a 401 to pick up a rotated credential', async () => {
    const server = await serve({ 'token-2': 'agent' });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: server.url, caData: Buffer.from(server.caPem!).toString('base64') }],
      users: [{ name: 'u', exec: rotatingExecPlugin(tempDir()) }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = new KubeClient(kc);
    cleanups.push(() => client.close());
    await expect(client.source(resources.secrets).get('ns', 's')).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(server.requests.map((r) => r.code)).toEqual([401, 200]);
  });

  it('passes client certificates to TLS, and pools connections per TLS identity', async () => {
    const other = await generateServingCertificates();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(certificates.caPem).toString('base64') }],
      users: [{ name: 'u', certData: Buffer.from(other.certPem).toString('base64'), keyData: Buffer.from(other.keyPem).toString('base64') }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const clock = new FakeClock();
    const auth = new KubeAuth(kc, clock);
    const first = await auth.resolve();
    expect(String(first.tls.cert)).toContain('BEGIN CERTIFICATE');
    expect(String(first.tls.key)).toContain('PRIVATE KEY');
    expect(first.tls.rejectUnauthorized).toBe(true);
    expect(first.headers.authorization).toBeUndefined();

    const plain = new KubeConfig();
    plain.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(certificates.caPem).toString('base64') }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const second = await new KubeAuth(plain, clock).resolve();
    expect(second.headers.authorization).toBe('Bearer t');
    expect(second.tls.identity).not.toBe(first.tls.identity);
  });

  it('gives TLS material that differs in any field, or only in where its bytes are split, another pool identity', () => {
    const base = { ca: 'ca-pem', cert: 'cert-pem', key: 'key-pem', servername: 'api.example', rejectUnauthorized: true };
    const variants: Array<Omit<TlsMaterial, 'identity'>> = [
      base,
      { ...base, ca: undefined },
      { ...base, ca: '-' },
      { ...base, ca: 'ca-pemc', cert: 'ert-pem' },
      { ...base, ca: Buffer.from('other-ca') },
      { ...base, cert: undefined },
      { ...base, key: 'other-key' },
      { ...base, servername: undefined },
      { ...base, servername: 'other.example' },
      { ...base, rejectUnauthorized: false },
      { rejectUnauthorized: true },
    ];
    const identities = variants.map(tlsIdentity);
    expect(new Set(identities).size).toBe(variants.length);
    for (const id of identities) expect(id).toMatch(/^[0-9a-f]{64}$/);
    // The same bytes as a string or a Buffer are the same material.
    expect(tlsIdentity({ ...base, ca: Buffer.from('ca-pem') })).toBe(tlsIdentity(base));
  });

  it('gives two kubeconfigs that differ only in their CA different pool identities', async () => {
    const other = await generateServingCertificates();
    const withCa = (pem: string) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(pem).toString('base64') }],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      return new KubeAuth(kc, new FakeClock()).resolve();
    };
    const [a, b] = await Promise.all([withCa(certificates.caPem), withCa(other.caPem)]);
    expect(a.headers).toEqual(b.headers);
    expect(a.tls.identity).not.toBe(b.tls.identity);
  });

  it('refuses a kubeconfig without a usable server, with a clear message', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
    expect(() => new KubeClient(kc)).toThrow('the kubeconfig has no current cluster with a server address');
  });
});
