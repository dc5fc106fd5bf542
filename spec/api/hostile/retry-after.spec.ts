// Item 5 of issue 8: a huge Retry-After (header or details.retryAfterSeconds) must make a client
// wait, never spin. Node turns a timer above 2^31-1 ms into 1 ms; the clocks clamp delays and
// StatusError caps Retry-After at MAX_RETRY_AFTER_SECONDS. Requests are counted on our own
// HTTP/2 server, over fake time and (briefly) over the wall clock.
import { describe, expect, it } from '@jest/globals';
import type http2 from 'node:http2';
import { MAX_RETRY_AFTER_SECONDS, StatusError, isTooManyRequests } from '../../../lib/api/errors.js';
import { TransportError } from '../../../lib/api/transport-errors.js';
import { resources } from '../../../lib/api/resource.js';
import { listWatchFor } from '../../../lib/cache/list-watch.js';
import { Reflector } from '../../../lib/cache/reflector.js';
import type { ReflectorSink } from '../../../lib/cache/sink.js';
import { FakeClock, settle } from '../../../lib/testing/fake-clock.js';
import { realClock, type Clock } from '../../../lib/util/clock.js';
import { EMPTY_LIST, clientFor, h2Server, hostileRig, onCleanup, outcome, until } from './servers.js';

hostileRig();

const HUGE = 3_000_000; // seconds: about 35 days, beyond what a timer can hold in ms

/** Answers lists with an empty list (unless `throttleLists`) and every watch with 429 and a huge Retry-After. */
async function throttlingServer(opts: { via: 'header' | 'details'; throttleLists?: boolean }) {
  const seen = { list: 0, watch: 0 };
  const server = await h2Server((stream: http2.ServerHttp2Stream, headers) => {
    const watch = String(headers[':path']).includes('watch=true');
    seen[watch ? 'watch' : 'list']++;
    if (!watch && !opts.throttleLists) {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(EMPTY_LIST);
      return;
    }
    stream.respond({ ':status': 429, 'content-type': 'application/json', ...(opts.via === 'header' ? { 'retry-after': String(HUGE) } : {}) });
    stream.end(
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        code: 429,
        reason: 'TooManyRequests',
        message: 'slow down',
        ...(opts.via === 'details' ? { details: { retryAfterSeconds: HUGE } } : {}),
      }),
    );
  });
  return { ...server, seen };
}

const nullSink: ReflectorSink<unknown> = { replace() {}, add() {}, update() {}, delete() {} };

/** A list+watch reflector (no WatchList), so the first list succeeds and only the watches meet the 429s. */
function runReflector(port: number, clock: Clock) {
  const client = clientFor(port, { clock });
  const reflector = new Reflector({
    name: 'hostile',
    listerWatcher: listWatchFor(client.source(resources.secrets), 'ns'),
    sink: nullSink,
    clock,
    random: () => 0,
    watchList: false,
  });
  const stop = new AbortController();
  const running = reflector.run(stop.signal);
  onCleanup(async () => {
    stop.abort();
    await running;
  });
  return { reflector, stop, running };
}

describe('a huge Retry-After', () => {
  for (const via of ['header', 'details'] as const) {
    it(`on a watch (${via}) makes the reflector wait ${MAX_RETRY_AFTER_SECONDS} s between watches, not 35 days and not 1 ms`, async () => {
      const server = await throttlingServer({ via });
      const clock = new FakeClock();
      const { reflector } = runReflector(server.port, clock);
      for (let n = 1; n <= 5; n++) {
        // Each 429 is recorded (and its wait armed) before fake time moves on.
        await until(() => server.seen.watch === n && reflector.stats.failures === n, `watch ${n} and its 429`);
        await clock.advance(MAX_RETRY_AFTER_SECONDS * 1000 - 1);
        await settle(10);
        expect(server.seen.watch).toBe(n);
        await clock.advance(1);
      }
      await until(() => server.seen.watch === 6, 'the sixth watch, five capped waits later');
      expect(server.seen.list).toBe(1); // a 429 on a watch re-watches; it does not relist
    });
  }

  it('on the wall clock, makes one watch request and waits instead of a storm', async () => {
    const server = await throttlingServer({ via: 'header' });
    const { stop, running } = runReflector(server.port, realClock);
    await until(() => server.seen.watch >= 1, 'the first watch');
    await new Promise((r) => setTimeout(r, 30));
    expect(server.seen.watch).toBe(1);
    stop.abort();
    await running;
  });

  it('between list retries is waited for (capped), on the request budget', async () => {
    const server = await throttlingServer({ via: 'header', throttleLists: true });
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock, requestTimeout: 10 * 60_000, maxRetries: 3 });
    const list = outcome(client.source(resources.secrets).list('ns'));
    await until(() => server.seen.list === 1, 'the first list');
    await clock.advance(MAX_RETRY_AFTER_SECONDS * 1000 - 1);
    await settle(10);
    expect(server.seen.list).toBe(1);
    await clock.advance(1);
    await until(() => server.seen.list === 2, 'the retry after the capped Retry-After');
    for (let i = 0; i < 2; i++) {
      await clock.advance(MAX_RETRY_AFTER_SECONDS * 1000);
      await until(() => server.seen.list === 3 + i, 'the next retry');
    }
    await until(() => list.state === 'rejected', 'the last 429');
    expect(isTooManyRequests(list.error)).toBe(true);
    expect(server.seen.list).toBe(4);
  });

  it('that outlasts the request budget goes to the caller at once, capped, with what the server asked in details', async () => {
    const server = await throttlingServer({ via: 'header', throttleLists: true });
    const clock = new FakeClock();
    const client = clientFor(server.port, { clock }); // requestTimeout 60 s: a 60 s wait cannot fit
    const err = (await client
      .source(resources.secrets)
      .list('ns')
      .catch((e) => e)) as StatusError;
    expect(err).toBeInstanceOf(StatusError);
    expect([err.code, err.retryAfterSeconds, err.details?.retryAfterSeconds]).toEqual([429, MAX_RETRY_AFTER_SECONDS, HUGE]);
    expect(server.seen.list).toBe(1);
    await client.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('on the wall clock, a list makes one request and close() ends its wait and its timers', async () => {
    const server = await throttlingServer({ via: 'details', throttleLists: true });
    const client = clientFor(server.port, { requestTimeout: 10 * 60_000 });
    const list = outcome(client.source(resources.secrets).list('ns'));
    await until(() => server.seen.list >= 1, 'the first list');
    await new Promise((r) => setTimeout(r, 30));
    expect(server.seen.list).toBe(1);
    await client.close();
    await until(() => list.state !== 'pending', 'the list to end');
    expect(list.error).toBeInstanceOf(TransportError);
    expect(String(list.error)).toMatch(/is closed/);
  });

  it('that is not a positive number is ignored instead of turning into a zero or NaN wait', () => {
    for (const asked of [-5, 0, Number.NaN, '30' as unknown as number]) {
      expect(new StatusError(429, 'TooManyRequests', 'x', { retryAfterSeconds: asked }).retryAfterSeconds).toBeUndefined();
    }
    expect(new StatusError(429, 'TooManyRequests', 'x', { retryAfterSeconds: Infinity }).retryAfterSeconds).toBe(MAX_RETRY_AFTER_SECONDS);
  });
});
