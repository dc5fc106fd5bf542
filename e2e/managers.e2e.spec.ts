// The managers against a real kube-apiserver and etcd: the three strategies for secrets and
// configmaps, immutable objects, server-side watch ends on unregister, a CRD, the RBAC-limited
// reader, TLS verification, and proxy-url.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig, type V1ConfigMap, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { TransportError } from '../lib/api/connection-pool.js';
import { isForbidden, isNotFound } from '../lib/api/errors.js';
import { KubeClient, closeSharedClients } from '../lib/api/kube-client.js';
import { kubeSource } from '../lib/api/kube-source.js';
import { resources, type ResourceType } from '../lib/api/resource.js';
import { SyncTimeoutError } from '../lib/manager/errors.js';
import { ConfigMapManager, SecretManager } from '../lib/manager/kind-managers.js';
import type { ChangeDetectionStrategy } from '../lib/manager/strategy.js';
import { WatchObjectStore } from '../lib/manager/watch-object-store.js';
import { generateClientCertificates, generateServingCertificates } from '../lib/testing/api-server/certificates.js';
import { startHttpProxy } from '../spec/api/hostile/http-proxy.js';
import { READER_NAMESPACE, type RealCluster } from './harness/cluster.js';
import { describeWithCluster, eventually, extraResources, prepareNamespaces, startCluster, writer } from './harness/fixtures.js';

const NS = 'e2e';
const FORBIDDEN_NS = 'reader-forbidden';
const STRATEGIES: ChangeDetectionStrategy[] = ['Watch', 'Cache', 'Get'];

function podUsing(ns: string, name: string, opts: { secrets?: string[]; configMaps?: string[] }): V1Pod {
  return {
    metadata: { namespace: ns, name, uid: `${name}-uid` },
    spec: {
      containers: [
        {
          name: 'app',
          envFrom: [...(opts.secrets ?? []).map((s) => ({ secretRef: { name: s } })), ...(opts.configMaps ?? []).map((c) => ({ configMapRef: { name: c } }))],
        },
      ],
    },
  };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describeWithCluster('refwatch against a real kube-apiserver', () => {
  let cluster: RealCluster;
  let admin: KubeClient;

  beforeAll(async () => {
    cluster = await startCluster();
    admin = new KubeClient(cluster.admin.kubeconfig);
    await prepareNamespaces(admin, [NS, FORBIDDEN_NS]);
  }, 180_000);

  afterAll(async () => {
    await admin?.close();
    await cluster?.stop();
  });

  for (const strategy of STRATEGIES) {
    it(`secret manager, ${strategy}: register, get, an update, a delete`, async () => {
      const name = `secret-${strategy.toLowerCase()}`;
      const secrets = writer<V1Secret>(admin, resources.secrets);
      await secrets.create(NS, { metadata: { name }, data: { v: b64('1') } });
      const client = new KubeClient(cluster.admin.kubeconfig);
      const manager = new SecretManager({ source: kubeSource(cluster.admin.kubeconfig, resources.secrets, { client }), strategy, ttl: 200 });
      try {
        const pod = podUsing(NS, `pod-${name}`, { secrets: [name] });
        manager.registerPod(pod);
        expect((await manager.getSecret(NS, name)).data).toEqual({ v: b64('1') });
        await secrets.patch(NS, name, { data: { v: b64('2') } });
        await eventually(async () => expect((await manager.getSecret(NS, name)).data).toEqual({ v: b64('2') }));
        await secrets.delete(NS, name);
        await eventually(async () => expect(isNotFound(await manager.getSecret(NS, name).catch((e) => e))).toBe(true));
        manager.unregisterPod(pod);
        if (strategy !== 'Get') await expect(manager.getSecret(NS, name)).rejects.toThrow(`object "${NS}"/"${name}" not registered`);
      } finally {
        await manager.close();
        await client.close();
      }
    });

    it(`configmap manager, ${strategy}: register, get, an update, a delete`, async () => {
      const name = `cm-${strategy.toLowerCase()}`;
      const configMaps = writer<V1ConfigMap>(admin, resources.configMaps);
      await configMaps.create(NS, { metadata: { name }, data: { v: '1' } });
      const client = new KubeClient(cluster.admin.kubeconfig);
      const manager = new ConfigMapManager({ source: kubeSource(cluster.admin.kubeconfig, resources.configMaps, { client }), strategy, ttl: 200 });
      try {
        manager.registerPod(podUsing(NS, `pod-${name}`, { configMaps: [name] }));
        expect((await manager.getConfigMap(NS, name)).data).toEqual({ v: '1' });
        await configMaps.patch(NS, name, { data: { v: '2' } });
        await eventually(async () => expect((await manager.getConfigMap(NS, name)).data).toEqual({ v: '2' }));
        await configMaps.delete(NS, name);
        await eventually(async () => expect(isNotFound(await manager.getConfigMap(NS, name).catch((e) => e))).toBe(true));
      } finally {
        await manager.close();
        await client.close();
      }
    });
  }

  it('an immutable secret stops its watch, and unregistering ends the watch on the server', async () => {
    const secrets = writer<V1Secret>(admin, resources.secrets);
    await secrets.create(NS, { metadata: { name: 'frozen' }, data: { v: b64('x') }, immutable: true });
    await secrets.create(NS, { metadata: { name: 'mutable' }, data: { v: b64('y') } });
    const baseline = await cluster.openWatches('secrets');
    const client = new KubeClient(cluster.admin.kubeconfig);
    const manager = new SecretManager({ source: client.source(resources.secrets) });
    try {
      const pod = podUsing(NS, 'pod-watchers', { secrets: ['frozen', 'mutable'] });
      manager.registerPod(pod);
      await manager.getSecret(NS, 'mutable');
      await manager.getSecret(NS, 'frozen');
      const store = manager.manager.store;
      expect(store.inspect(NS, 'frozen')).toMatchObject({ running: false, synced: true });
      expect(store.inspect(NS, 'mutable')).toMatchObject({ running: true, synced: true });
      // One watch left on the server for this manager: the mutable secret's.
      await eventually(async () => expect(await cluster.openWatches('secrets')).toBe(baseline + 1));
      manager.unregisterPod(pod);
      await eventually(async () => expect(await cluster.openWatches('secrets')).toBe(baseline));
      expect(client.stats().activeStreams).toBe(0);
    } finally {
      await manager.close();
      await client.close();
    }
  });

  it('watches a custom resource defined by a CRD', async () => {
    await writer(admin, extraResources.crds).create('', {
      metadata: { name: 'widgets.e2e.refwatch.io' },
      spec: {
        group: 'e2e.refwatch.io',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    const widgets: ResourceType = { group: 'e2e.refwatch.io', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
    const w = writer<{ metadata: { name: string }; spec: { size: number } }>(admin, widgets);
    await eventually(() => w.create(NS, { metadata: { name: 'gear' }, spec: { size: 1 } }), 30_000, 250); // until the CRD is served
    const client = new KubeClient(cluster.admin.kubeconfig);
    const store = new WatchObjectStore<{ spec?: { size?: number } }>({ source: client.source(widgets) });
    try {
      store.addReference(NS, 'gear', 'consumer');
      expect((await store.get(NS, 'gear')).spec?.size).toBe(1);
      const seen: Array<number | undefined> = [];
      const sub = store.changes(NS, 'gear').subscribe((obj) => seen.push(obj?.spec?.size));
      await w.patch(NS, 'gear', { spec: { size: 2 } });
      await eventually(() => expect(seen).toEqual([1, 2]));
      sub.unsubscribe();
      await expect(store.get(NS, 'missing').catch((e) => e.message)).resolves.toBe('object "e2e"/"missing" not registered');
    } finally {
      await store.close();
      await client.close();
    }
  });

  it('the RBAC-limited reader watches named objects in its namespace and gets 403, not a crash, elsewhere', async () => {
    const name = 'reader-secret';
    await writer<V1Secret>(admin, resources.secrets).create(READER_NAMESPACE, { metadata: { name }, data: { v: b64('r1') } });
    await writer<V1Secret>(admin, resources.secrets).create(FORBIDDEN_NS, { metadata: { name }, data: { v: b64('no') } });
    const client = new KubeClient(cluster.reader.kubeconfig);
    const watching = new SecretManager({ source: client.source(resources.secrets), strategy: 'Watch' });
    const getting = new SecretManager({ source: client.source(resources.secrets), strategy: 'Get' });
    try {
      watching.registerPod(podUsing(READER_NAMESPACE, 'reader-pod', { secrets: [name] }));
      expect((await watching.getSecret(READER_NAMESPACE, name)).data).toEqual({ v: b64('r1') });
      await writer<V1Secret>(admin, resources.secrets).patch(READER_NAMESPACE, name, { data: { v: b64('r2') } });
      await eventually(async () => expect((await watching.getSecret(READER_NAMESPACE, name)).data).toEqual({ v: b64('r2') }));

      const direct = await getting.getSecret(FORBIDDEN_NS, name).catch((e) => e);
      expect(isForbidden(direct)).toBe(true);
      expect(direct.code).toBe(403);
      expect(direct.message).not.toContain(b64('no'));

      watching.registerPod(podUsing(FORBIDDEN_NS, 'elsewhere', { secrets: [name] }));
      const waited = await watching.getSecret(FORBIDDEN_NS, name).catch((e) => e);
      expect(waited).toBeInstanceOf(SyncTimeoutError);
      expect(isForbidden(waited.cause)).toBe(true);
    } finally {
      await watching.close();
      await getting.close();
      await client.close();
    }
  });

  it('authenticates with a client certificate, and a certificate from another CA gets 401', async () => {
    await writer<V1Secret>(admin, resources.secrets).create(NS, { metadata: { name: 'for-cert-user' } });
    const client = new KubeClient(cluster.certAdmin.kubeconfig);
    const stranger = await generateClientCertificates({ name: 'cert-admin', groups: ['system:masters'] });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server: cluster.url, caData: Buffer.from(cluster.caPem).toString('base64') }],
      users: [{ name: 'stranger', certData: Buffer.from(stranger.certPem).toString('base64'), keyData: Buffer.from(stranger.keyPem).toString('base64') }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'stranger' }],
      currentContext: 'e2e',
    });
    const strangerClient = new KubeClient(kc);
    try {
      await expect(client.source(resources.secrets).get(NS, 'for-cert-user')).resolves.toMatchObject({ metadata: { name: 'for-cert-user' } });
      await expect(strangerClient.source(resources.secrets).get(NS, 'for-cert-user')).rejects.toMatchObject({ code: 401, reason: 'Unauthorized' });
    } finally {
      await client.close();
      await strangerClient.close();
    }
  });

  it('verifies TLS: a kubeconfig with the wrong CA fails with a clear error', async () => {
    const { caPem: wrongCa } = await generateServingCertificates();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server: cluster.url, caData: Buffer.from(wrongCa).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'admin', token: cluster.admin.token }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'admin' }],
      currentContext: 'e2e',
    });
    const client = new KubeClient(kc);
    try {
      const err = (await client
        .source(resources.secrets)
        .get(NS, 'anything')
        .catch((e: unknown) => e)) as TransportError;
      expect(err).toBeInstanceOf(TransportError);
      expect(err.message).toMatch(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
    } finally {
      await client.close();
    }
  });

  it('shares no client between kubeconfigs with the same names: an unrelated CA fails TLS, another token is its own user', async () => {
    await writer<V1Secret>(admin, resources.secrets).create(NS, { metadata: { name: 'shared-client-check' }, data: { v: b64('x') } });
    /** The admin's kubeconfig file as loaded, with one change: same cluster, user and context names. */
    const variant = (change: (config: { clusters: Array<{ cluster: Record<string, unknown> }>; users: Array<{ user: Record<string, unknown> }> }) => void) => {
      const config = JSON.parse(readFileSync(cluster.admin.kubeconfigPath, 'utf8'));
      change(config);
      const kc = new KubeConfig();
      kc.loadFromString(JSON.stringify(config));
      return kc;
    };
    try {
      // Another source with the right CA connects first (the shared client of the admin's kubeconfig).
      await expect(kubeSource<V1Secret>(cluster.admin.kubeconfig, resources.secrets).get(NS, 'shared-client-check')).resolves.toMatchObject({ data: { v: b64('x') } });
      const { caPem: unrelatedCa } = await generateServingCertificates();
      const wrongCa = variant((c) => (c.clusters[0].cluster['certificate-authority-data'] = Buffer.from(unrelatedCa).toString('base64')));
      const err = (await kubeSource(wrongCa, resources.secrets)
        .get(NS, 'shared-client-check')
        .catch((e: unknown) => e)) as TransportError;
      expect(err).toBeInstanceOf(TransportError);
      expect(err.message).toMatch(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
      // The reader's token under the admin's user name reads as the reader: 403 outside its namespace.
      const readerToken = variant((c) => (c.users[0].user.token = cluster.reader.token));
      const denied = await kubeSource(readerToken, resources.secrets)
        .get(NS, 'shared-client-check')
        .catch((e: unknown) => e);
      expect(isForbidden(denied)).toBe(true);
    } finally {
      await closeSharedClients();
    }
  });

  it("reaches kube-apiserver through the kubeconfig's proxy-url (HTTP/2 inside a CONNECT tunnel) and at a server given as host:port", async () => {
    const proxy = await startHttpProxy();
    const hostPort = new URL(cluster.url).host;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server: hostPort, caData: Buffer.from(cluster.caPem).toString('base64'), proxyUrl: proxy.url }],
      users: [{ name: 'admin', token: cluster.admin.token }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'admin' }],
      currentContext: 'e2e',
    });
    const client = new KubeClient(kc);
    const store = new WatchObjectStore<V1Secret>({ source: client.source(resources.secrets) });
    try {
      const name = 'through-the-proxy';
      store.addReference(NS, name, 'pod');
      await writer<V1Secret>(admin, resources.secrets).create(NS, { metadata: { name }, data: { v: b64('proxied') } });
      await eventually(async () => expect((await store.get(NS, name)).data).toEqual({ v: b64('proxied') }));
      expect(client.server.href).toBe(`https://${hostPort}/`);
      expect(client.stats()).toMatchObject({ protocols: ['h2'], http2Connections: 1 });
      expect(proxy.seen.connects).toEqual([hostPort]);
    } finally {
      await store.close();
      await client.close();
      await proxy.close();
    }
  });

  it('talks HTTP/2 to kube-apiserver and multiplexes many watches on few connections', async () => {
    const client = new KubeClient(cluster.admin.kubeconfig);
    const store = new WatchObjectStore<V1Secret>({ source: client.source(resources.secrets) });
    try {
      for (let i = 0; i < 150; i++) store.addReference(NS, `absent-${i}`, 'pod');
      await Promise.all(Array.from({ length: 150 }, (_, i) => store.get(NS, `absent-${i}`).catch((e) => e)));
      await eventually(() => expect(client.stats().activeStreams).toBe(150));
      expect(client.stats()).toMatchObject({ protocols: ['h2'], http2Connections: 2 });
    } finally {
      await store.close();
      await client.close();
    }
  });
});
