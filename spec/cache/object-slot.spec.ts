// ObjectSlot: the single-object store behind one per-object reflector.
import { describe, expect, it, jest } from '@jest/globals';
import type { KubeObject } from '../../lib/api/object.js';
import { ObjectSlot } from '../../lib/cache/object-slot.js';

const NS = 'ns1';

function obj(name: string, resourceVersion: string, extra: Record<string, unknown> = {}, namespace = NS): KubeObject {
  return { metadata: { name, namespace, uid: `uid-${name}`, resourceVersion }, ...extra } as KubeObject;
}

describe('ObjectSlot', () => {
  it('is empty and not synced until a replace sets the value and marks it synced', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    expect(slot.hasSynced).toBe(false);
    expect(slot.value).toBeUndefined();
    const a = obj('a', '10');
    slot.replace([a], '10');
    expect(slot.hasSynced).toBe(true);
    expect(slot.value).toBe(a);
  });

  it('is synced after a replace with no items, with no value', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    slot.replace([], '10');
    expect(slot.hasSynced).toBe(true);
    expect(slot.value).toBeUndefined();
  });

  it('does not become synced through add or update', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    slot.add(obj('a', '1'));
    slot.update(obj('a', '2'));
    expect(slot.hasSynced).toBe(false);
    expect(slot.value?.metadata?.resourceVersion).toBe('2');
  });

  it('unsetSynced marks it stale until the next replace, keeping the value', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    slot.replace([obj('a', '1')], '1');
    slot.unsetSynced();
    expect(slot.hasSynced).toBe(false);
    expect(slot.value?.metadata?.resourceVersion).toBe('1');
    slot.replace([obj('a', '2')], '2');
    expect(slot.hasSynced).toBe(true);
    expect(slot.value?.metadata?.resourceVersion).toBe('2');
  });

  it('onceSynced fires once on the first sync, and at once when already synced', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const fn = jest.fn();
    slot.onceSynced(fn);
    expect(fn).not.toHaveBeenCalled();
    slot.replace([], '1');
    expect(fn).toHaveBeenCalledTimes(1);
    slot.replace([obj('a', '2')], '2');
    slot.unsetSynced();
    slot.replace([obj('a', '3')], '3');
    expect(fn).toHaveBeenCalledTimes(1);

    const late = jest.fn();
    slot.onceSynced(late);
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('onceSynced can be cancelled before the sync', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const cancelled = jest.fn();
    const kept = jest.fn();
    const cancel = slot.onceSynced(cancelled);
    slot.onceSynced(kept);
    cancel();
    slot.replace([], '1');
    expect(cancelled).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
  });

  it('onceSynced waits again after unsetSynced', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    slot.replace([], '1');
    slot.unsetSynced();
    const fn = jest.fn();
    slot.onceSynced(fn);
    expect(fn).not.toHaveBeenCalled();
    slot.replace([], '2');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('notifies subscribers on the first sync even when the object is absent', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const seen: (KubeObject | undefined)[] = [];
    slot.subscribe((v) => seen.push(v));
    slot.replace([], '1');
    expect(seen).toStrictEqual([undefined]);
  });

  it('notifies subscribers of changes after the sync: add, update, delete', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const seen: (string | undefined)[] = [];
    slot.subscribe((v) => seen.push(v?.metadata?.resourceVersion));
    slot.replace([obj('a', '1')], '1');
    slot.update(obj('a', '2'));
    slot.delete(obj('a', '3'));
    slot.add(obj('a', '4'));
    expect(seen).toStrictEqual(['1', '2', undefined, '4']);
  });

  it('does not notify on a replace or update with the same resourceVersion', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const listener = jest.fn();
    slot.subscribe(listener);
    slot.replace([obj('a', '5')], '5');
    expect(listener).toHaveBeenCalledTimes(1);
    slot.replace([obj('a', '5')], '7'); // a relist returning the same object version
    slot.update(obj('a', '5'));
    expect(listener).toHaveBeenCalledTimes(1);
    slot.replace([obj('a', '6')], '8');
    expect(listener).toHaveBeenCalledTimes(2);
    expect(listener).toHaveBeenLastCalledWith(expect.objectContaining({ metadata: expect.objectContaining({ resourceVersion: '6' }) }));
  });

  it('notifies when a relist finds the object gone', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const listener = jest.fn();
    slot.replace([obj('a', '5')], '5');
    slot.subscribe(listener);
    slot.replace([], '9');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith(undefined);
    expect(slot.value).toBeUndefined();
  });

  it('does not notify subscribers before the first sync', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const listener = jest.fn();
    slot.subscribe(listener);
    slot.add(obj('a', '1'));
    slot.delete(obj('a', '1'));
    expect(listener).not.toHaveBeenCalled();
  });

  it('stops notifying after unsubscribe', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const listener = jest.fn();
    const unsubscribe = slot.subscribe(listener);
    slot.replace([obj('a', '1')], '1');
    unsubscribe();
    slot.update(obj('a', '2'));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('ignores and counts objects with another name or namespace', () => {
    const slot = new ObjectSlot<KubeObject>(NS, 'a');
    const listener = jest.fn();
    slot.subscribe(listener);
    slot.replace([obj('b', '1'), obj('a', '2'), obj('a', '3', {}, 'ns2')], '3');
    expect(slot.value?.metadata?.resourceVersion).toBe('2');
    expect(slot.foreignObjects).toBe(2);
    listener.mockClear();

    slot.add(obj('b', '4'));
    slot.update(obj('c', '5'));
    slot.delete(obj('b', '6'));
    slot.update(obj('a', '7', {}, 'other'));
    expect(slot.value?.metadata?.resourceVersion).toBe('2');
    expect(slot.foreignObjects).toBe(6);
    expect(listener).not.toHaveBeenCalled();
  });

  it('accepts an object without a namespace (cluster-scoped)', () => {
    const slot = new ObjectSlot<KubeObject>('', 'node1');
    slot.replace([{ metadata: { name: 'node1', uid: 'uid-node1', resourceVersion: '1' } }], '1');
    expect(slot.value?.metadata?.name).toBe('node1');
    expect(slot.foreignObjects).toBe(0);
  });
});
