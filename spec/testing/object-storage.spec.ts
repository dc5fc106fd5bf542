// ObjectStorage: the in-memory API state behind the test source. Its rules are the server's
// rules refwatch meets in practice, so the reflector and manager tests can trust them.
import { describe, expect, it } from '@jest/globals';
import { StatusError, isGone, isTooLargeResourceVersion } from '../../lib/api/errors.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { WatchEvent } from '../../lib/api/source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';

const NS = 'ns1';
const secrets = resources.secrets;

type Secret = KubeObject & { data?: Record<string, string>; immutable?: boolean };

function secret(name: string, extra: Partial<Secret> = {}, labels?: Record<string, string>): Secret {
  return { metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, ...extra };
}

function names(items: KubeObject[]): string[] {
  return items.map((i) => i.metadata!.name!);
}

function thrown(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StatusError);
    return err as StatusError;
  }
  throw new Error('expected the call to throw');
}

/** Collects what a watch delivers, as `TYPE name@rv` strings. */
function recorder(): { events: WatchEvent<KubeObject>[]; seen: () => string[]; listener: (e: WatchEvent<KubeObject>) => void } {
  const events: WatchEvent<KubeObject>[] = [];
  return {
    events,
    listener: (e) => events.push(e),
    seen: () => events.map((e) => `${e.type} ${e.object?.metadata?.name ?? ''}@${e.object?.metadata?.resourceVersion ?? ''}`),
  };
}

describe('ObjectStorage', () => {
  it('hands out resourceVersions from one counter shared by all resources', () => {
    const storage = new ObjectStorage();
    expect(storage.resourceVersion).toBe('1000');
    const s = storage.create(secrets, secret('a'));
    const cm = storage.create(resources.configMaps, { metadata: { name: 'a', namespace: NS } });
    const s2 = storage.update(secrets, { ...s, data: { k: 'dg==' } } as KubeObject);
    expect([s, cm, s2].map((o) => o.metadata?.resourceVersion)).toEqual(['1001', '1002', '1003']);
    expect(storage.resourceVersion).toBe('1003');
    storage.delete(resources.configMaps, NS, 'a');
    expect(storage.resourceVersion).toBe('1004');
  });

  it('lists in pages from one snapshot even when objects change between pages', () => {
    const storage = new ObjectStorage();
    for (const n of ['a', 'b', 'c', 'd']) storage.create(secrets, secret(n, { data: { v: 'MQ==' } }));
    const first = storage.list(secrets, NS, { resourceVersion: '', limit: 2 });
    expect(names(first.items)).toEqual(['a', 'b']);
    expect(first.metadata.resourceVersion).toBe('1004');
    expect(first.metadata.continue).toEqual(expect.any(String));

    storage.update(secrets, { ...storage.get(secrets, NS, 'c'), data: { v: 'Mg==' } } as KubeObject);
    storage.delete(secrets, NS, 'd');
    storage.create(secrets, secret('e'));
    storage.delete(secrets, NS, 'a');

    const second = storage.list(secrets, NS, { continue: first.metadata.continue, limit: 2 });
    expect(names(second.items)).toEqual(['c', 'd']);
    expect((second.items[0] as Secret).data).toEqual({ v: 'MQ==' });
    expect(second.items[0].metadata?.resourceVersion).toBe('1003');
    expect(second.metadata.resourceVersion).toBe('1004');
    expect(second.metadata.continue).toBeUndefined();

    // A fresh list sees the current state.
    expect(names(storage.list(secrets, NS, { resourceVersion: '' }).items)).toEqual(['b', 'c', 'e']);
  });

  it('rejects a continue token from before a compaction with 410', () => {
    const storage = new ObjectStorage();
    for (const n of ['a', 'b', 'c']) storage.create(secrets, secret(n));
    const first = storage.list(secrets, NS, { limit: 1 });
    storage.create(secrets, secret('d'));
    storage.compact();
    const err = thrown(() => storage.list(secrets, NS, { continue: first.metadata.continue, limit: 1 }));
    expect(err.code).toBe(410);
    expect(isGone(err)).toBe(true);
    expect(err.message).toContain('continue');
  });

  it('rejects a list at a resourceVersion newer than its own with "Too large resource version"', () => {
    const storage = new ObjectStorage();
    storage.create(secrets, secret('a'));
    const err = thrown(() => storage.list(secrets, NS, { resourceVersion: '5000' }));
    expect(isTooLargeResourceVersion(err)).toBe(true);
    expect(err.code).toBe(504);
    expect(err.message).toContain('Too large resource version');
    expect(isGone(err)).toBe(false);
    // An RV it has reached is fine ("not older than").
    expect(storage.list(secrets, NS, { resourceVersion: '1001' }).metadata.resourceVersion).toBe('1001');
  });

  it('serves resourceVersion "0" whole, ignoring the page size', () => {
    const storage = new ObjectStorage();
    for (const n of ['a', 'b', 'c']) storage.create(secrets, secret(n));
    const list = storage.list(secrets, NS, { resourceVersion: '0', limit: 1 });
    expect(names(list.items)).toEqual(['a', 'b', 'c']);
    expect(list.metadata.continue).toBeUndefined();
  });

  it('replays the changes after a resourceVersion to a watch started from it, then streams new ones', () => {
    const storage = new ObjectStorage();
    const a = storage.create(secrets, secret('a')); // 1001
    storage.create(secrets, secret('b')); // 1002
    storage.create(resources.configMaps, { metadata: { name: 'cm', namespace: NS } }); // 1003, another resource
    storage.update(secrets, { ...a, data: { k: 'dg==' } } as KubeObject); // 1004
    const r = recorder();
    const stop = storage.watch(secrets, NS, { resourceVersion: '1001' }, r.listener);
    expect(r.seen()).toEqual(['ADDED b@1002', 'MODIFIED a@1004']);
    storage.delete(secrets, NS, 'b');
    expect(r.seen().at(-1)).toBe('DELETED b@1005');
    stop();
    storage.create(secrets, secret('c'));
    expect(r.events).toHaveLength(3);
    expect(storage.watchCount).toBe(0);
  });

  it('answers a watch from before a compaction with one ERROR event, code 410, and no subscription', () => {
    const storage = new ObjectStorage();
    storage.create(secrets, secret('a'));
    storage.create(secrets, secret('b'));
    storage.compact();
    const r = recorder();
    storage.watch(secrets, NS, { resourceVersion: '1001' }, r.listener);
    expect(r.events).toHaveLength(1);
    expect(r.events[0].type).toBe('ERROR');
    expect(r.events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(storage.watchCount).toBe(0);
    storage.create(secrets, secret('c'));
    expect(r.events).toHaveLength(1);
    // From the compaction point itself, the watch is fine.
    const ok = recorder();
    storage.watch(secrets, NS, { resourceVersion: '1002' }, ok.listener);
    expect(ok.seen()).toEqual(['ADDED c@1003']);
  });

  it('shows a label-selector watch DELETED when an object stops matching and ADDED when it starts', () => {
    const storage = new ObjectStorage();
    const web = storage.create(secrets, secret('web', {}, { app: 'web' }));
    storage.create(secrets, secret('db', {}, { app: 'db' }));
    const r = recorder();
    storage.watch(secrets, NS, { resourceVersion: storage.resourceVersion, labelSelector: 'app=web' }, r.listener);
    storage.patch(secrets, NS, 'db', { metadata: { annotations: { x: 'y' } } }); // never matches
    storage.patch(secrets, NS, 'web', { metadata: { labels: { tier: 'front' } } }); // still matches
    storage.patch(secrets, NS, 'web', { metadata: { labels: { app: 'api' } } }); // stops matching
    storage.patch(secrets, NS, 'web', { metadata: { annotations: { note: '1' } } }); // still not matching
    storage.patch(secrets, NS, 'db', { metadata: { labels: { app: 'web' } } }); // starts matching
    expect(r.seen()).toEqual(['MODIFIED web@1004', 'DELETED web@1005', 'ADDED db@1007']);
    expect(web.metadata?.labels).toEqual({ app: 'web' });
  });

  it('filters lists and watches by the field selector metadata.name', () => {
    const storage = new ObjectStorage();
    storage.create(secrets, secret('a'));
    storage.create(secrets, secret('b'));
    storage.create(secrets, { metadata: { name: 'a', namespace: 'ns2' } });
    expect(names(storage.list(secrets, NS, { fieldSelector: 'metadata.name=a' }).items)).toEqual(['a']);
    expect(storage.list(secrets, '', { fieldSelector: 'metadata.name=a' }).items.map((i) => i.metadata?.namespace)).toEqual(['ns1', 'ns2']);
    const r = recorder();
    storage.watch(secrets, NS, { resourceVersion: storage.resourceVersion, fieldSelector: 'metadata.name=b' }, r.listener);
    storage.patch(secrets, NS, 'a', { data: { k: 'dg==' } });
    storage.patch(secrets, NS, 'b', { data: { k: 'dg==' } });
    storage.delete(secrets, NS, 'b');
    expect(r.seen()).toEqual(['MODIFIED b@1005', 'DELETED b@1006']);
    expect(storage.list(secrets, NS, { fieldSelector: 'metadata.name=b' }).items).toEqual([]);
  });

  it('refuses a data change to an immutable Secret with 422 but allows a label change', () => {
    const storage = new ObjectStorage();
    const s = storage.create(secrets, secret('frozen', { immutable: true, data: { k: 'djE=' } })) as Secret;
    const dataErr = thrown(() => storage.update(secrets, { ...s, data: { k: 'djI=' } } as KubeObject));
    expect(dataErr.code).toBe(422);
    expect(dataErr.reason).toBe('Invalid');
    expect(dataErr.message).toContain('data');
    const unfreeze = thrown(() => storage.update(secrets, { ...s, immutable: false } as KubeObject));
    expect(unfreeze.code).toBe(422);
    expect(storage.get(secrets, NS, 'frozen')).toMatchObject({ immutable: true, data: { k: 'djE=' } });

    const labelled = storage.update(secrets, { ...s, metadata: { ...s.metadata, labels: { team: 'x' } } } as KubeObject);
    expect(labelled.metadata?.labels).toEqual({ team: 'x' });
    expect(labelled.metadata?.resourceVersion).toBe('1002');
  });

  it('rejects an update carrying a stale resourceVersion with 409 Conflict', () => {
    const storage = new ObjectStorage();
    const v1 = storage.create(secrets, secret('a'));
    storage.update(secrets, { ...v1, data: { k: 'dg==' } } as KubeObject);
    const err = thrown(() => storage.update(secrets, { ...v1, data: { k: 'dw==' } } as KubeObject));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(storage.get(secrets, NS, 'a')).toMatchObject({ data: { k: 'dg==' }, metadata: { resourceVersion: '1002' } });
  });

  it('applies a JSON merge patch: adds, replaces and removes (null) keys', () => {
    const storage = new ObjectStorage();
    storage.create(secrets, secret('a', { data: { keep: 'MQ==', drop: 'Mg==', change: 'Mw==' } }, { app: 'x' }));
    const patched = storage.patch(secrets, NS, 'a', {
      metadata: { labels: { tier: 'y' } },
      data: { drop: null, change: 'NA==', add: 'NQ==' },
    }) as Secret;
    expect(patched.data).toEqual({ keep: 'MQ==', change: 'NA==', add: 'NQ==' });
    expect(patched.metadata?.labels).toEqual({ app: 'x', tier: 'y' });
    expect(patched.metadata?.resourceVersion).toBe('1002');
    expect(patched.metadata?.uid).toBe(storage.get(secrets, NS, 'a').metadata?.uid);
    // A patch naming a stale resourceVersion is an optimistic-lock conflict.
    expect(thrown(() => storage.patch(secrets, NS, 'a', { metadata: { resourceVersion: '1001' }, data: { x: 'eQ==' } })).code).toBe(409);
  });

  it('returns copies: mutating what it handed out does not change stored objects', () => {
    const storage = new ObjectStorage();
    const created = storage.create(secrets, secret('a', { data: { k: 'MQ==' } })) as Secret;
    created.data!.k = 'changed';
    const listed = storage.list(secrets, NS).items[0] as Secret;
    listed.data!.k = 'changed too';
    expect((storage.get(secrets, NS, 'a') as Secret).data).toEqual({ k: 'MQ==' });
  });

  it('answers 404 NotFound and 409 AlreadyExists as the server words them', () => {
    const storage = new ObjectStorage();
    const missing = thrown(() => storage.get(secrets, NS, 'nope'));
    expect(missing.code).toBe(404);
    expect(missing.message).toBe('secrets "nope" not found');
    storage.create(secrets, secret('a'));
    const dup = thrown(() => storage.create(secrets, secret('a')));
    expect(dup.code).toBe(409);
    expect(dup.reason).toBe('AlreadyExists');
  });
});
