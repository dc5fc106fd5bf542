// Lists and watches over real HTTP: selectors and paging from one snapshot, watch replay from a
// resourceVersion, 410 after compaction, bookmarks and timeouts on a FakeClock, WatchList's
// initial events, and a watch the client closes leaving no subscription behind.
import type http2 from 'node:http2';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../lib/testing/fake-clock.js';
import type { ApiServer } from '../../../lib/testing/api-server/index.js';
import { eventually, h1, watchH1, watchH2 } from './http-clients.js';
import { serversPerTest } from './server-per-test.js';

const SECRETS = '/api/v1/namespaces/ns1/secrets';

const servers = serversPerTest();

describe('ApiServer lists and watches', () => {
  let server: ApiServer;
  let clock: FakeClock;
  let session: http2.ClientHttp2Session;

  async function create(name: string, labels?: Record<string, string>, ns = 'ns1'): Promise<string> {
    const reply = await h1(server, `/api/v1/namespaces/${ns}/secrets`, { method: 'POST', body: { metadata: { name, labels } } });
    expect(reply.status).toBe(201);
    return reply.body.metadata.resourceVersion;
  }

  beforeEach(async () => {
    clock = new FakeClock(1_000_000);
    server = await servers.start({ clock, bookmarkInterval: 10_000 });
    session = await servers.session(server);
  });

  it('lists with label and field selectors', async () => {
    await create('a', { app: 'web', tier: 'front' });
    await create('b', { app: 'web', tier: 'back' });
    await create('c', { app: 'db' });
    await create('a', { app: 'web' }, 'ns2');
    const names = async (query: string) => (await h1(server, `${SECRETS}?${query}`)).body.items.map((i: any) => i.metadata.name);
    expect(await names(`labelSelector=${encodeURIComponent('app=web')}`)).toEqual(['a', 'b']);
    expect(await names(`labelSelector=${encodeURIComponent('app in (web,db),tier!=back')}`)).toEqual(['a', 'c']);
    expect(await names(`labelSelector=${encodeURIComponent('!tier')}`)).toEqual(['c']);
    expect(await names(`fieldSelector=${encodeURIComponent('metadata.name=b')}`)).toEqual(['b']);
    const everywhere = await h1(server, `/api/v1/secrets?fieldSelector=${encodeURIComponent('metadata.name=a')}`);
    expect(everywhere.body.items.map((i: any) => i.metadata.namespace)).toEqual(['ns1', 'ns2']);
  });

  it('pages with limit and continue from one snapshot, even when objects change between pages', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) await create(n);
    const first = await h1(server, `${SECRETS}?limit=2`);
    expect(first.body.items.map((i: any) => i.metadata.name)).toEqual(['a', 'b']);
    expect(first.body.metadata.continue).toEqual(expect.any(String));
    const snapshot = first.body.metadata.resourceVersion;
    await h1(server, `${SECRETS}/c`, { method: 'DELETE' });
    await create('bb');
    const second = await h1(server, `${SECRETS}?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    expect(second.body.items.map((i: any) => i.metadata.name)).toEqual(['c', 'd']);
    expect(second.body.metadata.resourceVersion).toBe(snapshot);
    const third = await h1(server, `${SECRETS}?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
    expect(third.body.items.map((i: any) => i.metadata.name)).toEqual(['e']);
    expect(third.body.metadata.continue).toBeUndefined();
    expect(server.requests.filter((r) => r.verb === 'list').map((r) => r.continue !== undefined)).toEqual([false, true, true]);

    const badToken = await h1(server, `${SECRETS}?limit=2&continue=garbage`);
    expect(badToken.status).toBe(400);
    expect((await h1(server, `${SECRETS}?limit=2&resourceVersion=1003&continue=${encodeURIComponent(first.body.metadata.continue)}`)).status).toBe(400);
  });

  it('answers 410 Expired to a continue token from before a compaction', async () => {
    for (const n of ['a', 'b', 'c']) await create(n);
    const first = await h1(server, `${SECRETS}?limit=1`);
    await create('d');
    server.faults.compact();
    const next = await h1(server, `${SECRETS}?limit=1&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    expect(next.status).toBe(410);
    expect(next.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('validates list and watch options as kube-apiserver does', async () => {
    const invalid = await h1(server, `${SECRETS}?resourceVersionMatch=Exact`);
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { causes: [{ field: 'resourceVersionMatch' }] } });
    expect((await h1(server, `${SECRETS}?resourceVersion=1&resourceVersionMatch=Sometimes`)).status).toBe(422);
    expect((await h1(server, `${SECRETS}?sendInitialEvents=true`)).status).toBe(422);
    expect((await h1(server, `${SECRETS}?watch=1&sendInitialEvents=true`)).status).toBe(422);
    expect((await h1(server, `${SECRETS}?watch=1&resourceVersionMatch=NotOlderThan`)).status).toBe(422);
    expect((await h1(server, `${SECRETS}?watch=1&timeoutSeconds=soon`)).status).toBe(400);
    expect((await h1(server, `${SECRETS}?watch=1&labelSelector=${encodeURIComponent('a in (b')}`)).status).toBe(400);
    expect((await h1(server, `${SECRETS}?resourceVersion=99999&resourceVersionMatch=NotOlderThan`)).body).toMatchObject({
      code: 504,
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
    });
    expect(server.openWatches).toBe(0);
  });

  it('watches from a resourceVersion, replaying later changes, then streams live events (HTTP/2)', async () => {
    const rvA = await create('a');
    await create('b');
    await h1(server, `${SECRETS}/a`, { method: 'DELETE' });
    const watch = await watchH2(session, `${SECRETS}?watch=true&resourceVersion=${rvA}`);
    expect(watch.status).toBe(200);
    await watch.next(2);
    await create('c');
    const events = await watch.next(3);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`)).toEqual(['ADDED b@1002', 'DELETED a@1003', 'ADDED c@1004']);
    expect(server.openWatches).toBe(1);
    expect(server.requests.at(-2)).toMatchObject({ verb: 'watch', resource: 'secrets', namespace: 'ns1', resourceVersion: rvA, code: 200, httpVersion: '2.0' });
    watch.close();
    await eventually(() => server.openWatches === 0);
    expect(server.storage.watchCount).toBe(0);
  });

  it('starts a watch without a resourceVersion with the current objects as ADDED (HTTP/1.1)', async () => {
    await create('a', { app: 'x' });
    await create('b');
    const watch = await watchH1(server, `${SECRETS}?watch=1&labelSelector=app%3Dx`);
    await watch.next(1);
    await h1(server, `${SECRETS}/a`, { method: 'PATCH', body: { metadata: { labels: { app: 'y' } } }, headers: { 'content-type': 'application/merge-patch+json' } });
    await watch.next(2);
    expect(watch.seen).toEqual(['ADDED a', 'DELETED a']);
    expect(server.requests.countBy('watch')).toBe(1);
    watch.close();
    await eventually(() => server.openWatches === 0 && server.storage.watchCount === 0);
  });

  it('watches one object by its URL', async () => {
    await create('a');
    await create('b');
    const watch = await watchH2(session, `${SECRETS}/b?watch=true`);
    await watch.next(1);
    await create('c');
    await h1(server, `${SECRETS}/b`, { method: 'DELETE' });
    await watch.next(2);
    expect(watch.seen).toEqual(['ADDED b', 'DELETED b']);
    watch.close();
  });

  it('streams one ERROR event with a 410 Expired Status for a compacted resourceVersion, then ends', async () => {
    const rv = await create('a');
    await create('b');
    server.faults.compact();
    const watch = await watchH2(session, `${SECRETS}?watch=true&resourceVersion=${rv}`);
    expect(watch.status).toBe(200);
    expect(await watch.ended).toBe('end');
    expect(watch.lines).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 }) }]);
    expect(server.openWatches).toBe(0);
  });

  it('sends BOOKMARKs every bookmarkInterval when allowed, carrying only kind, apiVersion and resourceVersion', async () => {
    const rv = await create('a');
    const watch = await watchH2(session, `${SECRETS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    const quiet = await watchH2(session, `${SECRETS}?watch=true&resourceVersion=${rv}`);
    await clock.advance(9_999);
    await create('b');
    await watch.next(1);
    await clock.advance(1);
    await watch.next(2);
    await clock.advance(10_000);
    const lines = await watch.next(3);
    expect(lines[1]).toEqual({ type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'Secret', metadata: { resourceVersion: '1002' } } });
    expect(watch.seen).toEqual(['ADDED b', 'BOOKMARK', 'BOOKMARK']);
    await quiet.next(1);
    expect(quiet.seen).toEqual(['ADDED b']);
    watch.close();
    quiet.close();
  });

  it('ends the watch normally after timeoutSeconds on the injected clock', async () => {
    const watch = await watchH2(session, `${SECRETS}?watch=true&timeoutSeconds=30`);
    const h1watch = await watchH1(server, `${SECRETS}?watch=true&timeoutSeconds=30`);
    await clock.advance(29_999);
    expect(server.openWatches).toBe(2);
    await clock.advance(1);
    expect(await watch.ended).toBe('end');
    expect(await h1watch.ended).toBe('end');
    expect(server.openWatches).toBe(0);
    expect(server.storage.watchCount).toBe(0);
  });

  it('ends a watch without timeoutSeconds after a random time in [1800, 3600) seconds', async () => {
    const watch = await watchH2(session, `${SECRETS}?watch=true`);
    await clock.advance(1_799_999);
    expect(server.openWatches).toBe(1);
    await clock.advance(1_800_000);
    expect(await watch.ended).toBe('end');
  });

  it('sends the initial events and the initial-events-end bookmark for sendInitialEvents', async () => {
    await create('a');
    await create('b');
    const watch = await watchH2(session, `${SECRETS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=`);
    const lines = await watch.next(3);
    expect(watch.seen).toEqual(['ADDED a', 'ADDED b', 'BOOKMARK']);
    expect(lines[2].object.metadata).toEqual({ resourceVersion: '1002', annotations: { 'k8s.io/initial-events-end': 'true' } });
    watch.close();
  });

  it('unsubscribes from storage when the client goes away, over both protocols', async () => {
    const watches = await Promise.all([watchH1(server, `${SECRETS}?watch=true`), watchH2(session, `${SECRETS}?watch=true`), watchH2(session, `/api/v1/configmaps?watch=true`)]);
    expect(server.openWatches).toBe(3);
    expect(server.storage.watchCount).toBe(3);
    for (const w of watches) w.close();
    await eventually(() => server.openWatches === 0);
    expect(server.storage.watchCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
