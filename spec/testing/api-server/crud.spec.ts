// The embedded API server's object API over real HTTP: CRUD on one resourceVersion counter,
// kube-apiserver's Status bodies for failures, 400s (never crashes) for malformed input,
// discovery and health endpoints, custom resources, bearer tokens and request accounting.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ResourceType } from '../../../lib/api/resource.js';
import type { ApiServer } from '../../../lib/testing/api-server/index.js';
import { closeSession, h1, h2, h2connect } from './http-clients.js';
import { serversPerTest } from './server-per-test.js';

const SECRETS = '/api/v1/namespaces/ns1/secrets';

const servers = serversPerTest();

describe('ApiServer objects over HTTP', () => {
  let server: ApiServer;

  beforeEach(async () => {
    server = await servers.start();
  });

  it('creates, gets, updates, patches and deletes on one resourceVersion counter', async () => {
    const created = await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 's1' }, data: { k: 'djE=' } } });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json');
    expect(created.body).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'ns1', resourceVersion: '1001' } });

    const cm = await h1(server, '/api/v1/namespaces/ns1/configmaps', { method: 'POST', body: { metadata: { name: 'c1' } } });
    expect(cm.body.metadata.resourceVersion).toBe('1002');

    const got = await h1(server, `${SECRETS}/s1`);
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual({ k: 'djE=' });

    const updated = await h1(server, `${SECRETS}/s1`, { method: 'PUT', body: { ...got.body, data: { k: 'djI=' } } });
    expect(updated.status).toBe(200);
    expect(updated.body.metadata.resourceVersion).toBe('1003');

    const patched = await h1(server, `${SECRETS}/s1`, {
      method: 'PATCH',
      body: { metadata: { labels: { app: 'x' } } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ data: { k: 'djI=' }, metadata: { labels: { app: 'x' }, resourceVersion: '1004' } });

    const deleted = await h1(server, `${SECRETS}/s1`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(deleted.body.metadata.name).toBe('s1');
    expect(server.storage.resourceVersion).toBe('1005');
    expect((await h1(server, `${SECRETS}/s1`)).status).toBe(404);
  });

  it('serves the same API over HTTP/2', async () => {
    const session = await h2connect(server);
    try {
      const created = await h2(session, SECRETS, { method: 'POST', body: { metadata: { name: 's1' } } });
      expect(created.status).toBe(201);
      const listed = await h2(session, SECRETS);
      expect(listed.body).toMatchObject({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1001' } });
      expect(listed.body.items.map((i: any) => i.metadata.name)).toEqual(['s1']);
      expect(server.requests.map((r) => `${r.verb} ${r.httpVersion}`)).toEqual(['create 2.0', 'list 2.0']);
    } finally {
      await closeSession(session);
    }
  });

  it('answers 404 with a NotFound Status for a missing object and for an unknown resource', async () => {
    const missing = await h1(server, `${SECRETS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'secrets "nope" not found',
      reason: 'NotFound',
      code: 404,
      details: { name: 'nope', group: '', kind: 'secrets' },
    });
    for (const path of ['/api/v1/namespaces/ns1/widgets', '/apis/example.com/v1/widgets', '/api/v1/namespaces/ns1/nodes', '/api/v1/secrets/s1', '/nonsense', '/api/v2/pods']) {
      const reply = await h1(server, path);
      expect([path, reply.status, reply.body?.kind, reply.body?.reason]).toEqual([path, 404, 'Status', 'NotFound']);
    }
  });

  it('answers 409 AlreadyExists and 409 Conflict on a stale resourceVersion', async () => {
    await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 's1' } } });
    const again = await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 's1' } } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });

    await h1(server, `${SECRETS}/s1`, { method: 'PUT', body: { metadata: { name: 's1' }, data: { a: 'YQ==' } } });
    const stale = await h1(server, `${SECRETS}/s1`, { method: 'PUT', body: { metadata: { name: 's1', resourceVersion: '1001' } } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(stale.body.message).toContain('the object has been modified');
  });

  it('answers 422 Invalid when an immutable secret changes, and when a name is missing', async () => {
    await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 'frozen' }, immutable: true, data: { k: 'djE=' } } });
    const change = await h1(server, `${SECRETS}/frozen`, {
      method: 'PATCH',
      body: { data: { k: 'djI=' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(change.status).toBe(422);
    expect(change.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422, details: { causes: [{ reason: 'FieldValueForbidden', field: 'data' }] } });
    expect(change.text).not.toContain('djI=');

    const unnamed = await h1(server, SECRETS, { method: 'POST', body: { metadata: {} } });
    expect(unnamed.status).toBe(422);
  });

  it('answers malformed input with a 400 Status and keeps serving', async () => {
    const cases: [string, Parameters<typeof h1>[2], number][] = [
      [SECRETS, { method: 'POST', body: '{"metadata": {"name": "x"', headers: { 'content-type': 'application/json' } }, 400],
      [SECRETS, { method: 'POST', body: '[1,2]' }, 400],
      [SECRETS, { method: 'POST', body: '', headers: { 'content-type': 'application/json' } }, 400],
      [SECRETS, { method: 'POST', body: { metadata: 'x' } }, 400],
      [SECRETS, { method: 'POST', body: { metadata: { name: 'x', namespace: 'other' } } }, 400],
      [SECRETS, { method: 'POST', body: { kind: 'ConfigMap', metadata: { name: 'x' } } }, 400],
      [SECRETS, { method: 'POST', body: 'a: b', headers: { 'content-type': 'application/yaml' } }, 415],
      [`${SECRETS}?labelSelector=${encodeURIComponent('a in (b')}`, {}, 400],
      [`${SECRETS}?fieldSelector=spec.type%3Dx`, {}, 400],
      [`${SECRETS}?limit=ten`, {}, 400],
      [`${SECRETS}?resourceVersion=abc`, {}, 400],
      ['/api/v1/namespaces/%E0%A4%A/secrets', {}, 400],
      ['/api/v1/namespaces//secrets', {}, 400],
      [`${SECRETS}/x`, { method: 'PUT', body: { metadata: { name: 'y' } } }, 400],
      [`${SECRETS}/x`, { method: 'PATCH', body: {}, headers: { 'content-type': 'application/strategic-merge-patch+json' } }, 415],
      [`${SECRETS}/x`, { method: 'POST', body: {} }, 405],
      [SECRETS, { method: 'DELETE' }, 405],
    ];
    for (const [path, opts, code] of cases) {
      const reply = await h1(server, path, opts);
      expect([path, opts?.method, reply.status, reply.body?.kind]).toEqual([path, opts?.method, code, 'Status']);
    }
    expect((await h1(server, '/readyz')).status).toBe(200);
  });

  it('never quotes a malformed body back in the error', async () => {
    const reply = await h1(server, SECRETS, { method: 'POST', body: '{"data": {"password": "hunter2"', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('hunter2');
  });

  it('refuses a body over the 3 MiB request limit with 413', async () => {
    const big = { metadata: { name: 'big' }, data: { k: 'a'.repeat(3 * 1024 * 1024) } };
    const reply = await h1(server, SECRETS, { method: 'POST', body: big });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
  });

  it('generates a name from generateName', async () => {
    const reply = await h1(server, SECRETS, { method: 'POST', body: { metadata: { generateName: 'tok-' } } });
    expect(reply.status).toBe(201);
    expect(reply.body.metadata.name).toMatch(/^tok-[a-z0-9]{5}$/);
  });

  it('serves health, version and discovery documents', async () => {
    for (const path of ['/healthz', '/readyz', '/livez', '/readyz/etcd']) {
      const reply = await h1(server, path);
      expect([path, reply.status, reply.text]).toEqual([path, 200, 'ok']);
    }
    const version = await h1(server, '/version');
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\./) });
    const api = await h1(server, '/api');
    expect(api.body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = await h1(server, '/api/v1');
    expect(core.body.kind).toBe('APIResourceList');
    expect(core.body.resources.map((r: any) => r.name).sort()).toEqual(['configmaps', 'namespaces', 'nodes', 'pods', 'secrets']);
    expect(core.body.resources.find((r: any) => r.name === 'nodes')).toMatchObject({ namespaced: false, kind: 'Node', shortNames: ['no'] });
    expect(core.body.resources.find((r: any) => r.name === 'configmaps')).toMatchObject({ namespaced: true, shortNames: ['cm'], verbs: expect.arrayContaining(['watch']) });
    expect((await h1(server, '/apis')).body).toEqual({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    expect(server.requests).toHaveLength(0);
  });

  it('serves cluster-scoped resources and cross-namespace lists', async () => {
    expect((await h1(server, '/api/v1/nodes', { method: 'POST', body: { metadata: { name: 'n1' } } })).status).toBe(201);
    expect((await h1(server, '/api/v1/nodes/n1')).body).toMatchObject({ kind: 'Node', metadata: { name: 'n1' } });
    expect((await h1(server, '/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'ns1' } } })).status).toBe(201);
    expect((await h1(server, '/api/v1/namespaces/ns1')).body.kind).toBe('Namespace');
    await h1(server, '/api/v1/namespaces/a/secrets', { method: 'POST', body: { metadata: { name: 's' } } });
    await h1(server, '/api/v1/namespaces/b/secrets', { method: 'POST', body: { metadata: { name: 's' } } });
    const all = await h1(server, '/api/v1/secrets');
    expect(all.body.items.map((i: any) => i.metadata.namespace)).toEqual(['a', 'b']);
    expect((await h1(server, '/api/v1/secrets', { method: 'POST', body: { metadata: { name: 's' } } })).status).toBe(405);
  });
});

describe('ApiServer custom resources', () => {
  const profiles: ResourceType = { group: 'spdx.softwarecomposition.kubescape.io', version: 'v1beta1', resource: 'containerprofiles', kind: 'ContainerProfile', namespaced: true };

  it('serves them under /apis/{group}/{version} and advertises them in discovery', async () => {
    const server = await servers.start({ resources: [profiles], tls: false });
    const base = `/apis/${profiles.group}/v1beta1/namespaces/ns1/containerprofiles`;
    const created = await h1(server, base, { method: 'POST', body: { metadata: { name: 'p1' }, spec: { x: 1 } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: `${profiles.group}/v1beta1`, kind: 'ContainerProfile' });
    expect((await h1(server, `${base}/p1`)).body.spec).toEqual({ x: 1 });
    const groups = await h1(server, '/apis');
    expect(groups.body.groups).toEqual([
      {
        name: profiles.group,
        versions: [{ groupVersion: `${profiles.group}/v1beta1`, version: 'v1beta1' }],
        preferredVersion: { groupVersion: `${profiles.group}/v1beta1`, version: 'v1beta1' },
      },
    ]);
    expect((await h1(server, `/apis/${profiles.group}`)).body.kind).toBe('APIGroup');
    const list = await h1(server, `/apis/${profiles.group}/v1beta1`);
    expect(list.body).toMatchObject({ kind: 'APIResourceList', groupVersion: `${profiles.group}/v1beta1`, resources: [{ name: 'containerprofiles', namespaced: true }] });
    expect((await h1(server, `/apis/${profiles.group}/v1`)).status).toBe(404);
    expect(server.requests.map((r) => [r.verb, r.group, r.resource])).toEqual([
      ['create', profiles.group, 'containerprofiles'],
      ['get', profiles.group, 'containerprofiles'],
    ]);
  });
});

describe('ApiServer bearer tokens', () => {
  it('answers 401 Unauthorized without a known token, and serves with one', async () => {
    const server = await servers.start({ tokens: { s3cret: 'alice' } });
    const anonymous = await h1(server, SECRETS);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await h1(server, SECRETS, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await h1(server, SECRETS, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await h1(server, '/readyz')).status).toBe(200);
    expect((await h1(server, '/readyz', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await h1(server, '/api/v1')).status).toBe(401);
    expect(server.requests.map((r) => r.code)).toEqual([401, 401, 200]);
    expect(server.kubeconfig().users[0]).toEqual({ name: 'alice', user: { token: 's3cret' } });
    const session = await servers.session(server);
    const reply = await h2(session, SECRETS, { headers: { authorization: 'Bearer s3cret' } });
    expect(reply.status).toBe(200);
  });
});

describe('ApiServer request accounting', () => {
  it('records verb, resource, namespace, name, selectors, resourceVersion, code and HTTP version', async () => {
    const server = await servers.start({ tls: false });
    await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 's1' } } });
    await h1(server, `${SECRETS}/s1`);
    await h1(server, `${SECRETS}/missing`);
    await h1(server, `${SECRETS}?labelSelector=app%3Dx&fieldSelector=metadata.name%3Ds1&resourceVersion=0&limit=5`);
    await h1(server, `${SECRETS}/s1`, { method: 'DELETE' });
    expect([...server.requests]).toEqual([
      { verb: 'create', group: '', resource: 'secrets', namespace: 'ns1', code: 201, httpVersion: '1.1' },
      { verb: 'get', group: '', resource: 'secrets', namespace: 'ns1', name: 's1', code: 200, httpVersion: '1.1' },
      { verb: 'get', group: '', resource: 'secrets', namespace: 'ns1', name: 'missing', code: 404, httpVersion: '1.1' },
      {
        verb: 'list',
        group: '',
        resource: 'secrets',
        namespace: 'ns1',
        labelSelector: 'app=x',
        fieldSelector: 'metadata.name=s1',
        resourceVersion: '0',
        limit: 5,
        code: 200,
        httpVersion: '1.1',
      },
      { verb: 'delete', group: '', resource: 'secrets', namespace: 'ns1', name: 's1', code: 200, httpVersion: '1.1' },
    ]);
    expect(server.requests.countBy('get')).toBe(2);
    expect(server.requests.countBy('get', 'configmaps')).toBe(0);
    expect(server.requests.filter((r) => r.code === 404)).toHaveLength(1);
    server.requests.clear();
    expect(server.requests).toHaveLength(0);
  });
});
