// The Indexer under the Informer: client-go's ThreadSafeStore index bookkeeping, lookups
// that never scan or call index functions, and the remembered index values that keep a
// clock-dependent index from leaving stale keys.
import { describe, expect, it } from '@jest/globals';
import { Indexer, IndexNotFoundError } from '../../lib/cache/indexer.js';

interface Obj {
  metadata: { namespace: string; name: string; resourceVersion?: string; uid?: string };
  v?: string[];
}

const obj = (namespace: string, name: string, v: string[] = [], rv = '1'): Obj => ({ metadata: { namespace, name, resourceVersion: rv, uid: `${namespace}/${name}` }, v });

describe('Indexer', () => {
  it('computes index values once per write and never on lookups', () => {
    let calls = 0;
    const store = new Indexer<Obj>({ v: (o) => (calls++, o.v ?? []) });
    for (let i = 0; i < 100; i++) store.set(obj('ns', `o${i}`, [i % 2 ? 'odd' : 'even']));
    expect(calls).toBe(100);
    expect([...store.keysFor({ index: { name: 'v', value: 'odd' } })]).toHaveLength(50);
    expect([...store.keysFor({ namespace: 'ns', index: { name: 'v', value: 'even' } })]).toHaveLength(50);
    expect(calls).toBe(100);
  });

  it('intersects a namespace with an index value, and returns nothing for unknown values or namespaces', () => {
    const store = new Indexer<Obj>({ v: (o) => o.v ?? [] });
    store.set(obj('a', 'x', ['red', 'blue']));
    store.set(obj('b', 'y', ['red']));
    expect([...store.keysFor({ namespace: 'b', index: { name: 'v', value: 'red' } })]).toEqual(['b/y']);
    expect([...store.keysFor({ namespace: 'c', index: { name: 'v', value: 'red' } })]).toEqual([]);
    expect([...store.keysFor({ index: { name: 'v', value: 'green' } })]).toEqual([]);
    expect(() => store.keysFor({ index: { name: 'nope', value: 'x' } })).toThrow(IndexNotFoundError);
  });

  it('removes exactly the values an object was indexed under, even if its index function would now answer differently', () => {
    let now = 0;
    // A clock-dependent index, like the sandbox pool's "shutdown time not yet reached".
    const store = new Indexer<Obj>({ live: (o) => (now < 10 ? (o.v ?? []) : []) });
    store.set(obj('ns', 'x', ['pool']));
    now = 20;
    store.set(obj('ns', 'x', ['pool'], '2'));
    expect(store.indexValues('live')).toEqual([]);
    now = 0;
    store.set(obj('ns', 'x', ['pool'], '3'));
    store.delete(obj('ns', 'x'));
    expect(store.indexValues('live')).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('dedupes repeated values and ignores non-strings from an index function', () => {
    const store = new Indexer<Obj>({ v: () => ['a', 'a', 7 as unknown as string] });
    store.set(obj('ns', 'x'));
    expect([...store.keysFor({ index: { name: 'v', value: 'a' } })]).toEqual(['ns/x']);
    expect(store.indexValues('v')).toEqual(['a']);
  });

  it('replace reports deletes, adds and version changes, and keeps the stored reference for an unchanged version', () => {
    const store = new Indexer<Obj>({ v: (o) => o.v ?? [] });
    const same = obj('ns', 'same', ['s']);
    store.set(same);
    store.set(obj('ns', 'changed', ['c']));
    store.set(obj('ns', 'gone', ['g']));
    const changes = store.replace([obj('ns', 'same', ['s']), obj('ns', 'changed', ['c2'], '2'), obj('ns', 'new', ['n'])]);
    expect(changes.map((c) => `${c.type} ${c.object.metadata.name}`).sort()).toEqual(['ADDED new', 'DELETED gone', 'MODIFIED changed']);
    expect(store.get('ns/same')).toBe(same);
    expect(store.indexValues('v').sort()).toEqual(['c2', 'n', 's']);
  });
});
