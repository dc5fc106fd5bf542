// The error predicates on refwatch's StatusError and on client-node's ApiException: code that
// mixes client-node's generated APIs with refwatch branches the same way on both, whether the
// ApiException's body is the Status as text, a parsed Status, or nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiException, CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import {
  StatusError,
  isForbidden,
  isGone,
  isInternalError,
  isNotFound,
  isResourceExpired,
  isTooLargeResourceVersion,
  isTooManyRequests,
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
