// Ports openkruise agents' CustomReconciler tests (controllers/cache_controller_sandbox_custom
// _test.go, ..._sandboxset_custom_test.go, AddReconcileHandlers in cache_controllers_test.go)
// and covers driving the registry from an informer: one reconcile per object at a time,
// events meanwhile collapsed into one more.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../lib/api/object.js';
import { Informer } from '../../lib/cache/informer.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { ReconcileHandlers } from '../../lib/wait/reconcile-handlers.js';
import { LEVEL, capturePino } from '../util/log-capture.js';
import { AbortError } from '../../lib/util/abort.js';

const sandboxes = { group: 'agents.kruise.io', version: 'v1alpha1', resource: 'sandboxes', kind: 'Sandbox', namespaced: true };
const existing: KubeObject = { apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Sandbox', metadata: { namespace: 'default', name: 'test-sandbox' } };
const lookup = (obj?: KubeObject) => (ns: string, name: string) => (obj && obj.metadata?.namespace === ns && obj.metadata.name === name ? obj : undefined);

function counting(registry: ReconcileHandlers<KubeObject>, n = 1) {
  const counts = { update: 0, delete: 0 };
  for (let i = 0; i < n; i++) registry.add((_obj, notFound) => void (notFound ? counts.delete++ : counts.update++));
  return counts;
}

describe('ReconcileHandlers', () => {
  it('does nothing and does not even look the object up with no handlers', async () => {
    let lookups = 0;
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    await expect(registry.reconcile('default', 'test-sandbox', () => (lookups++, existing))).resolves.toEqual({});
    expect(lookups).toBe(0);
  });

  it('calls a handler once with the cached object (update 1, delete 0)', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    const counts = counting(registry);
    await expect(registry.reconcile('default', 'test-sandbox', lookup(existing))).resolves.toEqual({});
    expect(counts).toEqual({ update: 1, delete: 0 });
  });

  it('passes only namespace and name with notFound when the cache lacks the object (update 0, delete 1)', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxSetCustom');
    const seen: Array<[KubeObject, boolean]> = [];
    registry.add((obj, notFound) => void seen.push([obj, notFound]));
    await registry.reconcile('default', 'test-sandbox', lookup());
    expect(seen).toEqual([[{ metadata: { namespace: 'default', name: 'test-sandbox' } }, true]]);
  });

  it('calls every handler in order (3 handlers, 3 calls)', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    const order: number[] = [];
    for (const i of [1, 2, 3]) registry.add(() => void order.push(i));
    await registry.reconcile('default', 'test-sandbox', lookup(existing));
    expect(order).toEqual([1, 2, 3]);
  });

  it('stops the chain at the first error and rejects with it', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    const boom = new Error('handler failed');
    const order: number[] = [];
    registry.add(() => void order.push(1));
    registry.add(async () => {
      order.push(2);
      throw boom;
    });
    registry.add(() => void order.push(3));
    await expect(registry.reconcile('default', 'test-sandbox', lookup(existing))).rejects.toBe(boom);
    expect(order).toEqual([1, 2]);
  });

  it('returns the last result a handler gave', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    registry.add(
      () => ({ requeueAfter: 5_000 }),
      () => undefined,
    );
    await expect(registry.reconcile('default', 'test-sandbox', lookup(existing))).resolves.toEqual({ requeueAfter: 5_000 });
  });

  it('does not call a handler when it is added', () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    let calls = 0;
    registry.add(() => void calls++);
    expect([calls, registry.size]).toEqual([0, 1]);
  });

  it('connected to an informer: reconciles each changed object, one at a time, collapsing events that arrive meanwhile', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<KubeObject>(sandboxes);
    const informer = new Informer<KubeObject>({ source, clock });
    const { logger, lines } = capturePino();
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom', logger);
    let release!: () => void;
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    registry.add(async (obj, notFound) => {
      maxRunning = Math.max(maxRunning, ++running);
      seen.push(notFound ? `${obj.metadata?.name} gone` : `${obj.metadata?.name} rv=${obj.metadata?.resourceVersion}`);
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
      running--;
      if (obj.metadata?.name === 'fails') throw new Error('nope');
    });
    const sub = registry.connect(informer);
    informer.start();
    await informer.synced();
    source.create({ metadata: { namespace: 'default', name: 'a' } });
    await settle();
    for (let i = 0; i < 3; i++) source.put({ metadata: { namespace: 'default', name: 'a' }, data: i } as KubeObject);
    source.create({ metadata: { namespace: 'default', name: 'fails' } });
    await settle();
    release();
    await registry.idle();
    const last = informer.get('default', 'a')!.metadata!.resourceVersion;
    expect(seen).toEqual(['a rv=1001', 'fails rv=1005', `a rv=${last}`]);
    expect(maxRunning).toBe(2); // two objects in parallel, never one object twice
    expect(lines.map(({ level, msg, reconciler, object, error }) => ({ level, msg, reconciler, object, error }))).toEqual([
      { level: LEVEL.error, msg: 'reconcile handler failed', reconciler: 'SandboxCustom', object: 'default/fails', error: 'nope' },
    ]);
    sub.unsubscribe();
    await informer.close();
  });

  it('stops a reconcile when its signal aborts: the running handler is told, later handlers are not called', async () => {
    const registry = new ReconcileHandlers<KubeObject>('SandboxCustom');
    const seen: string[] = [];
    let handed: AbortSignal | undefined;
    registry.add(
      (obj, _notFound, signal) =>
        new Promise<void>((resolve) => {
          handed = signal;
          seen.push(`first ${obj.metadata?.name}`);
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      () => void seen.push('second'),
    );
    const leaving = new AbortController();
    const running = registry.reconcile('default', 'a', () => undefined, leaving.signal);
    await settle();
    leaving.abort();
    await expect(running).rejects.toBeInstanceOf(AbortError);
    await settle();
    expect(seen).toEqual(['first a']);
    expect(handed?.aborted).toBe(true);
    await expect(registry.reconcile('default', 'a', () => undefined, AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
    expect(seen).toEqual(['first a']);
  });
});
