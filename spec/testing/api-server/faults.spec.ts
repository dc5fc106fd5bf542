// Fault injection over real HTTP: each fault as a client of a real cluster would meet it, with
// timed faults on a FakeClock, and nothing left behind once a fault has played out.
import type http2 from 'node:http2';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../lib/testing/fake-clock.js';
import { GARBAGE_LINE, type ApiServer } from '../../../lib/testing/api-server/index.js';
import { eventually, h1, h2, watchH1, watchH2 } from './http-clients.js';
import { serversPerTest } from './server-per-test.js';

const SECRETS = '/api/v1/namespaces/ns1/secrets';

const servers = serversPerTest();

describe('ApiServer faults', () => {
  let server: ApiServer;
  let clock: FakeClock;
  let session: http2.ClientHttp2Session;

  async function create(name: string): Promise<string> {
    const reply = await h2(session, SECRETS, { method: 'POST', body: { metadata: { name } } });
    expect(reply.status).toBe(201);
    return reply.body.metadata.resourceVersion;
  }

  beforeEach(async () => {
    clock = new FakeClock();
    server = await servers.start({ clock });
    session = await servers.session(server);
  });

  describe('dropWatches', () => {
    it('resets HTTP/2 watch streams with RST_STREAM, keeping the connection, and HTTP/1.1 ones by closing the socket', async () => {
      const viaH2 = await watchH2(session, `${SECRETS}?watch=1`);
      const viaH1 = await watchH1(server, `${SECRETS}?watch=1`);
      expect(server.openWatches).toBe(2);
      expect(server.faults.dropWatches()).toBe(2);
      expect(await viaH2.ended).toBe('reset');
      expect(await viaH1.ended).toBe('reset');
      expect(server.openWatches).toBe(0);
      expect(server.storage.watchCount).toBe(0);
      // The HTTP/2 connection survives a reset stream.
      expect(session.destroyed).toBe(false);
      expect((await h2(session, SECRETS)).status).toBe(200);
      await eventually(() => server.connections === 1);
    });

    it('drops every open watch each interval until cancelled', async () => {
      const cancel = server.faults.dropWatchesEvery(30_000);
      const first = await watchH2(session, `${SECRETS}?watch=1&timeoutSeconds=3600`);
      await clock.advance(30_000);
      expect(await first.ended).toBe('reset');
      const second = await watchH2(session, `${SECRETS}?watch=1&timeoutSeconds=3600`);
      await clock.advance(30_000);
      expect(await second.ended).toBe('reset');
      cancel();
      const third = await watchH2(session, `${SECRETS}?watch=1&timeoutSeconds=3600`);
      expect(clock.pendingTimers()).toBe(1); // the third watch's own timeout
      await clock.advance(60_000);
      expect(server.openWatches).toBe(1);
      third.close();
      await eventually(() => server.openWatches === 0);
    });
  });

  describe('failNext', () => {
    it('answers the next k matching requests with 429, a Retry-After header and details.retryAfterSeconds', async () => {
      server.faults.failNext(2, { code: 429, retryAfterSeconds: 7, verbs: ['list'] });
      expect((await h2(session, `${SECRETS}/missing`)).status).toBe(404);
      for (let i = 0; i < 2; i++) {
        const throttled = await h2(session, SECRETS);
        expect(throttled.status).toBe(429);
        expect(throttled.headers['retry-after']).toBe('7');
        expect(throttled.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 7 } });
      }
      expect((await h2(session, SECRETS)).status).toBe(200);
      expect(server.requests.map((r) => `${r.verb} ${r.code}`)).toEqual(['get 404', 'list 429', 'list 429', 'list 200']);
    });

    it('defaults Retry-After to 1 second for 429, and fails every verb when none are given', async () => {
      server.faults.failNext(1, { code: 429 });
      const reply = await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 'a' } } });
      expect([reply.status, reply.headers['retry-after'], reply.body.details]).toEqual([429, '1', { retryAfterSeconds: 1 }]);
      expect(server.storage.resourceVersion).toBe('1000');
    });

    it('answers 500 InternalError and 503 ServiceUnavailable, also to a watch before it streams', async () => {
      server.faults.failNext(1, { code: 500 });
      server.faults.failNext(1, { code: 503, retryAfterSeconds: 2, verbs: ['watch'] });
      const internal = await h2(session, SECRETS);
      expect(internal.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
      expect(internal.headers['retry-after']).toBeUndefined();
      const watch = await h2(session, `${SECRETS}?watch=1`);
      expect(watch.status).toBe(503);
      expect(watch.headers['retry-after']).toBe('2');
      expect(watch.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
      expect(server.openWatches).toBe(0);
    });

    it('fails only the named resource when one is given', async () => {
      server.faults.failNext(1, { code: 503, resource: 'configmaps' });
      expect((await h2(session, SECRETS)).status).toBe(200);
      expect((await h2(session, '/api/v1/namespaces/ns1/configmaps')).status).toBe(503);
      expect((await h2(session, '/api/v1/namespaces/ns1/configmaps')).status).toBe(200);
    });

    it('is cleared by reset()', async () => {
      server.faults.failNext(5, { code: 500 });
      server.faults.delayLists(1_000);
      server.faults.garbageOnNextWatch();
      server.faults.reset();
      expect((await h2(session, SECRETS)).status).toBe(200);
    });
  });

  describe('delayLists', () => {
    it('holds lists for the delay on the injected clock, and 0 turns it off', async () => {
      server.faults.delayLists(5_000);
      let answered = false;
      const list = h2(session, SECRETS).then((r) => {
        answered = true;
        return r;
      });
      await eventually(() => clock.pendingTimers() === 1);
      // Other verbs are not delayed.
      expect((await h2(session, `${SECRETS}/missing`)).status).toBe(404);
      await clock.advance(4_999);
      expect(answered).toBe(false);
      await clock.advance(1);
      expect((await list).status).toBe(200);
      server.faults.delayLists(0);
      expect((await h2(session, SECRETS)).status).toBe(200);
    });

    it('gives up a delayed list when the client goes away, leaving no timer and a code-0 record', async () => {
      server.faults.delayLists(5_000);
      const stream = session.request({ ':path': SECRETS });
      stream.on('error', () => {});
      await eventually(() => clock.pendingTimers() === 1);
      stream.close();
      await eventually(() => clock.pendingTimers() === 0);
      await eventually(() => server.requests.length === 1);
      expect(server.requests[0]).toMatchObject({ verb: 'list', code: 0 });
    });
  });

  describe('garbage on watches', () => {
    it('writes a non-JSON line into every open watch, then streams on', async () => {
      const watches = [await watchH2(session, `${SECRETS}?watch=1`), await watchH1(server, `${SECRETS}?watch=1`)];
      expect(server.faults.garbageOnWatch()).toBe(2);
      await create('a');
      for (const w of watches) {
        await w.next(2);
        expect(w.seen).toEqual([`RAW ${GARBAGE_LINE.trim()}`, 'ADDED a']);
        expect(() => JSON.parse(w.lines[0])).toThrow();
        w.close();
      }
    });

    it('writes the non-JSON line first into the next watch only', async () => {
      await create('a');
      server.faults.garbageOnNextWatch();
      const first = await watchH2(session, `${SECRETS}?watch=1`);
      const second = await watchH2(session, `${SECRETS}?watch=1`);
      await first.next(2);
      await second.next(1);
      expect(first.seen).toEqual([`RAW ${GARBAGE_LINE.trim()}`, 'ADDED a']);
      expect(second.seen).toEqual(['ADDED a']);
      first.close();
      second.close();
    });

    it('keeps the garbage for the next watch when a watch is refused', async () => {
      server.faults.garbageOnNextWatch();
      expect((await h2(session, `${SECRETS}?watch=1&labelSelector=${encodeURIComponent('a in (')}`)).status).toBe(400);
      const watch = await watchH2(session, `${SECRETS}?watch=1`);
      await watch.next(1);
      expect(typeof watch.lines[0]).toBe('string');
      watch.close();
    });
  });

  describe('compact', () => {
    it('makes watches from older resourceVersions get 410, while new ones work', async () => {
      const rv = await create('a');
      await create('b');
      server.faults.compact();
      const old = await watchH2(session, `${SECRETS}?watch=1&resourceVersion=${rv}`);
      expect(await old.ended).toBe('end');
      expect(old.lines[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
      const current = await watchH2(session, `${SECRETS}?watch=1&resourceVersion=${server.storage.resourceVersion}`);
      await create('c');
      await current.next(1);
      expect(current.seen).toEqual(['ADDED c']);
      current.close();
    });
  });

  describe('restart', () => {
    it('refuses connections for downMs on the injected clock, then serves the same state on the same port', async () => {
      await create('a');
      const watch = await watchH2(session, `${SECRETS}?watch=1&resourceVersion=${server.storage.resourceVersion}`);
      const port = server.port;
      const back = server.faults.restart(10_000);
      expect(server.listening).toBe(false);
      expect(await h1(server, '/readyz').catch((err: NodeJS.ErrnoException) => err.code)).toBe('ECONNREFUSED');
      expect(await watch.ended).toBe('reset');
      await eventually(() => server.connections === 0 && session.destroyed);
      expect(server.openWatches).toBe(0);
      await clock.advance(9_999);
      expect(await h1(server, '/readyz').catch((err: NodeJS.ErrnoException) => err.code)).toBe('ECONNREFUSED');
      await clock.advance(1);
      await back;
      expect(server.listening).toBe(true);
      expect(server.port).toBe(port);
      expect((await h1(server, `${SECRETS}/a`)).body.metadata.name).toBe('a');
      const created = await h1(server, SECRETS, { method: 'POST', body: { metadata: { name: 'b' } } });
      expect(created.body.metadata.resourceVersion).toBe('1002');
      session = await servers.session(server);
      expect((await h2(session, SECRETS)).body.items).toHaveLength(2);
    });

    it('comes back at once with downMs 0, and stop() during the downtime ends it without a timer', async () => {
      await server.faults.restart(0);
      expect((await h1(server, '/readyz')).status).toBe(200);
      const back = server.faults.restart(60_000);
      await expect(server.faults.restart(1)).rejects.toThrow('already down');
      await server.stop();
      await back;
      expect(server.listening).toBe(false);
      expect(clock.pendingTimers()).toBe(0);
    });
  });
});
