// The reconciler: its loop (cadence with working jitter, single-flight passes and refreshes, a
// stop that leaves no timer), and node-agent v0.3.108 reconciler_test.go's eviction and refresh
// cases (catalogue #9–12, #16–23, #29, #31, #34, #45) driven through the cache's public API.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { StatusError } from '../../lib/api/errors.js';
import { USER_DEFINED_PROFILE_LABEL } from '../../lib/profiles/names.js';
import { ReconcilerLoop } from '../../lib/profiles/reconciler.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { noopLogger } from '../../lib/util/logger.js';
import { expectAwaitUsingStopsLoop } from '../util/dispose-contract.js';
import { CP_NAME, NS, POD, UG_NAME, annotations, applicationProfile, closeAll, containerProfile, harness, networkNeighborhood, type Harness } from './fixtures.js';

afterEach(closeAll);

const overlayLabel = (name: string) => ({ podLabels: { [USER_DEFINED_PROFILE_LABEL]: name } });
const boom = () => new StatusError(500, 'InternalError', 'kaboom');

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('ReconcilerLoop', () => {
  function loop(opts: { random?: number; pass?: () => Promise<void>; refresh?: () => Promise<void>; refreshOnTick?: boolean } = {}) {
    const clock = new FakeClock();
    const calls = { pass: 0, refresh: 0 };
    const durations: string[] = [];
    const l = new ReconcilerLoop({
      clock,
      interval: 30_000,
      random: () => opts.random ?? 0,
      pass: async () => {
        calls.pass++;
        await opts.pass?.();
      },
      refresh: async () => {
        calls.refresh++;
        await opts.refresh?.();
      },
      refreshOnTick: opts.refreshOnTick ?? false,
      onDuration: (phase) => durations.push(phase),
      logger: noopLogger,
    });
    return { clock, calls, durations, l };
  }

  it('stretches each interval by up to 10 % at random (upstream asks for jitter and gets none)', async () => {
    const { clock, calls, l } = loop({ random: 0.5 });
    l.start(new AbortController().signal);
    await clock.advance(31_499);
    expect(calls.pass).toBe(0);
    await clock.advance(1);
    expect(calls.pass).toBe(1);
    await clock.advance(31_500);
    expect(calls.pass).toBe(2);
    expect(loop({ random: 0.999 }).l.nextDelay()).toBeCloseTo(32_997, 0);
    await l.stop();
  });

  it('never overlaps passes: a slow pass delays the next tick, and a pass asked for meanwhile joins it', async () => {
    const g = gate();
    const { clock, calls, l } = loop({ pass: () => g.opened });
    l.start(new AbortController().signal);
    await clock.advance(30_000);
    expect(calls.pass).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
    const joined = l.runPass();
    await clock.advance(60_000);
    expect(calls.pass).toBe(1);
    g.open();
    await joined;
    await settle();
    expect(clock.pendingTimers()).toBe(1);
    await l.stop();
  });

  it('starts a background refresh after a pass when polling, and never stacks refreshes', async () => {
    const g = gate();
    const { clock, calls, durations, l } = loop({ refresh: () => g.opened, refreshOnTick: true });
    l.start(new AbortController().signal);
    await clock.advance(30_000);
    await clock.advance(30_000);
    expect(calls).toEqual({ pass: 2, refresh: 1 });
    g.open();
    await settle();
    expect(durations).toEqual(['evict', 'evict', 'refresh']);
    await l.stop();
  });

  it('does not refresh on a tick when event-driven', async () => {
    const { clock, calls, l } = loop();
    l.start(new AbortController().signal);
    await clock.advance(30_000);
    expect(calls).toEqual({ pass: 1, refresh: 0 });
    await l.runRefresh();
    expect(calls.refresh).toBe(1);
    await l.stop();
  });

  it('stops ticking when its signal aborts, and stop() leaves no timer', async () => {
    const ctl = new AbortController();
    const { clock, calls, l } = loop();
    l.start(ctl.signal);
    expect(clock.pendingTimers()).toBe(1);
    ctl.abort();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(60_000);
    expect(calls.pass).toBe(0);
    l.start(new AbortController().signal);
    await l.stop();
    expect(clock.pendingTimers()).toBe(0);
    l.start(new AbortController().signal);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops at the end of an `await using` block, also when the block throws: no timer, no pass after it', async () => {
    await expectAwaitUsingStopsLoop(
      () => {
        const { clock, calls, l } = loop();
        return { loop: l, clock, passes: () => calls.pass };
      },
      (l) => l.start(new AbortController().signal),
      60_000,
    );
  });
});

const status = (name: string, containerID: string, state: V1ContainerStatus['state']): V1ContainerStatus =>
  ({ name, containerID, state, image: '', imageID: '', ready: false, restartCount: 0 }) as V1ContainerStatus;

function podWith(statuses: { containers?: V1ContainerStatus[]; init?: V1ContainerStatus[] }, name = POD): V1Pod {
  return { metadata: { namespace: NS, name, uid: 'uid-1' }, spec: { containers: [] }, status: { containerStatuses: statuses.containers, initContainerStatuses: statuses.init } };
}

async function added(h: Harness, id: string, overrides?: Parameters<Harness['add']>[1]): Promise<void> {
  h.prime(id);
  h.add(id, overrides);
  await h.flush();
}

describe('ContainerProfileCache reconciler: eviction (reconciler_test.go, init_eviction_test.go)', () => {
  it('keeps an entry whose pod is not in the pod cache (#9 ReconcilerKeepsEntryWhenPodMissing)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'c1');
    await h.cache.reconcileNow();
    expect(h.cache.getContainerProfile('c1')).toBeDefined();
    expect(h.metrics.eviction('pod_stopped')).toBe(0);
  });

  it('evicts a Terminated container and releases its references (#10 ReconcilerEvictsTerminatedContainer)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'terminated123');
    h.setPod(podWith({ containers: [status('nginx', 'containerd://terminated123', { terminated: { exitCode: 0 } })] }));
    await h.cache.reconcileNow();
    await h.flush();
    expect(h.cache.getContainerProfile('terminated123')).toBeUndefined();
    expect(h.metrics.eviction('pod_stopped')).toBe(1);
    expect(h.metrics.gauges.get('total')).toBe(0);
    expect(h.cache.stats()).toMatchObject({ containers: 0, references: 0, subscriptions: 0 });
    expect(h.openWatches()).toBe(0);
    h.remove('terminated123');
    expect(h.metrics.eviction('pod_stopped')).toBe(1);
  });

  it.each([
    ['Waiting (#11 ReconcilerKeepsWaitingContainer)', { waiting: { reason: 'ContainerCreating' } }],
    ['Running (#12 ReconcilerKeepsRunningContainer)', { running: {} }],
  ])('keeps a %s container', async (_name, state) => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'abc123');
    h.setPod(podWith({ containers: [status('nginx', 'containerd://abc123', state)] }));
    await h.cache.reconcileNow();
    expect(h.cache.getContainerProfile('abc123')).toBeDefined();
    expect(h.metrics.eviction('pod_stopped')).toBe(0);
  });

  it('stops a pass early when its signal aborts (#16 ReconcilerExitsOnCtxCancel)', async () => {
    const ctl = new AbortController();
    let counting = false;
    let visits = 0;
    const h = harness({
      getPod: () => {
        if (counting && ++visits === 3) ctl.abort();
        return undefined;
      },
    });
    h.sources.containerProfiles.create(containerProfile());
    for (let i = 0; i < 100; i++) {
      h.prime(`c-${i}`);
      h.add(`c-${i}`, { podName: `pod-${i}` });
    }
    await h.flush();
    expect(h.cache.stats().entries).toBe(100);
    counting = true;
    h.cache.start(ctl.signal);
    await h.clock.advance(30_000);
    await h.flush();
    expect(visits).toBeGreaterThanOrEqual(3);
    expect(visits).toBeLessThan(100);
    // The aborted signal also ended the loop: no further pass.
    await h.clock.advance(120_000);
    await h.flush();
    expect(h.metrics.durations).toHaveLength(1);
  });

  it('evicts an init container that finished without a remove event (#34 MissedRemoveEventEvictedByReconciler)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.setPod(podWith({ init: [status('init-container', 'containerd://init-container-reconcile', { running: {} })] }, 'testpod-reconcile'));
    await added(h, 'init-container-reconcile', { containerName: 'init-container', podName: 'testpod-reconcile' });
    await h.cache.reconcileNow();
    expect(h.cache.getContainerProfile('init-container-reconcile')).toBeDefined();
    h.setPod(podWith({ init: [status('init-container', 'containerd://init-container-reconcile', { terminated: { exitCode: 0 } })] }, 'testpod-reconcile'));
    await h.cache.reconcileNow();
    expect(h.cache.getContainerProfile('init-container-reconcile')).toBeUndefined();
  });

  it('evicts by name within the pod UID while the container ID is unpublished', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.setPod(podWith({ init: [status('init-1', '', { running: {} })] }));
    await added(h, 'init-cid', { containerName: 'init-1' });
    expect(h.cache.getEntry('init-cid')?.podUID).toBe('uid-1');
    h.setPod(podWith({ init: [status('init-1', '', { terminated: { exitCode: 0 } })] }));
    await h.cache.reconcileNow();
    expect(h.cache.getEntry('init-cid')).toBeUndefined();
  });

  it('reads no profile object on a pass with watch stores: freshness comes from events', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'c1');
    for (const s of Object.values(h.sources)) s.clearActions();
    h.cache.start();
    await h.clock.advance(30_000);
    await h.flush();
    expect(h.metrics.durations.map(([phase]) => phase)).toEqual(['evict']);
    expect(h.requests('get') + h.requests('list') + h.requests('watch')).toBe(0);
  });
});

describe('ContainerProfileCache reconciler: refresh with TTL stores (reconciler_test.go, t8_overlay_refresh_test.go)', () => {
  it('refreshes on each tick with one GET per object per tick, however many containers share it', async () => {
    for (const [ttl, perTick] of [
      [undefined, 3],
      [0, 6],
    ] as const) {
      const h = harness({ strategy: 'ttl', ttl });
      h.sources.containerProfiles.create(containerProfile());
      h.sources.applicationProfiles.create(applicationProfile(UG_NAME, [{ name: 'nginx' }]));
      h.sources.networkNeighborhoods.create(networkNeighborhood(UG_NAME, [{ name: 'nginx' }]));
      await added(h, 'a');
      await added(h, 'b');
      for (const s of Object.values(h.sources)) s.clearActions();
      h.cache.start();
      await h.clock.advance(30_000);
      await h.flush();
      expect(h.metrics.durations.map(([phase]) => phase)).toEqual(['evict', 'refresh']);
      // CP, ug-AP and ug-NN; with ttl 0 each container GETs them again, as upstream does.
      expect(h.requests('get')).toBe(perTick);
    }
  });

  it('reads every object once and keeps entry and profile when no resourceVersion changed (#17 RefreshFastSkipWhenAllRVsMatch)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile());
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx' }]));
    h.sources.networkNeighborhoods.create(networkNeighborhood('override', [{ name: 'nginx' }]));
    await added(h, 'c1', overlayLabel('override'));
    const entry = h.cache.getEntry('c1')!;
    const profile = entry.profile;
    const loads = [...h.metrics.legacyLoads];
    for (const s of Object.values(h.sources)) s.clearActions();

    await h.cache.refreshAll();
    expect(h.sources.containerProfiles.count('get')).toBe(1);
    expect(h.sources.applicationProfiles.actions.map((a) => a.name).sort()).toEqual(['override', UG_NAME]);
    expect(h.sources.networkNeighborhoods.actions.map((a) => a.name).sort()).toEqual(['override', UG_NAME]);
    expect(h.cache.getEntry('c1')).toBe(entry);
    expect(h.cache.getContainerProfile('c1')).toBe(profile);
    expect([...h.metrics.legacyLoads]).toEqual(loads);
  });

  it('rebuilds when the label-referenced AP changes (#18 RefreshRebuildsOnUserAPChange)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['SYS_PTRACE'] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', capabilities: ['OLD'] }]));
    await added(h, 'c1', overlayLabel('override'));
    const entry = h.cache.getEntry('c1')!;
    const updated = h.sources.applicationProfiles.put(applicationProfile('override', [{ name: 'nginx', capabilities: ['NET_BIND_SERVICE'] }]));

    await h.cache.refreshAll();
    const stored = h.cache.getEntry('c1')!;
    expect(stored).not.toBe(entry);
    expect(stored.resourceVersions.userAP).toBe(updated.metadata!.resourceVersion);
    expect(new Set(stored.profile.spec?.capabilities)).toEqual(new Set(['SYS_PTRACE', 'NET_BIND_SERVICE']));
  });

  it('rebuilds with the new learned profile object itself when it changes (#19 RefreshRebuildsOnCPChange)', async () => {
    const h = harness({ strategy: 'ttl' });
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'c1');
    const updated = h.sources.containerProfiles.put(containerProfile({ capabilities: ['SYS_ADMIN'] }));
    await h.clock.advance(30_000);
    await h.cache.refreshAll();
    const stored = h.cache.getEntry('c1')!;
    expect(stored.resourceVersions.cp).toBe(updated.metadata!.resourceVersion);
    expect(stored.shared).toBe(true);
    expect(stored.profile).toBe(await h.cache.stores.containerProfiles.get(NS, CP_NAME));
  });

  it('replaces the old overlay content with the new on refresh, and counts the overlay load (#20 and #45 T8_EndToEndRefreshUpdatesProjection)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile({ execs: [{ path: '/bin/base', args: ['a'] }] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', execs: [{ path: '/bin/old', args: ['x'] }] }]));
    await added(h, 'c1', overlayLabel('override'));
    const updated = h.sources.applicationProfiles.put(applicationProfile('override', [{ name: 'nginx', execs: [{ path: '/bin/new', args: ['y'] }] }]));
    const before = h.metrics.legacyLoad('application', 'full');

    await h.cache.refreshAll();
    const paths = (h.cache.getContainerProfile('c1')?.spec?.execs ?? []).map((e) => e.path);
    expect(paths).toContain('/bin/base');
    expect(paths).toContain('/bin/new');
    expect(paths).not.toContain('/bin/old');
    expect(h.cache.getEntry('c1')?.resourceVersions.userAP).toBe(updated.metadata!.resourceVersion);
    expect(h.metrics.legacyLoad('application', 'full')).toBeGreaterThan(before);
  });

  it('keeps the entry as it is when the learned profile cannot be read (#21 RefreshNoEntryWhenCPGetFails)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'c1');
    const entry = h.cache.getEntry('c1');
    h.sources.containerProfiles.onGet(() => {
      throw boom();
    });
    await h.cache.refreshAll();
    expect(h.cache.getEntry('c1')).toBe(entry);
  });

  it.each([
    ['user-managed AP', 'applicationProfiles', UG_NAME, false],
    ['user-managed NN', 'networkNeighborhoods', UG_NAME, false],
    ['user-defined AP', 'applicationProfiles', 'override', true],
    ['user-defined NN', 'networkNeighborhoods', 'override', true],
  ] as const)('keeps the entry and its resourceVersions when the %s read times out (#22 RefreshPreservesEntryOnTransientOverlayError)', async (_name, kind, name, label) => {
    const h = harness({ strategy: 'ttl', ttl: 0, rpcBudget: 100 });
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['SYS_PTRACE'] }));
    if (kind === 'applicationProfiles') h.sources.applicationProfiles.create(applicationProfile(name, [{ name: 'nginx', capabilities: ['OVERLAY'] }]));
    else h.sources.networkNeighborhoods.create(networkNeighborhood(name, [{ name: 'nginx', ingress: [{ identifier: 'overlay' }] }]));
    await added(h, 'c1', label ? overlayLabel('override') : {});
    const entry = h.cache.getEntry('c1')!;
    const rvs = { ...entry.resourceVersions };
    expect(Object.values(rvs).filter((rv) => rv !== '')).toHaveLength(2);

    // Upstream's regression: a timed-out overlay read taken as "absent" rebuilt the entry without
    // the overlay. The CP change makes such a rebuild happen if the rule is broken.
    h.sources.containerProfiles.put(containerProfile({ capabilities: ['CHANGED'] }));
    h.sources[kind].onGet((_ns, n) => (n === name ? new Promise<undefined>(() => {}) : undefined));
    const refresh = h.cache.refreshAll();
    await settle();
    await h.clock.advance(100);
    await refresh;
    const stored = h.cache.getEntry('c1')!;
    expect(stored).toBe(entry);
    expect(stored.resourceVersions).toEqual(rvs);
  });

  it('keeps an overlay whose read fails while the TTL store still holds it (it serves the last copy)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['SYS_PTRACE'] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', capabilities: ['OVERLAY'] }]));
    await added(h, 'c1', overlayLabel('override'));
    const builtVersion = h.cache.getEntry('c1')!.resourceVersions.userAP;
    h.sources.containerProfiles.put(containerProfile({ capabilities: ['CHANGED'] }));
    h.sources.applicationProfiles.onGet(() => {
      throw boom();
    });
    await h.cache.refreshAll();
    expect(new Set(h.cache.getContainerProfile('c1')?.spec?.capabilities)).toEqual(new Set(['CHANGED', 'OVERLAY']));
    expect(h.cache.getEntry('c1')?.resourceVersions.userAP).toBe(builtVersion);
  });

  it('ends a refresh blocked on a read when its signal aborts, and fails the read when the budget runs out (#23 RefreshHonorsContextCancellationMidRPC)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0, rpcBudget: 100 });
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'c1');
    const entry = h.cache.getEntry('c1');
    h.sources.containerProfiles.onGet(() => new Promise<undefined>(() => {}));

    const ctl = new AbortController();
    let done = false;
    const refresh = h.cache.refreshAll(ctl.signal).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    ctl.abort();
    await refresh;
    expect(h.cache.getEntry('c1')).toBe(entry);

    const budgeted = h.cache.refreshAll();
    await settle();
    await h.clock.advance(100);
    await budgeted;
    expect(h.cache.getEntry('c1')).toBe(entry);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('does not bring back a container removed while its refresh was reading (#29 RefreshDoesNotResurrectDeletedEntry)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile());
    await added(h, 'container-resurrect');
    h.sources.containerProfiles.put(containerProfile({ capabilities: ['NEW'] }));
    const g = gate();
    h.sources.containerProfiles.onGet(() => g.opened.then(() => undefined));

    const refresh = h.cache.refreshAll();
    await settle();
    h.remove('container-resurrect');
    g.open();
    await refresh;
    await h.flush();
    expect(h.cache.getContainerProfile('container-resurrect')).toBeUndefined();
    expect(h.cache.stats()).toMatchObject({ containers: 0, entries: 0, pending: 0, references: 0 });
  });

  it('carries a status change of the learned profile into the state (#31 RefreshUpdatesCPStatus)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile({}, { annotations: annotations('complete', 'ready') }));
    await added(h, 'container-cp-ready');
    expect(h.cache.getContainerProfileState('container-cp-ready').status).toBe('ready');
    const updated = h.sources.containerProfiles.put(containerProfile({}, { annotations: annotations('complete', 'completed') }));
    await h.cache.refreshAll();
    expect(h.cache.getContainerProfileState('container-cp-ready').status).toBe('completed');
    expect(h.cache.getEntry('container-cp-ready')?.resourceVersions.cp).toBe(updated.metadata!.resourceVersion);
  });

  it('drops a deleted learned profile from the entry instead of serving it on (NotFound is not a transient error)', async () => {
    const h = harness({ strategy: 'ttl', ttl: 0 });
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['LEARNED'] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', capabilities: ['USER'] }]));
    await added(h, 'c1', overlayLabel('override'));
    h.sources.containerProfiles.remove(NS, CP_NAME);
    await h.cache.refreshAll();
    expect(h.cache.getContainerProfile('c1')?.spec?.capabilities).toEqual(['USER']);
    expect(h.cache.getEntry('c1')?.resourceVersions.cp).toBe('');
  });
});
