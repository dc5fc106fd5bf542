// Ports openkruise agents' pkg/cache/cache_test.go onto the SandboxProvider: every query
// with its error message, ad-hoc waits, cancellation, checkpoint waits, the regression
// "same action concurrent waits converge", the controller getters and BuildCacheConfig. The
// Provider runs against the embedded API server through the real transport on a FakeClock;
// where upstream closes a hook by hand after a fake-client write, here the status write goes
// over HTTP and the informer's watch event closes the hook, as in production.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../lib/api/object.js';
import { resources } from '../../../lib/api/resource.js';
import { WaitNotSatisfiedError, WaitTaskConflictError } from '../../../lib/wait/errors.js';
import { newWaitTask, type Update } from '../../../lib/wait/wait-task.js';
import { buildCacheConfig, persistentVolumes } from '../../../examples/sandbox-provider/cache-config.js';
import { NotInCacheError } from '../../../examples/sandbox-provider/provider.js';
import { getSandboxId, isSandboxReady } from '../../../examples/sandbox-provider/state.js';
import { ANNOTATION_OWNER, LABEL_SANDBOX_CLAIMED, LABEL_SANDBOX_TEMPLATE, sandboxResources, type Checkpoint, type Sandbox } from '../../../examples/sandbox-provider/types.js';
import { checkpoint, pausedCondition, ready, rigPerTest, sandbox, sandboxSet, sandboxSetOwner, type Rig } from './rig.js';

const start = rigPerTest();
const claimed = { labels: { [LABEL_SANDBOX_CLAIMED]: 'true' } };
const owned = (user: string) => ({ ...claimed, annotations: { [ANNOTATION_OWNER]: user } });

/** upstream's cachetest.NewAdHocTask: a lazy task with any action and check on the Provider's hooks. */
function adHoc<T extends KubeObject>(rig: Rig, obj: T, action: string, check: (o: T) => boolean, update: Update<T>, signal?: AbortSignal) {
  return newWaitTask<T>({ hooks: rig.provider.waitHooks, clock: rig.clock, object: obj, action, check, update, signal });
}

describe('queries', () => {
  it('getClaimedSandbox finds a claimed sandbox by id, and says "not found in cache" otherwise', async () => {
    const sbx = sandbox('default', 'test-sbx', claimed, { phase: 'Running' });
    const rig = await start([sbx]);
    expect(rig.provider.getClaimedSandbox({ sandboxId: getSandboxId(sbx) }).metadata.name).toBe('test-sbx');
    expect(() => rig.provider.getClaimedSandbox({ sandboxId: 'nonexistent-id' })).toThrow(NotInCacheError);
    expect(() => rig.provider.getClaimedSandbox({ sandboxId: 'nonexistent-id' })).toThrow('sandbox nonexistent-id not found in cache');
    await rig.shutdown();
  });

  it('getCheckpoint finds by checkpoint id, and says "not found in cache" otherwise', async () => {
    const rig = await start([checkpoint('default', 'test-cp', { checkpointId: 'cp-id-123' })]);
    expect(rig.provider.getCheckpoint({ checkpointId: 'cp-id-123' }).metadata.name).toBe('test-cp');
    expect(() => rig.provider.getCheckpoint({ checkpointId: 'nonexistent-cp' })).toThrow('checkpoint nonexistent-cp not found in cache');
    await rig.shutdown();
  });

  it('getCheckpoint is namespace-scoped when a namespace is given, and takes any match (limit 1) without one', async () => {
    const rig = await start([checkpoint('team-a', 'cp-a', { checkpointId: 'shared-cp-id' }), checkpoint('team-b', 'cp-b', { checkpointId: 'shared-cp-id' })]);
    const get = (namespace?: string) => rig.provider.getCheckpoint({ namespace, checkpointId: 'shared-cp-id' });
    expect([get('team-a').metadata.name, get('team-a').metadata.namespace]).toEqual(['cp-a', 'team-a']);
    expect([get('team-b').metadata.name, get('team-b').metadata.namespace]).toEqual(['cp-b', 'team-b']);
    expect(() => get('team-c')).toThrow('not found in cache');
    expect(['cp-a', 'cp-b']).toContain(get().metadata.name);
    await rig.shutdown();
  });

  it('pickSandboxSet finds by name among several templates and namespaces, and says "not found in cache" otherwise', async () => {
    const rig = await start([sandboxSet('team-a', 'tmpl-1'), sandboxSet('team-a', 'tmpl-2'), sandboxSet('team-b', 'tmpl-3')]);
    expect(rig.provider.pickSandboxSet({ name: 'tmpl-1' }).metadata).toMatchObject({ name: 'tmpl-1', namespace: 'team-a' });
    expect(rig.provider.pickSandboxSet({ name: 'tmpl-3' }).metadata).toMatchObject({ name: 'tmpl-3', namespace: 'team-b' });
    expect(() => rig.provider.pickSandboxSet({ name: 'nonexistent' })).toThrow('sandboxset nonexistent not found in cache');
    await rig.shutdown();
  });

  it('pickSandboxSet is namespace-scoped: the same template name in two namespaces', async () => {
    const rig = await start([sandboxSet('team-a', 'shared-template'), sandboxSet('team-b', 'shared-template')]);
    for (const ns of ['team-a', 'team-b'])
      expect(rig.provider.pickSandboxSet({ namespace: ns, name: 'shared-template' }).metadata).toMatchObject({ name: 'shared-template', namespace: ns });
    await rig.shutdown();
  });

  it('listSandboxSets: one namespace (2 of 3), every namespace without one (3), none in an empty namespace', async () => {
    const rig = await start([sandboxSet('team-a', 'tmpl-a'), sandboxSet('team-b', 'tmpl-b'), sandboxSet('team-a', 'tmpl-c')]);
    const names = (namespace?: string) =>
      rig.provider
        .listSandboxSets({ namespace })
        .map((s) => s.metadata.name)
        .sort();
    expect(names('team-a')).toEqual(['tmpl-a', 'tmpl-c']);
    expect(names('')).toEqual(['tmpl-a', 'tmpl-b', 'tmpl-c']);
    expect(names('team-c')).toEqual([]);
    await rig.shutdown();
  });

  it('listSandboxes by user (2 / 1 / 0), by namespace and user (1), by namespace only (2)', async () => {
    const rig = await start([
      sandbox('default', 'sbx-1', owned('user-1')),
      sandbox('default', 'sbx-2', owned('user-1')),
      sandbox('default', 'sbx-3', owned('user-2')),
      sandbox('team-a', 'sbx-a', owned('same-user')),
      sandbox('team-b', 'sbx-b', owned('same-user')),
      sandbox('team-a', 'sbx-c', owned('user-c')),
    ]);
    const p = rig.provider;
    expect([p.listSandboxes({ user: 'user-1' }).length, p.listSandboxes({ user: 'user-2' }).length, p.listSandboxes({ user: 'user-nobody' }).length]).toEqual([2, 1, 0]);
    expect(p.listSandboxes({ namespace: 'team-a', user: 'same-user' }).map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(['team-a/sbx-a']);
    expect(p.listSandboxes({ namespace: 'team-a' })).toHaveLength(2);
    await rig.shutdown();
  });

  it('listCheckpoints by user, by namespace and user, by namespace only', async () => {
    const cp = (ns: string, name: string, user: string) => checkpoint(ns, name, { checkpointId: `${name}-id` }, { [ANNOTATION_OWNER]: user });
    const rig = await start([
      cp('default', 'cp-1', 'user-1'),
      cp('default', 'cp-2', 'user-2'),
      cp('team-a', 'cp-a', 'same-user'),
      cp('team-b', 'cp-b', 'same-user'),
      cp('team-a', 'cp-c', 'user-c'),
    ]);
    const p = rig.provider;
    expect(p.listCheckpoints({ user: 'user-1' }).map((c) => c.metadata.name)).toEqual(['cp-1']);
    expect(p.listCheckpoints({ user: 'user-nobody' })).toEqual([]);
    expect(p.listCheckpoints({ namespace: 'team-b', user: 'same-user' }).map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).toEqual(['team-b/cp-b']);
    expect(p.listCheckpoints({ namespace: 'team-a' })).toHaveLength(2);
    await rig.shutdown();
  });

  it('listSandboxesInPool lists a SandboxSet-owned, running and ready sandbox under its template, and nothing for a missing pool', async () => {
    const rig = await start([
      sandbox('default', 'pool-sbx-1', { labels: { [LABEL_SANDBOX_TEMPLATE]: 'tmpl-a' }, ownerReferences: sandboxSetOwner() }, { phase: 'Running', conditions: [ready()] }),
    ]);
    expect(rig.provider.listSandboxesInPool({ pool: 'tmpl-a' }).map((s) => s.metadata.name)).toEqual(['pool-sbx-1']);
    expect(rig.provider.listSandboxesInPool({ pool: 'tmpl-nonexistent' })).toEqual([]);
    await rig.shutdown();
  });

  it('listSandboxesInPool is namespace-scoped', async () => {
    const member = (ns: string, name: string) =>
      sandbox(
        ns,
        name,
        { labels: { [LABEL_SANDBOX_TEMPLATE]: 'shared-template' }, ownerReferences: sandboxSetOwner('shared-template') },
        { phase: 'Running', conditions: [ready()] },
      );
    const rig = await start([member('team-a', 'pool-a'), member('team-b', 'pool-b')]);
    expect(rig.provider.listSandboxesInPool({ namespace: 'team-b', pool: 'shared-template' }).map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(['team-b/pool-b']);
    await rig.shutdown();
  });

  it('keeps the pool index current: a pool sandbox whose phase turns Failed leaves the pool', async () => {
    const rig = await start([
      sandbox('default', 'pool-sbx', { labels: { [LABEL_SANDBOX_TEMPLATE]: 'tmpl-a' }, ownerReferences: sandboxSetOwner() }, { phase: 'Running', conditions: [ready()] }),
    ]);
    expect(rig.provider.listSandboxesInPool({ pool: 'tmpl-a' })).toHaveLength(1);
    await rig.writeStatus('Sandbox', 'default', 'pool-sbx', { phase: 'Failed' });
    await rig.io();
    expect(rig.provider.informers.sandboxes.get('default', 'pool-sbx')?.status?.phase).toBe('Failed');
    expect(rig.provider.listSandboxesInPool({ pool: 'tmpl-a' })).toEqual([]);
    await rig.shutdown();
  });
});

describe('ad-hoc waits', () => {
  const running = (s: Sandbox) => s.status?.phase === 'Running';

  it('returns at once when already satisfied', async () => {
    const sbx = sandbox('default', 'wait-sbx-satisfied', claimed, { phase: 'Running' });
    const rig = await start([sbx]);
    await expect(adHoc(rig, sbx, '', () => true, rig.provider.sandboxUpdate()).wait(1_000)).resolves.toBeUndefined();
    await rig.shutdown();
  });

  it("returns the check's error at once", async () => {
    const sbx = sandbox('default', 'wait-sbx-err', claimed, { phase: 'Pending' });
    const rig = await start([sbx]);
    const boom = new Error('assert.AnError general error for testing');
    await expect(
      adHoc(
        rig,
        sbx,
        '',
        () => {
          throw boom;
        },
        rig.provider.sandboxUpdate(),
      ).wait(1_000),
    ).rejects.toThrow(boom.message);
    await rig.shutdown();
  });

  it('times out "not satisfied" after 100 ms when the condition never holds', async () => {
    const sbx = sandbox('default', 'wait-sbx-timeout', claimed, { phase: 'Pending' });
    const rig = await start([sbx]);
    const started = rig.clock.now();
    await expect(rig.drive(adHoc(rig, sbx, '', () => false, rig.provider.sandboxUpdate()).wait(100))).rejects.toThrow('not satisfied');
    expect(rig.clock.now() - started).toBeGreaterThanOrEqual(100);
    await rig.shutdown();
  });

  it('refuses a second action while a long wait with action "another" holds the sandbox ("already exists")', async () => {
    const sbx = sandbox('default', 'wait-sbx-conflict', claimed, { phase: 'Pending' });
    const rig = await start([sbx]);
    const ac = new AbortController();
    const long = adHoc(rig, sbx, 'another', () => false, rig.provider.sandboxUpdate(), ac.signal)
      .wait(3_600_000)
      .catch((e) => e);
    await rig.io();
    const err = await adHoc(rig, sbx, '', () => false, rig.provider.sandboxUpdate())
      .wait(1_000)
      .catch((e) => e);
    expect(err).toBeInstanceOf(WaitTaskConflictError);
    expect(err.message).toContain('already exists');
    ac.abort();
    expect(await rig.drive(long)).toBeInstanceOf(WaitNotSatisfiedError);
    await rig.shutdown();
  });

  it('is satisfied once a status write reaches the informer: its event closes the hook and the double-check reads the new state', async () => {
    const sbx = sandbox('default', 'wait-sbx-update', claimed, { phase: 'Pending' });
    const rig = await start([sbx]);
    const task = adHoc(rig, sbx, '', running, rig.provider.sandboxUpdate());
    const waiting = task.wait(2_000);
    await rig.io();
    expect(rig.provider.waitHooks.get(task.key)?.closed).toBe(false);
    const startedAt = rig.clock.now();
    await rig.writeStatus('Sandbox', 'default', 'wait-sbx-update', { phase: 'Running' });
    await rig.io();
    await expect(waiting).resolves.toBeUndefined();
    expect(rig.clock.now()).toBe(startedAt); // no fake time passed: the event woke it, not the poll
    await rig.shutdown();
  });

  it("fails with the check's error when the written state makes the check throw", async () => {
    const sbx = sandbox('default', 'wait-sbx-check-err', claimed, { phase: 'Pending' });
    const rig = await start([sbx]);
    const boom = new Error('assert.AnError general error for testing');
    const waiting = adHoc(
      rig,
      sbx,
      '',
      (s) => {
        if (s.status?.phase === 'Running') throw boom;
        return false;
      },
      rig.provider.sandboxUpdate(),
    )
      .wait(2_000)
      .catch((e) => e);
    await rig.io();
    await rig.writeStatus('Sandbox', 'default', 'wait-sbx-check-err', { phase: 'Running' });
    expect(await rig.drive(waiting)).toBe(boom);
    await rig.shutdown();
  });

  it('falls back to a live GET when the informer does not have the sandbox, and concurrent misses share it', async () => {
    // The informer only holds sandboxes labelled env=prod, so this one is never cached.
    const sbx = sandbox('default', 'wait-sbx-fallback', { labels: { [LABEL_SANDBOX_CLAIMED]: 'false' } }, { phase: 'Pending' });
    const rig = await start([sbx], { sandboxLabelSelector: 'env=prod' });
    expect(rig.provider.informers.sandboxes.get('default', 'wait-sbx-fallback')).toBeUndefined();
    const update = rig.provider.sandboxUpdate();
    rig.server.requests.clear();
    const [a, b] = await Promise.all([update(sbx), update(sbx)]);
    expect([a.metadata.name, b]).toEqual(['wait-sbx-fallback', a]);
    expect(rig.server.requests.countBy('get', 'sandboxes')).toBe(1);

    const check = (s: Sandbox) => s.status?.phase === 'Running' && isSandboxReady(s);
    const waiting = adHoc(rig, sbx, '', check, update).wait(2_000);
    await rig.io();
    await rig.writeStatus('Sandbox', 'default', 'wait-sbx-fallback', { phase: 'Running', conditions: [ready()] });
    // No informer event for a filtered-out object: the hook is closed by hand, as upstream's test does.
    rig.provider.waitHooks.get(waitKey(sbx))!.close();
    await expect(rig.drive(waiting)).resolves.toBeUndefined();
    await rig.shutdown();
  });
});

function waitKey(obj: KubeObject): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
}

describe('cancellation', () => {
  const sbx = sandbox('default', 'wait-cancel-sbx', claimed, { phase: 'Pending' });

  it('fails "not satisfied" when the signal was aborted before the wait', async () => {
    const rig = await start([sbx]);
    const signal = AbortSignal.abort();
    await expect(rig.drive(adHoc(rig, sbx, '', () => false, rig.provider.sandboxUpdate(signal), signal).wait(3_600_000))).rejects.toThrow('not satisfied');
    await rig.shutdown();
  });

  it('ends a one-hour wait "not satisfied" when the signal times out after 20 ms', async () => {
    const rig = await start([sbx]);
    const ac = new AbortController();
    rig.clock.setTimeout(() => ac.abort(), 20);
    const started = rig.clock.now();
    await expect(rig.drive(adHoc(rig, sbx, '', () => false, rig.provider.sandboxUpdate(ac.signal), ac.signal).wait(3_600_000))).rejects.toThrow('not satisfied');
    expect(rig.clock.now() - started).toBeLessThan(1_000);
    await rig.shutdown();
  });
});

describe('checkpoint ad-hoc waits', () => {
  it('returns at once when already satisfied; the checkpoint is still readable from the cache', async () => {
    const cp = checkpoint('default', 'wait-cp-ok', { checkpointId: 'cp-done' });
    const rig = await start([cp]);
    await expect(adHoc(rig, cp, '', () => true, rig.provider.checkpointUpdate()).wait(1_000)).resolves.toBeUndefined();
    expect(rig.provider.informers.checkpoints.get('default', 'wait-cp-ok')?.metadata.name).toBe('wait-cp-ok');
    await rig.shutdown();
  });

  it('is satisfied after the phase turns Succeeded', async () => {
    const cp = checkpoint('default', 'wait-cp-signal', { phase: 'Pending' });
    const rig = await start([cp]);
    const waiting = adHoc(rig, cp, '', (c: Checkpoint) => c.status?.phase === 'Succeeded', rig.provider.checkpointUpdate()).wait(2_000);
    await rig.io();
    await rig.writeStatus('Checkpoint', 'default', 'wait-cp-signal', { phase: 'Succeeded', checkpointId: 'cp-ready-id' });
    await expect(rig.drive(waiting)).resolves.toBeUndefined();
    expect(rig.provider.informers.checkpoints.get('default', 'wait-cp-signal')?.status?.phase).toBe('Succeeded');
    await rig.shutdown();
  });

  it('times out "not satisfied"', async () => {
    const cp = checkpoint('default', 'wait-cp-timeout', { phase: 'Pending' });
    const rig = await start([cp]);
    await expect(rig.drive(adHoc(rig, cp, '', () => false, rig.provider.checkpointUpdate()).wait(100))).rejects.toThrow('not satisfied');
    await rig.shutdown();
  });

  it('fails with "checkpoint <name> not found in cache" when the checkpoint is gone', async () => {
    const cp = checkpoint('default', 'wait-cp-gone', { phase: 'Pending' });
    const rig = await start([cp]);
    const waiting = adHoc(rig, cp, '', () => false, rig.provider.checkpointUpdate())
      .wait(60_000)
      .catch((e) => e);
    await rig.io();
    rig.server.storage.delete(sandboxResources.checkpoints, 'default', 'wait-cp-gone');
    const err = await rig.drive(waiting);
    expect(err).toBeInstanceOf(NotInCacheError);
    expect(err.message).toBe('checkpoint wait-cp-gone not found in cache');
    await rig.shutdown();
  });
});

describe('Regression: same-action concurrent waits converge', () => {
  it('two concurrent Pause tasks on one sandbox share the hook, and both return once SandboxPaused is True', async () => {
    const sbx = sandbox('default', 'regression-sbx', claimed, { phase: 'Running' });
    const rig = await start([sbx]);
    const tasks = [rig.provider.newSandboxPauseTask(sbx), rig.provider.newSandboxPauseTask(sbx)];
    expect(tasks[0].hook).toBe(tasks[1].hook);
    expect(tasks[0].hook!.refs).toBe(2);
    const waits = tasks.map((t) => t.wait(3_000).finally(() => t.release()));
    await rig.io();
    await rig.writeStatus('Sandbox', 'default', 'regression-sbx', { conditions: [pausedCondition()] });
    await expect(rig.drive(Promise.all(waits))).resolves.toEqual([undefined, undefined]);
    expect(rig.provider.waitHooks.size).toBe(0);
    await rig.shutdown();
  });
});

describe('controllers', () => {
  it('exposes the Sandbox and SandboxSet custom reconcilers, named as upstream', async () => {
    const rig = await start();
    expect(rig.provider.sandboxController.name).toBe('SandboxCustom');
    expect(rig.provider.sandboxSetController.name).toBe('SandboxSetCustom');
    await rig.shutdown();
  });

  it('calls Sandbox handlers for every change, with notFound for a deleted sandbox', async () => {
    const rig = await start([sandbox('default', 'watched', claimed, { phase: 'Running' })]);
    const calls: string[] = [];
    rig.provider.sandboxController.add((obj, notFound) => void calls.push(`${obj.metadata.name} ${notFound ? 'gone' : obj.status?.phase}`));
    await rig.writeStatus('Sandbox', 'default', 'watched', { phase: 'Paused' });
    await rig.io();
    rig.server.storage.delete(sandboxResources.sandboxes, 'default', 'watched');
    await rig.io();
    await rig.provider.sandboxController.idle();
    expect(calls).toEqual(['watched Paused', 'watched gone']);
    await rig.shutdown();
  });
});

describe('buildCacheConfig', () => {
  const agent = Object.values(sandboxResources);
  const filterOf = (cfg: ReturnType<typeof buildCacheConfig>, kind: string) => cfg.find((f) => f.resource.kind === kind);

  it.each([
    { name: 'empty options: the four agent kinds unfiltered, and PersistentVolumes', opts: {}, namespace: undefined, labelSelector: undefined, system: false },
    { name: 'a sandbox namespace only', opts: { sandboxNamespace: 'sandbox-ns' }, namespace: 'sandbox-ns', labelSelector: undefined, system: false },
    { name: 'a valid label selector only', opts: { sandboxLabelSelector: 'app=sandbox' }, namespace: undefined, labelSelector: 'app=sandbox', system: false },
    {
      name: 'namespace and label selector combined',
      opts: { sandboxNamespace: 'sandbox-ns', sandboxLabelSelector: 'app=sandbox' },
      namespace: 'sandbox-ns',
      labelSelector: 'app=sandbox',
      system: false,
    },
    { name: 'a system namespace only: Secrets and ConfigMaps in it', opts: { systemNamespace: 'system-ns' }, namespace: undefined, labelSelector: undefined, system: true },
    {
      name: 'system and sandbox namespaces',
      opts: { systemNamespace: 'system-ns', sandboxNamespace: 'sandbox-ns' },
      namespace: 'sandbox-ns',
      labelSelector: undefined,
      system: true,
    },
    {
      name: 'every option',
      opts: { systemNamespace: 'system-ns', sandboxNamespace: 'sandbox-ns', sandboxLabelSelector: 'app=sandbox,env=prod' },
      namespace: 'sandbox-ns',
      labelSelector: 'app=sandbox,env=prod',
      system: true,
    },
    {
      name: 'a complex valid selector',
      opts: { sandboxLabelSelector: 'app in (sandbox,agent),env!=dev,!legacy,tier' },
      namespace: undefined,
      labelSelector: 'app in (sandbox,agent),env!=dev,!legacy,tier',
      system: false,
    },
  ])('$name', ({ opts, namespace, labelSelector, system }) => {
    const cfg = buildCacheConfig(opts);
    expect(cfg).toHaveLength(agent.length + 1 + (system ? 2 : 0));
    for (const rt of agent) expect(filterOf(cfg, rt.kind)).toEqual({ resource: rt, ...(namespace ? { namespace } : {}), ...(labelSelector ? { labelSelector } : {}) });
    expect(filterOf(cfg, 'PersistentVolume')).toEqual({ resource: persistentVolumes });
    if (system) {
      expect(filterOf(cfg, 'Secret')).toEqual({ resource: resources.secrets, namespace: 'system-ns' });
      expect(filterOf(cfg, 'ConfigMap')).toEqual({ resource: resources.configMaps, namespace: 'system-ns' });
    } else {
      expect(filterOf(cfg, 'Secret')).toBeUndefined();
      expect(filterOf(cfg, 'ConfigMap')).toBeUndefined();
    }
    // No entry overrides copying or freezing per kind: the Informer default holds for all.
    expect(cfg.every((f) => Object.keys(f).every((k) => ['resource', 'namespace', 'labelSelector'].includes(k)))).toBe(true);
  });

  it.each(['app in (sandbox', 'app===x', 'a=b,,c=d', '-bad=x'])('refuses an invalid label selector %j with a parse error', (selector) => {
    expect(() => buildCacheConfig({ sandboxLabelSelector: selector })).toThrow('failed to parse sandbox label selector');
  });
});
