// KubeClient and kubeSource over real HTTP against the embedded API server: KubeConfig auth,
// get/list/watch for built-in and custom resources, Status errors, 429 Retry-After, 401,
// request timeouts, malformed watch lines, HTTP/1.1 quiet watches, the shared client.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransportError } from '../../lib/api/connection-pool.js';
import { StatusError, isNotFound, isTooManyRequests } from '../../lib/api/errors.js';
import { KubeClient, closeSharedClients } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { InvalidNameError } from '../../lib/api/names.js';
import { kubeSource } from '../../lib/api/kube-source.js';
import { resources, type ResourceType } from '../../lib/api/resource.js';
import type { WatchEvent } from '../../lib/api/source.js';
import { ApiServer, generateServingCertificates, type ServingCertificates } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';
import { LEVEL, capturePino } from '../util/log-capture.js';

const widgets: ResourceType = { group: 'example.refwatch.io', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
const clusterThings: ResourceType = { group: 'example.refwatch.io', version: 'v1', resource: 'things', kind: 'Thing', namespaced: false };

let certificates: ServingCertificates;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  certificates = await generateServingCertificates();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(opts: Parameters<typeof ApiServer.start>[0] = {}) {
  const server = await ApiServer.start({ certificates, resources: [widgets, clusterThings], ...opts });
  cleanups.push(() => server.stop());
  return server;
}

function kubeconfigFor(server: ApiServer, token?: string): KubeConfig {
  const config = server.kubeconfig() as unknown as { users: Array<{ user: { token?: string } }> };
  if (token !== undefined) config.users[0].user.token = token;
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(config));
  return kc;
}

function clientFor(server: ApiServer, opts: ConstructorParameters<typeof KubeClient>[1] = {}, token?: string): KubeClient {
  const client = new KubeClient(kubeconfigFor(server, token), opts);
  cleanups.push(() => client.close());
  return client;
}

/** Reads events until `n` arrived (the watch stays open). */
async function take<T>(it: AsyncIterator<WatchEvent<T>>, n: number): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  while (out.length < n) {
    const step = await it.next();
    if (step.done) break;
    out.push(step.value);
  }
  return out;
}

describe('KubeClient', () => {
  it("gets, lists and watches built-in objects over HTTP/2 with the kubeconfig's CA and token", async () => {
    const server = await serve({ tokens: { 'good-token': 'admin' } });
    const client = clientFor(server);
    const secrets = client.source<V1Secret>(resources.secrets);
    const writer = new ObjectWriter<V1Secret>(client, resources.secrets);
    await writer.create('ns', { metadata: { name: 'a', labels: { app: 'x' } }, data: { k: 'dg==' } });
    await writer.create('ns', { metadata: { name: 'b' } });

    await expect(secrets.get('ns', 'a')).resolves.toMatchObject({ kind: 'Secret', data: { k: 'dg==' } });
    const list = await secrets.list('ns', { fieldSelector: 'metadata.name=a' });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(['a']);
    expect((await secrets.list('ns', { labelSelector: 'app=x' })).items).toHaveLength(1);

    const it = secrets.watch('ns', { resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=a' })[Symbol.asyncIterator]();
    await writer.patch('ns', 'a', { data: { k: 'dzI=' } });
    const [event] = await take(it, 1);
    expect(event).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'a' }, data: { k: 'dzI=' } } });
    await it.return?.();

    expect(client.stats()).toMatchObject({ protocols: ['h2'], http2Connections: 1 });
    expect(server.requests.countBy('get')).toBe(1);
    expect(server.requests.countBy('watch')).toBe(1);
  });

  it('serves namespaced and cluster-scoped custom resources', async () => {
    const server = await serve();
    const client = clientFor(server);
    await new ObjectWriter(client, widgets).create('ns', { metadata: { name: 'w' }, spec: { size: 3 } });
    await new ObjectWriter(client, clusterThings).create('', { metadata: { name: 't' } });
    await expect(client.source<{ spec: { size: number } }>(widgets).get('ns', 'w')).resolves.toMatchObject({ apiVersion: 'example.refwatch.io/v1', spec: { size: 3 } });
    await expect(client.source(clusterThings).get('', 't')).resolves.toMatchObject({ kind: 'Thing' });
    expect((await client.source(clusterThings).list('')).items).toHaveLength(1);
  });

  it("turns a Status body into a StatusError with the server's code, reason and message", async () => {
    const server = await serve();
    const client = clientFor(server);
    const err = (await client
      .source(resources.secrets)
      .get('ns', 'missing')
      .catch((e: unknown) => e)) as StatusError;
    expect(err).toBeInstanceOf(StatusError);
    expect(isNotFound(err)).toBe(true);
    expect([err.code, err.reason, err.message]).toEqual([404, 'NotFound', 'secrets "missing" not found']);
    const writer = new ObjectWriter<V1Secret>(client, resources.secrets);
    await writer.create('ns', { metadata: { name: 'dup' } });
    await expect(writer.create('ns', { metadata: { name: 'dup' } })).rejects.toMatchObject({ code: 409, reason: 'AlreadyExists' });
  });

  it('retries a 429 after Retry-After, on its clock, and gives up after maxRetries', async () => {
    const server = await serve();
    const clock = new FakeClock();
    const client = clientFor(server, { clock, maxRetries: 2 });
    new ObjectWriter<V1Secret>(client, resources.secrets);
    server.storage.create(resources.secrets, { metadata: { name: 's', namespace: 'ns' } });

    server.faults.failNext(2, { code: 429, retryAfterSeconds: 3, verbs: ['get'] });
    const get = client.source(resources.secrets).get('ns', 's');
    await settle(10);
    await clock.advance(3_000);
    await settle(10);
    await clock.advance(3_000);
    await expect(get).resolves.toMatchObject({ metadata: { name: 's' } });
    expect(server.requests.countBy('get')).toBe(3);
    expect(client.stats().throttled).toBe(2);

    server.faults.failNext(3, { code: 429, retryAfterSeconds: 1, verbs: ['get'] });
    const failing = client
      .source(resources.secrets)
      .get('ns', 's')
      .catch((e) => e);
    for (let i = 0; i < 2; i++) {
      await settle(10);
      await clock.advance(1_000);
    }
    const err = (await failing) as StatusError;
    expect(isTooManyRequests(err)).toBe(true);
    expect(err.retryAfterSeconds).toBe(1);
  });

  it('does not retry a 500', async () => {
    const server = await serve();
    const client = clientFor(server);
    server.faults.failNext(1, { code: 500, verbs: ['list'] });
    await expect(client.source(resources.secrets).list('ns')).rejects.toMatchObject({ code: 500 });
    expect(server.requests.countBy('list')).toBe(1);
  });

  it('asks the kubeconfig again after a 401 and reports the 401 if it persists', async () => {
    const server = await serve({ tokens: { 'good-token': 'admin' } });
    const client = clientFor(server, {}, 'wrong-token');
    const err = await client
      .source(resources.secrets)
      .get('ns', 's')
      .catch((e) => e);
    expect(err).toMatchObject({ code: 401, reason: 'Unauthorized' });
    expect(server.requests.length).toBe(2); // the first answer, and the retry with a fresh credential
  });

  it('gives up on a get/list after requestTimeout', async () => {
    const clock = new FakeClock();
    const server = await serve({ clock });
    const client = clientFor(server, { clock, requestTimeout: 10_000 });
    server.faults.delayLists(60_000);
    const list = client
      .source(resources.secrets)
      .list('ns')
      .catch((e) => e);
    await settle(10);
    await clock.advance(10_000);
    const err = await list;
    expect(err).toMatchObject({ code: 504, reason: 'Timeout' });
    expect(err.message).toMatch(/did not complete within 10000 ms/);
  });

  it('skips and counts malformed watch lines and keeps delivering events', async () => {
    const server = await serve();
    const client = clientFor(server);
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: server.storage.resourceVersion })[Symbol.asyncIterator]();
    const first = it.next();
    await settle(10);
    server.faults.garbageOnWatch();
    server.storage.create(resources.secrets, { metadata: { name: 'after-garbage', namespace: 'ns' } });
    expect(await first).toMatchObject({ value: { type: 'ADDED', object: { metadata: { name: 'after-garbage' } } } });
    expect(client.stats().malformedWatchLines).toBe(1);
    await it.return?.();
  });

  it('hands a pino logger its fields: the skipped watch line is logged with its path', async () => {
    const server = await serve();
    const { logger, lines } = capturePino();
    const client = clientFor(server, { logger });
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: server.storage.resourceVersion })[Symbol.asyncIterator]();
    const first = it.next();
    await settle(10);
    server.faults.garbageOnWatch();
    server.storage.create(resources.secrets, { metadata: { name: 'after-garbage', namespace: 'ns' } });
    await first;
    expect(lines).toContainEqual(expect.objectContaining({ level: LEVEL.warn, msg: 'skipping a malformed watch line', path: '/api/v1/namespaces/ns/secrets' }));
    await it.return?.();
  });

  it('ends an HTTP/1.1 watch that stays silent for watchQuietTimeout, as a server close', async () => {
    const clock = new FakeClock();
    const server = await serve({ clock: new FakeClock() }); // the server never times it out
    const client = clientFor(server, { clock, http2: false, watchQuietTimeout: 30_000 });
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: server.storage.resourceVersion, timeoutSeconds: 600 })[Symbol.asyncIterator]();
    const next = it.next();
    await settle(10);
    expect(server.openWatches).toBe(1);
    expect(client.stats().protocols).toEqual(['http/1.1']);
    await clock.advance(30_000);
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });

  it('ends a watch the server keeps open past its timeoutSeconds plus the grace', async () => {
    const clock = new FakeClock();
    const server = await serve({ clock: new FakeClock() });
    const client = clientFor(server, { clock, watchDeadlineGrace: 30_000 });
    const it = client.source(resources.secrets).watch('ns', { resourceVersion: server.storage.resourceVersion, timeoutSeconds: 60 })[Symbol.asyncIterator]();
    const next = it.next();
    await settle(10);
    await clock.advance(89_000);
    expect(server.openWatches).toBe(1);
    await clock.advance(1_000);
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    await settle(10);
    expect(server.openWatches).toBe(0);
  });

  for (const http2 of [true, false]) {
    it(`ends an open watch when the caller's signal fires (${http2 ? 'HTTP/2' : 'HTTP/1.1'})`, async () => {
      const server = await serve();
      const client = clientFor(server, { http2 });
      const caller = new AbortController();
      const opts = { resourceVersion: server.storage.resourceVersion, signal: caller.signal };
      const it = client.source(resources.secrets).watch('ns', opts)[Symbol.asyncIterator]();
      const next = it.next();
      for (let i = 0; i < 100 && server.openWatches === 0; i++) await settle(10);
      expect(server.openWatches).toBe(1);
      caller.abort();
      await expect(next).resolves.toEqual({ value: undefined, done: true });
      for (let i = 0; i < 100 && server.openWatches > 0; i++) await settle(10);
      expect(server.openWatches).toBe(0);
      expect(client.stats().activeStreams).toBe(0);
    });
  }

  it('keeps no timer per open watch: twenty watches run on the timers one does', async () => {
    const clock = new FakeClock();
    const server = await serve({ clock: new FakeClock() });
    const client = clientFor(server, { clock });
    const open = async (n: number, total: number) => {
      const its = Array.from({ length: n }, () =>
        client.source(resources.secrets).watch('ns', { resourceVersion: server.storage.resourceVersion, timeoutSeconds: 60 })[Symbol.asyncIterator](),
      );
      const nexts = its.map((it) => it.next());
      for (let i = 0; i < 100 && client.stats().activeStreams < total; i++) await settle(10);
      expect(client.stats().activeStreams).toBe(total);
      return { timers: clock.pendingTimers(), its, nexts };
    };
    const one = await open(1, 1);
    const more = await open(19, 20);
    expect(more.timers).toBe(one.timers);
    // ...and the one deadline timer still ends all of them, once the server's time is up.
    await clock.advance(90_000);
    for (const next of [...one.nexts, ...more.nexts]) await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect(client.stats().activeStreams).toBe(0);
  });

  describe('watchEvents, the callback form of watch', () => {
    /** A handler that records what it was told. */
    function recorder() {
      const seen: string[] = [];
      const ends: unknown[] = [];
      const handler = {
        onEvent: (e: WatchEvent<V1Secret>) => void seen.push(`${e.type} ${e.object.metadata?.name}`),
        onEnd: (err?: unknown) => void ends.push(err),
      };
      return { seen, ends, handler };
    }

    it('delivers events in order and ends once, with no error, when the server closes the watch', async () => {
      const clock = new FakeClock();
      const server = await serve({ clock });
      const client = clientFor(server);
      const r = recorder();
      const source = client.source<V1Secret>(resources.secrets);
      source.watchEvents!('ns', { resourceVersion: server.storage.resourceVersion, timeoutSeconds: 5 }, r.handler);
      for (let i = 0; i < 100 && server.openWatches === 0; i++) await settle(10);
      server.storage.create(resources.secrets, { metadata: { name: 'a', namespace: 'ns' } });
      server.storage.create(resources.secrets, { metadata: { name: 'b', namespace: 'ns' } });
      for (let i = 0; i < 100 && r.seen.length < 2; i++) await settle(10);
      expect(r.seen).toEqual(['ADDED a', 'ADDED b']);
      await clock.advance(5_000); // the server's timeoutSeconds
      for (let i = 0; i < 100 && r.ends.length === 0; i++) await settle(10);
      expect(r.ends).toEqual([undefined]);
      expect(client.stats().activeStreams).toBe(0);
    });

    it('stop() cancels the watch and calls onEnd once, synchronously', async () => {
      const server = await serve();
      const client = clientFor(server);
      const r = recorder();
      const handle = client.source<V1Secret>(resources.secrets).watchEvents!('ns', { resourceVersion: server.storage.resourceVersion }, r.handler);
      for (let i = 0; i < 100 && server.openWatches === 0; i++) await settle(10);
      handle.stop();
      expect(r.ends).toEqual([undefined]);
      handle.stop();
      for (let i = 0; i < 100 && server.openWatches > 0; i++) await settle(10);
      expect(server.openWatches).toBe(0);
      expect(r.ends).toHaveLength(1);
    });

    it('ends with the cause when the watch cannot be established, or the handler throws', async () => {
      const server = await serve();
      const client = clientFor(server);
      const source = client.source<V1Secret>(resources.secrets);
      const refused = recorder();
      source.watchEvents!('ns', { resourceVersion: '1', fieldSelector: 'no-such-field=x' }, refused.handler);
      for (let i = 0; i < 100 && refused.ends.length === 0; i++) await settle(10);
      expect(refused.ends).toEqual([expect.any(StatusError)]);

      const invalid = recorder();
      source.watchEvents!('a/b', {}, invalid.handler);
      expect(invalid.ends).toEqual([]); // never from inside the call
      await settle();
      expect(invalid.ends).toEqual([expect.any(InvalidNameError)]);

      const throwing = recorder();
      const boom = new Error('handler failed');
      source.watchEvents!(
        'ns',
        { resourceVersion: server.storage.resourceVersion },
        {
          onEvent: () => {
            throw boom;
          },
          onEnd: throwing.handler.onEnd,
        },
      );
      for (let i = 0; i < 100 && server.openWatches === 0; i++) await settle(10);
      server.storage.create(resources.secrets, { metadata: { name: 'c', namespace: 'ns' } });
      for (let i = 0; i < 100 && throwing.ends.length === 0; i++) await settle(10);
      expect(throwing.ends).toEqual([boom]);
    });
  });

  it('refuses names and namespaces that would change the request path, before sending anything', async () => {
    const server = await serve();
    const client = clientFor(server);
    const secrets = client.source(resources.secrets);
    const writer = new ObjectWriter<V1Secret>(client, resources.secrets);
    server.storage.create(resources.secrets, { metadata: { name: 'other', namespace: 'ns' } });
    // Called through an async function, so a synchronous throw and a rejection both count.
    const attempt = (f: () => unknown) => (async () => f())();
    for (const name of ['..', '.', 'a/b', '%2e%2e', '']) {
      await expect(attempt(() => secrets.get('ns', name))).rejects.toThrow(InvalidNameError);
      await expect(attempt(() => writer.update('ns', name, { metadata: { name } }))).rejects.toThrow(/^invalid resource name/);
      await expect(attempt(() => writer.delete('ns', name))).rejects.toThrow(InvalidNameError);
    }
    for (const namespace of ['..', '.', 'a/b']) {
      await expect(attempt(() => secrets.list(namespace))).rejects.toThrow(/^invalid namespace/);
      await expect(attempt(() => secrets.get(namespace, 'other'))).rejects.toThrow(InvalidNameError);
      await expect(
        attempt(async () => {
          for await (const _ of secrets.watch(namespace)) break;
        }),
      ).rejects.toThrow(InvalidNameError);
    }
    expect(server.requests).toHaveLength(0);
    expect(client.stats().connections).toBe(0);
  });

  it('closes its connections at the end of an `await using` block, also when the block throws', async () => {
    const server = await serve();
    await expectAwaitUsingCloses(
      () => new KubeClient(kubeconfigFor(server)),
      async () => {
        await settle(10);
        return server.connections === 0;
      },
      async (client) => {
        await client.source<V1Secret>(resources.secrets).list('ns1');
        expect(client.stats().connections).toBe(1);
      },
    );
  });

  it('never quotes a request body back in an error message', async () => {
    // A server that echoes the body the way apimachinery's decoder errors do.
    const echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 400, reason: 'BadRequest', message: `Object 'Kind' is missing in '${body}'` }));
      });
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(echo.address() as AddressInfo).port}`, skipTLSVerify: true }], // client-node refuses http:// otherwise
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = new KubeClient(kc);
    cleanups.push(() => client.close());
    const err = await new ObjectWriter<V1Secret>(client, resources.secrets).create('ns', { metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' } }).catch((e) => e);
    expect(err.message).toBe("Object 'Kind' is missing in <request body omitted>");
    expect(err.message).not.toContain('aHVudGVyMg==');
  });

  it('verifies a kubeconfig that trusts an unrelated CA on its own, after another with the right CA connected', async () => {
    const server = await serve({ tokens: { 'good-token': 'admin' } });
    cleanups.push(() => closeSharedClients());
    const right = kubeconfigFor(server);
    await expect(kubeSource(right, resources.secrets).list('ns')).resolves.toMatchObject({ items: [] });
    const unrelated = await generateServingCertificates();
    const config = server.kubeconfig() as unknown as { clusters: Array<{ cluster: Record<string, string> }> };
    config.clusters[0].cluster['certificate-authority-data'] = Buffer.from(unrelated.caPem).toString('base64');
    const wrong = new KubeConfig();
    wrong.loadFromString(JSON.stringify(config)); // same cluster, user and context names
    const err = await kubeSource(wrong, resources.secrets)
      .list('ns')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).message).toMatch(/TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
    expect(server.requests.countBy('list')).toBe(1);
  });

  it('shares one client between kubeSource calls for the same kubeconfig content', async () => {
    const server = await serve();
    const kc = kubeconfigFor(server);
    cleanups.push(() => closeSharedClients());
    const a = kubeSource(kc, resources.secrets);
    const b = kubeSource(kubeconfigFor(server), resources.configMaps);
    await a.list('ns');
    await b.list('ns');
    expect(KubeClient.shared(kc).stats()).toMatchObject({ connections: 1, requests: { list: 2 } });
    await closeSharedClients();
    await settle(10);
    expect(server.connections).toBe(0);
  });
});
