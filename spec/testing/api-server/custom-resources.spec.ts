// CustomResourceDefinitions on the embedded server, over HTTP: installed by option or by a
// POST, served and advertised, and the status-subresource write rules a controller relies on
// (status ignored on create and on object writes, /status changing only status, generation
// bumped by spec changes only).
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ApiServer } from '../../../lib/testing/api-server/index.js';
import { h1 } from './http-clients.js';
import { serversPerTest } from './server-per-test.js';

const crd = (plural: string, kind: string, status: boolean) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.example.com` },
  spec: {
    group: 'example.com',
    names: { plural, kind, singular: kind.toLowerCase() },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true, ...(status ? { subresources: { status: {} } } : {}) }],
  },
});

const BASE = '/apis/example.com/v1/namespaces/ns1/gadgets';
const merge = { 'content-type': 'application/merge-patch+json' };

const servers = serversPerTest();

describe('ApiServer CustomResourceDefinitions', () => {
  let server: ApiServer;

  beforeEach(async () => {
    server = await servers.start({ crds: [crd('gadgets', 'Gadget', true)] });
  });

  it("serves an installed CRD's resource and advertises it with its status subresource", async () => {
    const crds = await h1(server, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    expect(crds.body.items.map((c: any) => [c.metadata.name, c.status.conditions.map((x: any) => `${x.type}=${x.status}`)])).toEqual([
      ['gadgets.example.com', ['NamesAccepted=True', 'Established=True']],
    ]);
    const list = await h1(server, '/apis/example.com/v1');
    expect(list.body.resources.map((r: any) => r.name)).toEqual(['gadgets', 'gadgets/status']);
    expect((await h1(server, '/apis')).body.groups.map((g: any) => g.name)).toEqual(['apiextensions.k8s.io', 'example.com']);
  });

  it('drops status on create, sets generation 1, and keeps status on object writes while bumping generation for spec changes only', async () => {
    const created = await h1(server, BASE, { method: 'POST', body: { metadata: { name: 'g1' }, spec: { size: 1 }, status: { phase: 'Made up' } } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBeUndefined();
    expect(created.body.metadata.generation).toBe(1);

    const statusPatched = await h1(server, `${BASE}/g1/status`, { method: 'PATCH', headers: merge, body: { status: { phase: 'Running' }, spec: { size: 99 } } });
    expect(statusPatched.status).toBe(200);
    expect(statusPatched.body).toMatchObject({ spec: { size: 1 }, status: { phase: 'Running' }, metadata: { generation: 1 } });

    const labelled = await h1(server, `${BASE}/g1`, { method: 'PATCH', headers: merge, body: { metadata: { labels: { a: 'b' } }, status: { phase: 'Ignored' } } });
    expect(labelled.body).toMatchObject({ status: { phase: 'Running' }, metadata: { generation: 1, labels: { a: 'b' } } });

    const resized = await h1(server, `${BASE}/g1`, { method: 'PUT', body: { ...labelled.body, spec: { size: 2 }, status: {} } });
    expect(resized.body).toMatchObject({ spec: { size: 2 }, status: { phase: 'Running' }, metadata: { generation: 2 } });

    const statusPut = await h1(server, `${BASE}/g1/status`, { method: 'PUT', body: { ...resized.body, spec: { size: 7 }, status: { phase: 'Paused' } } });
    expect(statusPut.body).toMatchObject({ spec: { size: 2 }, status: { phase: 'Paused' }, metadata: { generation: 2 } });
    expect((await h1(server, `${BASE}/g1/status`)).body.status).toEqual({ phase: 'Paused' });
  });

  it('checks the resourceVersion of a /status PUT (409 on a stale one)', async () => {
    const created = await h1(server, BASE, { method: 'POST', body: { metadata: { name: 'g2' } } });
    await h1(server, `${BASE}/g2/status`, { method: 'PATCH', headers: merge, body: { status: { n: 1 } } });
    const stale = await h1(server, `${BASE}/g2/status`, { method: 'PUT', body: { ...created.body, status: { n: 2 } } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
  });

  it('answers 404 for other subresources, for /status of a kind without it, and for a missing object', async () => {
    await h1(server, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd('widgets', 'Widget', false) });
    await h1(server, '/apis/example.com/v1/namespaces/ns1/widgets', { method: 'POST', body: { metadata: { name: 'w' }, status: { kept: true } } });
    for (const [path, method] of [
      [`${BASE}/nope/status`, 'GET'],
      [`${BASE}/g1/scale`, 'GET'],
      ['/apis/example.com/v1/namespaces/ns1/widgets/w/status', 'GET'],
    ] as const) {
      expect([path, (await h1(server, path, { method })).status]).toEqual([path, 404]);
    }
    // Without the status subresource, status is written with the object, and any change but metadata bumps the generation.
    const w = await h1(server, '/apis/example.com/v1/namespaces/ns1/widgets/w');
    expect(w.body).toMatchObject({ status: { kept: true }, metadata: { generation: 1 } });
    const patched = await h1(server, '/apis/example.com/v1/namespaces/ns1/widgets/w', { method: 'PATCH', headers: merge, body: { status: { kept: false } } });
    expect(patched.body).toMatchObject({ status: { kept: false }, metadata: { generation: 2 } });
  });

  it('installs a CRD created over HTTP, and refuses a malformed one with 422', async () => {
    expect((await h1(server, '/apis/example.com/v1/namespaces/ns1/widgets')).status).toBe(404);
    const made = await h1(server, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd('widgets', 'Widget', false) });
    expect(made.status).toBe(201);
    expect((await h1(server, '/apis/example.com/v1/namespaces/ns1/widgets')).status).toBe(200);
    const bad = await h1(server, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      method: 'POST',
      body: { ...crd('things', 'Thing', false), metadata: { name: 'wrong' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('metadata.name');
  });
});

describe('ApiServer without CRDs', () => {
  it('serves no customresourcedefinitions unless asked to', async () => {
    const server = await servers.start();
    expect((await h1(server, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).status).toBe(404);
    expect((await h1(server, '/apis')).body.groups).toEqual([]);
  });
});
