// ObjectWriter: what each write sends (apiVersion and kind added, a merge patch typed as one),
// and what its signal does: an aborted write rejects with refwatch's AbortError and leaves
// nothing written, also when it is aborted while waiting out a 429 and the wait then passes.
// A namespace or name that is no path segment is a rejection, like every other failure, not a
// throw at the call.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { isNotFound } from '../../lib/api/errors.js';
import { InvalidNameError } from '../../lib/api/names.js';
import { resources } from '../../lib/api/resource.js';
import type { ApiServer } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { AbortError, isAbortError } from '../../lib/util/abort.js';
import { serversPerTest } from '../testing/api-server/server-per-test.js';

const servers = serversPerTest();
const clients: KubeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function writerFor(server: ApiServer, opts: ConstructorParameters<typeof KubeClient>[1] = {}): ObjectWriter<V1ConfigMap> {
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc, opts);
  clients.push(client);
  return new ObjectWriter<V1ConfigMap>(client, resources.configMaps);
}

/** Lets I/O run until `done()` holds; a few ms of real time at most per turn. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(done()).toBe(true);
}

function stored(server: ApiServer, name: string): unknown {
  try {
    return server.storage.get(resources.configMaps, 'ns', name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

describe('ObjectWriter', () => {
  it('creates, merge-patches, replaces and deletes, sending apiVersion and kind', async () => {
    const server = await servers.start();
    const writer = writerFor(server);
    const created = await writer.create('ns', { metadata: { name: 'app' }, data: { mode: 'blue' } });
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { mode: 'blue' } });
    await writer.patch('ns', 'app', { data: { size: 'l' } });
    expect(stored(server, 'app')).toMatchObject({ data: { mode: 'blue', size: 'l' } });
    await writer.update('ns', 'app', { metadata: { name: 'app' }, data: { mode: 'green' } });
    expect(stored(server, 'app')).toMatchObject({ data: { mode: 'green' } });
    expect((stored(server, 'app') as V1ConfigMap).data).not.toHaveProperty('size');
    await writer.delete('ns', 'app');
    expect(stored(server, 'app')).toBeUndefined();
  });

  it('rejects a write to an invalid namespace or name with InvalidNameError, without throwing at the call or sending anything', async () => {
    const server = await servers.start();
    const writer = writerFor(server);
    const writes: Array<() => Promise<unknown>> = [
      () => writer.create('..', { metadata: { name: 'app' } }),
      () => writer.update('ns', 'a/b', { metadata: { name: 'a/b' } }),
      () => writer.patch('..', 'app', { data: { mode: 'blue' } }),
      () => writer.delete('ns', '..'),
    ];
    for (const write of writes) {
      let result: Promise<unknown> | undefined;
      expect(() => (result = write())).not.toThrow();
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toBeInstanceOf(InvalidNameError);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('sends nothing for a write whose signal already aborted, and rejects with AbortError', async () => {
    const server = await servers.start();
    const writer = writerFor(server);
    const write = writer.create('ns', { metadata: { name: 'app' } }, { signal: AbortSignal.abort() });
    await expect(write).rejects.toBeInstanceOf(AbortError);
    await expect(writer.delete('ns', 'app', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(server.requests.countBy('create') + server.requests.countBy('delete')).toBe(0);
  });

  it('rejects a create aborted while it waits out a 429 with AbortError, and writes nothing after', async () => {
    const server = await servers.start();
    const clock = new FakeClock();
    const writer = writerFor(server, { clock });
    server.faults.failNext(1, { code: 429, retryAfterSeconds: 5, verbs: ['create'] });
    const ctl = new AbortController();
    const write = writer.create('ns', { metadata: { name: 'app' } }, { signal: ctl.signal }).catch((err: unknown) => err);
    await until(() => server.requests.countBy('create') === 1);
    await settle(10);

    ctl.abort();
    const err = await write;
    expect(err).toBeInstanceOf(AbortError);
    expect(isAbortError(err)).toBe(true);
    expect((err as AbortError).message).toBe('request aborted while waiting 5000 ms to retry after a 429');

    // The retry it was waiting for never comes.
    await clock.advance(10_000);
    await settle(10);
    expect(server.requests.countBy('create')).toBe(1);
    expect(stored(server, 'app')).toBeUndefined();
  });
});
