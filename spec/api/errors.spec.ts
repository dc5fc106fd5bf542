// lib/api/errors.ts: StatusError as read from a Status (or from something that is not one,
// without quoting it), its bounded Retry-After, apimachinery's wording and reasons; and the
// predicates on it and on client-node's ApiException: code that mixes client-node's generated
// APIs with refwatch branches the same way on both, whether the ApiException's body is the
// Status as text, a parsed Status, or nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiException, CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import {
  MAX_RETRY_AFTER_SECONDS,
  StatusError,
  isConnectionRefused,
  isForbidden,
  isGone,
  isInternalError,
  isNotFound,
  isResourceExpired,
  isTooLargeResourceVersion,
  isTooManyRequests,
  newExpired,
  newNotFound,
  reasonForCode,
  type Status,
} from '../../lib/api/errors.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { resources } from '../../lib/api/resource.js';
import type { ObjectSource } from '../../lib/api/source.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';

const predicates = { isNotFound, isGone, isResourceExpired, isTooLargeResourceVersion, isTooManyRequests, isForbidden, isInternalError };
type PredicateName = keyof typeof predicates;

/** The names of the predicates that hold for `err`. */
function holding(err: unknown): PredicateName[] {
  return (Object.keys(predicates) as PredicateName[]).filter((name) => predicates[name](err));
}

function status(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, details };
}

/** As client-node's generated APIs throw it for a code they do not declare: the body is the response text. */
function thrownByGeneratedApi(code: number, body: Status | string | undefined): ApiException<unknown> {
  return new ApiException(code, 'Unknown API Status Code!', typeof body === 'object' ? JSON.stringify(body) : body, { 'content-type': 'application/json' });
}

describe('StatusError', () => {
  it('keeps what a Status says, and fills a missing reason or message from the code', () => {
    const full = StatusError.fromStatus(status(409, 'AlreadyExists', 'secrets "s" already exists', { name: 's', kind: 'secrets' }));
    expect(full).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'secrets "s" already exists', details: { name: 's', kind: 'secrets' } });
    const bare = StatusError.fromStatus({ kind: 'Status', code: 503 });
    expect(bare).toMatchObject({ code: 503, reason: 'ServiceUnavailable', message: 'the server reported ServiceUnavailable' });
    expect(StatusError.fromStatus({ kind: 'Status' }, 404)).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('reads anything that is not a Status as a 500 InternalError that names only its kind, never its contents', () => {
    const secret = { kind: 'Secret', data: { password: 'aHVudGVyMg==' } };
    const err = StatusError.fromStatus(secret);
    expect(err).toMatchObject({ code: 500, reason: 'InternalError', message: 'unexpected object in error position: kind Secret' });
    expect(err.message).not.toContain('aHVudGVyMg');
    expect(StatusError.fromStatus('oops').message).toBe('unexpected object in error position: string');
    expect(StatusError.fromStatus(null, 502)).toMatchObject({ code: 502, reason: 'InternalError' });
  });

  it('round-trips through the Status a server would send', () => {
    const err = new StatusError(429, 'TooManyRequests', 'slow down', { retryAfterSeconds: 2 });
    expect(StatusError.fromStatus(err.toStatus())).toEqual(err);
    expect(err.toStatus()).toEqual(status(429, 'TooManyRequests', 'slow down', { retryAfterSeconds: 2 }));
  });

  it(`honours a Retry-After of at most ${MAX_RETRY_AFTER_SECONDS} s, ignores one that is not a positive number, and keeps what was sent`, () => {
    const at = (retryAfterSeconds: unknown) => new StatusError(429, 'TooManyRequests', 'x', { retryAfterSeconds: retryAfterSeconds as number }).retryAfterSeconds;
    expect(at(3)).toBe(3);
    expect(at(3_000_000)).toBe(MAX_RETRY_AFTER_SECONDS);
    expect([at(0), at(-1), at(Number.NaN), at('5'), new StatusError(429, 'TooManyRequests', 'x').retryAfterSeconds]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(new StatusError(429, 'TooManyRequests', 'x', { retryAfterSeconds: 3_000_000 }).details?.retryAfterSeconds).toBe(3_000_000);
  });

  it('words NotFound and Expired as the apiserver does, and gives a bare code apimachinery’s reason', () => {
    const missing = newNotFound('secret', 'db');
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound', message: 'secret "db" not found', details: { name: 'db', kind: 'secret' } });
    expect(holding(missing)).toEqual(['isNotFound']);
    expect(holding(newExpired('too old resource version: 1 (5)'))).toEqual(['isGone', 'isResourceExpired']);
    expect([401, 410, 422, 504, 507, 418].map(reasonForCode)).toEqual(['Unauthorized', 'Gone', 'Invalid', 'Timeout', 'InternalError', 'Unknown']);
  });

  it('tells a resourceVersion the server has not reached by its cause or by its message', () => {
    expect(isTooLargeResourceVersion(new StatusError(504, 'Timeout', 'x', { causes: [{ reason: 'ResourceVersionTooLarge' }] }))).toBe(true);
    expect(isTooLargeResourceVersion(new StatusError(504, 'Timeout', 'Too large resource version: 12, current: 10'))).toBe(true);
    expect(isTooLargeResourceVersion(new StatusError(504, 'Timeout', 'request timed out'))).toBe(false);
  });

  it('finds a refused connection a few causes deep, and nowhere else', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(isConnectionRefused(refused)).toBe(true);
    expect(isConnectionRefused(new Error('list failed', { cause: new Error('request failed', { cause: refused }) }))).toBe(true);
    expect(isConnectionRefused(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isConnectionRefused(new StatusError(503, 'ServiceUnavailable', 'x'))).toBe(false);
  });
});

describe('predicates on client-node ApiException', () => {
  const cases: Array<{ what: string; code: number; body: Status; holds: PredicateName[] }> = [
    { what: 'a missing object', code: 404, body: status(404, 'NotFound', 'secrets "db" not found', { name: 'db', kind: 'secrets' }), holds: ['isNotFound'] },
    { what: 'a compacted resourceVersion', code: 410, body: status(410, 'Expired', 'too old resource version: 5 (900)'), holds: ['isGone', 'isResourceExpired'] },
    { what: 'a 410 Gone', code: 410, body: status(410, 'Gone', 'the resource is gone'), holds: ['isGone'] },
    {
      what: 'a resourceVersion the server has not reached',
      code: 504,
      body: status(504, 'Timeout', 'Too large resource version: 1000, current: 900', { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] }),
      holds: ['isTooLargeResourceVersion'],
    },
    { what: 'throttling', code: 429, body: status(429, 'TooManyRequests', 'too many requests, please try again later', { retryAfterSeconds: 3 }), holds: ['isTooManyRequests'] },
    { what: 'an RBAC denial', code: 403, body: status(403, 'Forbidden', 'secrets "db" is forbidden: User "reader" cannot get resource "secrets"'), holds: ['isForbidden'] },
    { what: 'a server failure', code: 500, body: status(500, 'InternalError', 'Internal error occurred: etcd timeout'), holds: ['isInternalError'] },
    { what: 'a conflict', code: 409, body: status(409, 'AlreadyExists', 'secrets "db" already exists'), holds: [] },
  ];

  it.each(cases)('recognises $what when the body is the Status as text', ({ code, body, holds }) => {
    expect(holding(thrownByGeneratedApi(code, body))).toEqual(holds);
  });

  it.each(cases)('recognises $what when the body is an already parsed Status', ({ code, body, holds }) => {
    expect(holding(new ApiException(code, 'request failed', body, {}))).toEqual(holds);
  });

  it.each(cases)('answers for $what exactly as for a StatusError from the same Status', ({ code, body }) => {
    expect(holding(thrownByGeneratedApi(code, body))).toEqual(holding(StatusError.fromStatus(body, code)));
  });

  it('reads a bare code when the body is missing, empty or not JSON', () => {
    expect(holding(new ApiException(404, 'Unauthorized', undefined, {}))).toEqual(['isNotFound']);
    expect(holding(thrownByGeneratedApi(404, ''))).toEqual(['isNotFound']);
    expect(holding(thrownByGeneratedApi(404, '<html><body>404 page not found</body></html>'))).toEqual(['isNotFound']);
    expect(holding(thrownByGeneratedApi(403, undefined))).toEqual(['isForbidden']);
    expect(holding(thrownByGeneratedApi(429, 'slow down'))).toEqual(['isTooManyRequests']);
    expect(holding(thrownByGeneratedApi(410, undefined))).toEqual(['isGone']);
  });

  it('prefers the reason in the Status over the bare code', () => {
    // A 404 whose Status names another reason is that reason, as apimachinery reads it.
    expect(isNotFound(thrownByGeneratedApi(404, status(404, 'Gone', 'moved')))).toBe(false);
    expect(isGone(thrownByGeneratedApi(404, status(404, 'Gone', 'moved')))).toBe(true);
    // A 404 whose Status gives no reason is still NotFound.
    expect(isNotFound(thrownByGeneratedApi(404, { kind: 'Status', code: 404 }))).toBe(true);
  });

  it('does not take other errors with a code for an ApiException', () => {
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED', body: undefined, headers: {} });
    const numericCodeOnly = Object.assign(new Error('not found'), { code: 404 });
    const notAnError = { code: 404, body: status(404, 'NotFound', 'x'), headers: {} };
    const fractional = Object.assign(new Error('odd'), { code: 404.5, body: undefined, headers: {} });
    for (const err of [system, numericCodeOnly, notAnError, fractional, undefined, null, 'NotFound', 404]) {
      expect(holding(err)).toEqual([]);
    }
  });
});

describe('predicates on errors from the same server through client-node and through refwatch', () => {
  let server: ApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let client: KubeClient;
  let noRetriesClient: KubeClient;
  let secrets: ObjectSource<V1Secret>;
  let noRetries: ObjectSource<V1Secret>;

  beforeAll(async () => {
    server = await ApiServer.start({ tokens: { 'admin-token': 'admin' } });
    kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    core = kc.makeApiClient(CoreV1Api);
    client = new KubeClient(kc);
    secrets = client.source(resources.secrets);
    noRetriesClient = new KubeClient(kc, { maxRetries: 0 });
    noRetries = noRetriesClient.source(resources.secrets);
    await core.createNamespacedSecret({ namespace: 'app', body: { metadata: { name: 'db' }, data: { password: 'c2VjcmV0' } } });
  });

  afterAll(async () => {
    await client.close();
    await noRetriesClient.close();
    await server.stop();
  });

  /** Both clients' rejections for one request. */
  async function bothFail(viaClientNode: () => Promise<unknown>, viaRefwatch: () => Promise<unknown>): Promise<[unknown, unknown]> {
    const a = await viaClientNode().then(
      () => new Error('client-node call succeeded'),
      (err: unknown) => err,
    );
    const b = await viaRefwatch().then(
      () => new Error('refwatch call succeeded'),
      (err: unknown) => err,
    );
    return [a, b];
  }

  it('branches the same on a missing secret', async () => {
    const [fromClientNode, fromRefwatch] = await bothFail(
      () => core.readNamespacedSecret({ namespace: 'app', name: 'missing' }),
      () => secrets.get('app', 'missing'),
    );
    expect(fromClientNode).toBeInstanceOf(ApiException);
    expect(holding(fromClientNode)).toEqual(['isNotFound']);
    expect(holding(fromClientNode)).toEqual(holding(fromRefwatch));
  });

  it('branches the same on throttling and on server failures', async () => {
    for (const [code, holds] of [
      [429, ['isTooManyRequests']],
      [500, ['isInternalError']],
      [503, []],
    ] as const) {
      // One failure for each client's single request (refwatch's is told not to retry 429s).
      server.faults.failNext(2, { code, verbs: ['get'] });
      const [fromClientNode, fromRefwatch] = await bothFail(
        () => core.readNamespacedSecret({ namespace: 'app', name: 'db' }),
        () => noRetries.get('app', 'db'),
      );
      expect(fromClientNode).toBeInstanceOf(ApiException);
      expect(fromRefwatch).toBeInstanceOf(StatusError);
      expect(holding(fromClientNode)).toEqual(holds);
      expect(holding(fromClientNode)).toEqual(holding(fromRefwatch));
    }
  });

  it('branches the same on a create that conflicts', async () => {
    const [fromClientNode, fromRefwatch] = await bothFail(
      () => core.createNamespacedSecret({ namespace: 'app', body: { metadata: { name: 'db' } } }),
      () => new ObjectWriter<V1Secret>(client, resources.secrets).create('app', { metadata: { name: 'db' } }),
    );
    expect(fromClientNode).toBeInstanceOf(ApiException);
    expect((fromClientNode as ApiException<unknown>).code).toBe(409);
    expect((fromRefwatch as StatusError).code).toBe(409);
    expect(holding(fromClientNode)).toEqual([]);
    expect(holding(fromRefwatch)).toEqual([]);
  });
});
