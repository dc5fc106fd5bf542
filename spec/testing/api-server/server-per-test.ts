// The embedded API server specs' shared setup (as spec/faults/harness.ts rigPerTest is the fault
// specs'): one CA per file, servers started by a test stopped after it, and the leak checks
// every one of them makes, in one place.
import type http2 from 'node:http2';
import { afterEach, beforeAll, expect } from '@jest/globals';
import { FakeClock } from '../../../lib/testing/fake-clock.js';
import { ApiServer, generateServingCertificates, type ApiServerOptions, type ServingCertificates } from '../../../lib/testing/api-server/index.js';
import { closeSession, h2connect } from './http-clients.js';

export interface ServersPerTest {
  /** Starts a server with the file's CA (unless `opts` brings certificates of its own). */
  start(opts?: ApiServerOptions): Promise<ApiServer>;
  /** An HTTP/2 session to `server`, open once its SETTINGS arrived; closed after the test. */
  session(server: ApiServer): Promise<http2.ClientHttp2Session>;
}

/**
 * Call once per spec file, at its top level. Generates one CA for every server of the file
 * (that takes a few hundred ms), and after each test stops every server the test started, then
 * closes the sessions it opened (stopping first ends any watch a test left open, so a session
 * then closes at once), and checks that nothing is left: no connection, no watch stream, no
 * storage watch, and no timer on the server's clock when it is a FakeClock.
 */
export function serversPerTest(): ServersPerTest {
  let certificates: ServingCertificates;
  const servers: Array<{ server: ApiServer; clock: unknown }> = [];
  const sessions: http2.ClientHttp2Session[] = [];
  beforeAll(async () => {
    certificates = await generateServingCertificates();
  });
  afterEach(async () => {
    const started = servers.splice(0);
    for (const { server } of started) await server.stop();
    await Promise.all(sessions.splice(0).map(closeSession));
    for (const { server, clock } of started) {
      expect(server.connections).toBe(0);
      expect(server.openWatches).toBe(0);
      expect(server.storage.watchCount).toBe(0);
      if (clock instanceof FakeClock) expect(clock.pendingTimers()).toBe(0);
    }
  });
  return {
    async start(opts = {}) {
      const server = await ApiServer.start({ certificates, ...opts });
      servers.push({ server, clock: opts.clock });
      return server;
    },
    async session(server) {
      const session = await h2connect(server);
      sessions.push(session);
      return session;
    },
  };
}
