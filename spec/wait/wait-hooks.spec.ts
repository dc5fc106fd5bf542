// Ports the key, WaitEntry and Acquire/Release scenarios of openkruise agents'
// pkg/cache/utils/wait_test.go, and the Sandbox and Checkpoint WaitReconciler tests
// (controllers/cache_controller_*_wait_test.go) as WaitHooks.notify / notifyDeleted.
import { describe, expect, it } from '@jest/globals';
import { WaitTaskConflictError } from '../../lib/wait/errors.js';
import { WaitEntry, WaitHooks, waitHookKey, waitHookRefOf } from '../../lib/wait/wait-hooks.js';

const SBX = { apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Sandbox' };
const CP = { apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Checkpoint' };
const sandbox = (name: string, namespace = 'default', phase?: string) => ({ ...SBX, metadata: { namespace, name }, status: { phase } });

describe('wait hook keys', () => {
  it('are apiVersion/kind/namespace/name, also with an empty namespace', () => {
    expect(waitHookKey({ ...SBX, namespace: 'default', name: 'x' })).toBe('agents.kruise.io/v1alpha1/Sandbox/default/x');
    expect(waitHookKey({ ...SBX, namespace: '', name: 'x' })).toBe('agents.kruise.io/v1alpha1/Sandbox//x');
  });

  it('differ across kinds with the same namespace and name, and across names and namespaces', () => {
    const keys = new Set([
      waitHookKey({ ...SBX, namespace: 'default', name: 'x' }),
      waitHookKey({ ...CP, namespace: 'default', name: 'x' }),
      waitHookKey({ ...SBX, namespace: 'other', name: 'x' }),
      waitHookKey({ ...SBX, namespace: 'default', name: 'y' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('from a request (a bare ref) equal the key from the object', () => {
    const ref = waitHookRefOf(sandbox('x'))!;
    expect(waitHookKey(ref)).toBe(waitHookKey({ apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Sandbox', namespace: 'default', name: 'x' }));
    expect(waitHookRefOf({ metadata: { name: 'x' } })).toBeUndefined();
  });
});

describe('WaitEntry', () => {
  it("starts open with its action and the first acquirer's signal (the entry context)", () => {
    const ac = new AbortController();
    const entry = new WaitEntry('Resume', () => true, ac.signal);
    expect([entry.action, entry.closed, entry.signal]).toEqual(['Resume', false, ac.signal]);
  });

  it('close wakes every listener once and is idempotent; a listener added after close runs at once', () => {
    const entry = new WaitEntry('Pause', () => false);
    let woken = 0;
    entry.onClose(() => woken++);
    const removed = entry.onClose(() => woken++);
    removed();
    entry.close();
    entry.close();
    entry.close();
    expect(entry.closed).toBe(true);
    expect(woken).toBe(1);
    entry.onClose(() => woken++);
    expect(woken).toBe(2);
  });

  it('check runs the checker: true, false, or its error', () => {
    const obj = sandbox('test', 'default', 'Running');
    expect(new WaitEntry('WaitReady', (o: typeof obj) => o.status.phase === 'Running').check(obj)).toBe(true);
    expect(new WaitEntry('WaitReady', (o: typeof obj) => o.status.phase === 'Pending').check(obj)).toBe(false);
    const boom = new Error('boom');
    expect(() =>
      new WaitEntry('WaitReady', () => {
        throw boom;
      }).check(obj),
    ).toThrow(boom);
  });
});

describe('WaitHooks acquire and release', () => {
  const key = waitHookKey({ ...SBX, namespace: 'default', name: 'sbx-refcount' });

  it('gives a same-action waiter the same entry; refs 2 -> 1 keeps it, 0 deletes it', () => {
    const hooks = new WaitHooks();
    const a = hooks.acquire(key, 'Resume', () => false);
    const b = hooks.acquire(key, 'Resume', () => true);
    expect(b).toBe(a);
    expect(a.refs).toBe(2);
    hooks.release(key, a);
    expect(hooks.get(key)).toBe(a);
    hooks.release(key, b);
    expect(hooks.get(key)).toBeUndefined();
    expect(hooks.size).toBe(0);
  });

  it('refuses a different action without counting it', () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'Resume', () => false);
    expect(() => hooks.acquire(key, 'Pause', () => false)).toThrow(WaitTaskConflictError);
    expect(() => hooks.acquire(key, 'Pause', () => false)).toThrow('already exists');
    expect(entry.refs).toBe(1);
    hooks.release(key, entry);
    expect(hooks.size).toBe(0);
  });

  it('compare-and-delete: releasing an old entry never removes a newer one under the same key', () => {
    const hooks = new WaitHooks();
    const old = hooks.acquire(key, 'Resume', () => false);
    old.retain(); // a waiter that has not released yet
    hooks.release(key, old);
    hooks.release(key, old);
    const fresh = hooks.acquire(key, 'Pause', () => false);
    // A stray late release of the old entry (its count is already 0) must leave `fresh` alone.
    hooks.release(key, old);
    expect(hooks.get(key)).toBe(fresh);
  });
});

// The event side: for every event the wait reconciler ran the first acquirer's check and
// closed the entry on satisfied or error; a missing object closed it. It never failed.
describe.each([
  { kind: 'Sandbox', meta: SBX, satisfied: { phase: 'Running' }, unsatisfied: { phase: 'Pending' } },
  { kind: 'Checkpoint', meta: CP, satisfied: { phase: 'Succeeded' }, unsatisfied: { phase: 'Pending' } },
])('wait reconciler for $kind (notify / notifyDeleted)', ({ meta, satisfied, unsatisfied }) => {
  const obj = (status: object) => ({ ...meta, metadata: { namespace: 'default', name: 'obj' }, status });
  const key = waitHookKey({ ...meta, namespace: 'default', name: 'obj' });
  const check = (o: { status: { phase?: string } }) => o.status.phase === satisfied.phase;

  it('does nothing when no hook exists at all', () => {
    const hooks = new WaitHooks();
    expect(() => hooks.notify(obj(satisfied))).not.toThrow();
    expect(() => hooks.notifyDeleted({ ...meta, namespace: 'default', name: 'obj' })).not.toThrow();
    expect(hooks.size).toBe(0);
  });

  it("leaves other objects' hooks alone", () => {
    const hooks = new WaitHooks();
    const other = hooks.acquire(waitHookKey({ ...meta, namespace: 'default', name: 'other' }), 'A', check);
    hooks.notify(obj(satisfied));
    expect(other.closed).toBe(false);
  });

  it('closes the hook when the check is satisfied', () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', check);
    hooks.notify(obj(satisfied));
    expect(entry.closed).toBe(true);
  });

  it("closes the hook when the check is satisfied even though the first acquirer's signal was aborted", () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', check, AbortSignal.abort());
    hooks.notify(obj(satisfied));
    expect(entry.closed).toBe(true);
  });

  it('keeps the hook open when the check is not satisfied', () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', check);
    hooks.notify(obj(unsatisfied));
    expect(entry.closed).toBe(false);
  });

  it('closes the hook when the check throws, without throwing itself', () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', () => {
      throw new Error('bad');
    });
    expect(() => hooks.notify(obj(unsatisfied))).not.toThrow();
    expect(entry.closed).toBe(true);
  });

  it('closes the hook when the object is not found (deleted)', () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', check);
    hooks.notifyDeleted({ ...meta, namespace: 'default', name: 'obj' });
    expect(entry.closed).toBe(true);
  });

  it("uses the first acquirer's check for every joiner", () => {
    const hooks = new WaitHooks();
    const entry = hooks.acquire(key, 'A', check);
    hooks.acquire(key, 'A', () => true);
    hooks.notify(obj(unsatisfied));
    expect(entry.closed).toBe(false);
  });
});
