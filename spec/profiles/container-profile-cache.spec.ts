// Ports node-agent v0.3.108 containerprofilecache_test.go, the add-path and pending cases of
// reconciler_test.go, init_eviction_test.go (remove event), lock_stress_test.go and
// shared_pointer_race_test.go (catalogue #1–8, #24–28, #30, #32, #33, #35, #43, #44) onto refwatch
// stores over an in-memory source; plus the event-driven behaviour the port adds (changes are
// visible without a tick, watches follow the containers) and the upstream quirks it fixes.
import { afterEach, describe, expect, it } from '@jest/globals';
import { StatusError } from '../../lib/api/errors.js';
import type { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { ContainerProfileCache, DEFAULT_RPC_BUDGET } from '../../lib/profiles/container-profile-cache.js';
import { settle } from '../../lib/testing/fake-clock.js';
import type { ContainerProfileEntry } from '../../lib/profiles/entry.js';
import { USER_DEFINED_PROFILE_LABEL } from '../../lib/profiles/names.js';
import type { ProfileStrategy } from '../../lib/profiles/profile-stores.js';
import type { ContainerProfile } from '../../lib/profiles/types.js';
import {
  CP_NAME,
  NS,
  UG_NAME,
  WORKLOAD,
  annotations,
  applicationProfile,
  closeAll,
  containerProfile,
  eventContainer,
  harness,
  networkNeighborhood,
  type Harness,
} from './fixtures.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';
import { LEVEL, capturePino } from '../util/log-capture.js';
import { AbortError } from '../../lib/util/abort.js';

afterEach(closeAll);

const overlayLabel = (name: string) => ({ podLabels: { [USER_DEFINED_PROFILE_LABEL]: name } });
const capsOf = (p: ContainerProfile | undefined) => new Set(p?.spec?.capabilities ?? []);
const execsOf = (p: ContainerProfile | undefined) => (p?.spec?.execs ?? []).map((e) => e.path);
const boom = () => new StatusError(500, 'InternalError', 'kaboom');

describe('ContainerProfileCache: add path (containerprofilecache_test.go)', () => {
  it('serves the very object the store holds to every container of the workload, over one watch per object (#1 SharedFastPath_NoOverlay)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['NET_ADMIN'] }, { annotations: annotations('complete', 'completed') }));
    for (const id of ['container-id-A', 'container-id-B']) {
      h.prime(id);
      h.add(id);
    }
    await h.flush();
    const a = h.cache.getEntry('container-id-A')!;
    const b = h.cache.getEntry('container-id-B')!;
    expect(a.shared).toBe(true);
    expect(b.shared).toBe(true);
    expect(a.profile).toBe(b.profile);
    expect(a.profile).toBe(await h.cache.stores.containerProfiles.get(NS, CP_NAME));
    // CP, ug-AP, ug-NN: one list and one watch each, however many containers reference them.
    expect(h.requests('list')).toBe(3);
    expect(h.requests('watch')).toBe(3);
    expect(h.requests('get')).toBe(0);
  });

  it('deep-copies and merges when a label-referenced overlay applies (#2 OverlayPath_DeepCopies)', async () => {
    const h = harness();
    const cp = h.sources.containerProfiles.create(containerProfile({ capabilities: ['SYS_PTRACE'] }));
    const ap = h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', capabilities: ['NET_BIND_SERVICE'] }]));
    h.prime('container-overlay');
    h.add('container-overlay', overlayLabel('override'));
    await h.flush();
    const entry = h.cache.getEntry('container-overlay')!;
    expect(entry.shared).toBe(false);
    expect(entry.profile).not.toBe(await h.cache.stores.containerProfiles.get(NS, CP_NAME));
    expect(capsOf(entry.profile)).toEqual(new Set(['SYS_PTRACE', 'NET_BIND_SERVICE']));
    expect(entry.userAPRef?.name).toBe('override');
    expect(entry.resourceVersions.userAP).toBe(ap.metadata!.resourceVersion);
    expect(entry.resourceVersions.cp).toBe(cp.metadata!.resourceVersion);
  });

  it('forgets everything about a removed container, references and per-container state included (#3 DeleteContainer_LockAndCleanup)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.prime('container-delete');
    h.add('container-delete');
    await h.flush();
    expect(h.cache.getContainerProfile('container-delete')).toBeDefined();
    h.remove('container-delete');
    expect(h.cache.getContainerProfile('container-delete')).toBeUndefined();
    // Upstream keeps the container's lock for ever; here nothing per container survives it.
    expect(h.cache.stats()).toMatchObject({ containers: 0, entries: 0, pending: 0, references: 0, subscriptions: 0 });
  });

  it('drops an ignored container before any storage request (#4 ContainerCallback_IgnoredContainer)', async () => {
    const h = harness({ excludeNamespaces: ['kube-system'] });
    h.prime('ignored');
    h.add('ignored', { namespace: 'kube-system', podName: 'p', containerName: 'c' });
    await h.flush();
    expect(h.sources.containerProfiles.actions).toHaveLength(0);
    expect(h.cache.stats().containers).toBe(0);
  });

  it('never filters host containers, files them under "host", and waits for their shared data (#5 ContainerCallback_HostContainer)', async () => {
    const h = harness({ excludeNamespaces: ['default', 'host'] });
    h.cache.containerCallback({ type: 'add', container: { containerID: 'host-c', pid: 1, containerName: 'host', namespace: 'default', podName: '' } });
    await h.flush();
    expect(h.cache.stats()).toMatchObject({ containers: 1, adding: 1 });
    await h.clock.advance(5_000);
    expect(h.requests('list')).toBe(0);

    h.prime('host-c');
    await h.clock.advance(60_000);
    await h.flush();
    expect(h.cache.stats()).toMatchObject({ adding: 0, pending: 1 });
    expect(h.sources.containerProfiles.actions.every((a) => a.namespace === 'host')).toBe(true);
  });

  it('indexes the profile call stacks (#6 CallStackIndexBuiltFromProfile)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(
      containerProfile({
        identifiedCallStacks: [{ callID: 'r1', callStack: { root: { frame: { fileID: 'f1', lineno: '10' }, children: [{ frame: { fileID: 'f2', lineno: '20' } }] } } }],
      }),
    );
    h.prime('c-stack');
    h.add('c-stack');
    await h.flush();
    expect(h.cache.getCallStackSearchTree('c-stack')?.pathsByCallID.has('r1')).toBe(true);
  });

  it('answers a miss with no profile and an error state (#7 GetContainerProfile_Miss)', () => {
    const h = harness();
    expect(h.cache.getContainerProfile('nope')).toBeUndefined();
    expect(h.cache.getContainerProfileState('nope').error?.message).toBe('container nope not found in container-profile cache');
    expect(h.cache.getCallStackSearchTree('nope')).toBeUndefined();
    expect(h.metrics.hits).toEqual({ hit: 0, miss: 1 });
  });

  it('keeps a container pending, not cached, when the storage read fails (#8 StorageError_NoEntry)', async () => {
    const h = harness({ strategy: 'ttl' });
    h.sources.containerProfiles.onGet(() => {
      throw boom();
    });
    h.prime('c-err');
    h.add('c-err');
    await h.flush();
    expect(h.cache.getEntry('c-err')).toBeUndefined();
    expect(h.cache.stats().pending).toBe(1);
  });

  it('never throws on a malformed event', () => {
    const h = harness();
    expect(() => h.cache.containerCallback({ type: 'add' } as never)).not.toThrow();
    expect(() => h.cache.containerCallback({ type: 'other', container: eventContainer('x') } as never)).not.toThrow();
    expect(h.cache.stats().containers).toBe(0);
  });
});

describe('ContainerProfileCache: pending containers and partial profiles (reconciler_test.go)', () => {
  it('promotes a pending container on the next pass once its profile exists, with exactly one more GET (#24 RetryPendingEntries_CPCreatedAfterAdd)', async () => {
    const h = harness({ strategy: 'ttl' });
    h.prime('container-pending');
    h.add('container-pending');
    await h.flush();
    expect(h.cache.getContainerProfile('container-pending')).toBeUndefined();
    expect(h.cache.stats().pending).toBe(1);
    expect(h.requests('get', CP_NAME)).toBe(1);

    h.sources.containerProfiles.create(containerProfile());
    await h.cache.reconcileNow();
    expect(h.cache.getContainerProfile('container-pending')).toBeDefined();
    expect(h.cache.stats().pending).toBe(0);
    expect(h.requests('get', CP_NAME)).toBe(2);
  });

  it('promotes a pending container as soon as its profile is created, without a tick (watch stores)', async () => {
    const h = harness();
    h.prime('container-pending');
    h.add('container-pending');
    await h.flush();
    expect(h.cache.stats().pending).toBe(1);
    h.sources.containerProfiles.create(containerProfile());
    await h.flush();
    expect(h.cache.getContainerProfile('container-pending')).toBeDefined();
    expect(h.cache.stats().pending).toBe(0);
    expect(h.metrics.durations).toHaveLength(0);
  });

  it('never evicts pending containers on a pass; only their remove does (#25 PendingEntriesAreNotGCedBeforeRetry)', async () => {
    const h = harness({ strategy: 'ttl' });
    h.prime('container-pending');
    h.add('container-pending');
    await h.flush();
    for (let i = 0; i < 3; i++) await h.cache.reconcileNow();
    expect(h.cache.stats().pending).toBe(1);
    h.remove('container-pending');
    expect(h.cache.stats().pending).toBe(0);
  });

  it.each<ProfileStrategy>(['ttl', 'watch'])(
    'keeps a freshly started container pending on a partial profile until it is complete (#26 PartialCP_NonPreRunning_StaysPending, %s)',
    async (strategy) => {
      const h = harness({ strategy });
      h.sources.containerProfiles.create(containerProfile({}, { annotations: annotations('partial', 'completed') }));
      h.prime('container-partial-restart');
      h.add('container-partial-restart');
      await h.flush();
      expect(h.cache.getContainerProfile('container-partial-restart')).toBeUndefined();
      expect(h.cache.stats().pending).toBe(1);

      h.sources.containerProfiles.put(containerProfile({}, { annotations: annotations('complete', 'completed') }));
      if (strategy === 'ttl') {
        // The next tick retries pending containers (the watch store needs no tick: the change is an event).
        h.cache.start();
        await h.clock.advance(30_000);
      }
      await h.flush();
      expect(h.cache.getContainerProfile('container-partial-restart')).toBeDefined();
      expect(h.cache.stats().pending).toBe(0);
    },
  );

  it('accepts a partial profile for a container that was running before the agent (#27 PartialCP_PreRunning_Accepted)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile({}, { annotations: annotations('partial', 'completed') }));
    h.prime('container-partial-prerunning', { preRunning: true });
    h.add('container-partial-prerunning');
    await h.flush();
    expect(h.cache.getContainerProfile('container-partial-prerunning')).toBeDefined();
    expect(h.cache.stats().pending).toBe(0);
  });

  it('records the overlay refs even when the overlay reads fail, so they are read again (#28 OverlayLabel_TransientFetchFailure_RefsRetained)', async () => {
    const h = harness({ strategy: 'ttl' });
    h.sources.containerProfiles.create(containerProfile());
    for (const source of [h.sources.applicationProfiles, h.sources.networkNeighborhoods]) {
      source.onGet((_ns, name) => {
        if (name === 'override') throw boom();
        return undefined;
      });
    }
    h.prime('container-transient-overlay');
    h.add('container-transient-overlay', overlayLabel('override'));
    await h.flush();
    const entry = h.cache.getEntry('container-transient-overlay')!;
    expect(entry).toBeDefined();
    expect(entry.userAPRef?.name).toBe('override');
    expect(entry.userNNRef?.name).toBe('override');
  });

  it('gives a container with only a user-defined overlay a profile on a synthetic base (#30 UserDefinedProfileOnly_NoBaseCP)', async () => {
    const h = harness();
    h.sources.applicationProfiles.create(applicationProfile('user-override', [{ name: 'nginx', capabilities: ['CAP_NET_ADMIN'] }]));
    h.prime('container-user-only');
    h.add('container-user-only', overlayLabel('user-override'));
    await h.flush();
    expect(h.cache.getContainerProfile('container-user-only')?.spec?.capabilities).toContain('CAP_NET_ADMIN');
    expect(h.cache.getContainerProfileState('container-user-only')).toEqual({ completion: 'complete', status: 'completed', name: WORKLOAD });
    expect(h.cache.getEntry('container-user-only')?.cpName).toBe(CP_NAME);
  });

  it('merges the user-managed ug-<workload> overlay and records its resourceVersion (#32 UserManagedProfileMerged)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile({ execs: [{ path: '/bin/X' }] }, { annotations: annotations('complete', 'completed') }));
    const ug = h.sources.applicationProfiles.create(applicationProfile(UG_NAME, [{ name: 'nginx', execs: [{ path: '/bin/Y' }] }]));
    h.prime('container-user-managed');
    h.add('container-user-managed');
    await h.flush();
    expect(execsOf(h.cache.getContainerProfile('container-user-managed'))).toEqual(['/bin/X', '/bin/Y']);
    expect(h.cache.getEntry('container-user-managed')?.resourceVersions.userManagedAP).toBe(ug.metadata!.resourceVersion);
  });
});

describe('ContainerProfileCache: remove events (init_eviction_test.go, lock_stress_test.go)', () => {
  it('evicts only the container the remove event names (#33 InitContainerEvictionViaRemoveEvent)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    for (const [id, containerName] of [
      ['init-container-id', 'init-container'],
      ['regular-container-id', 'regular'],
    ]) {
      h.prime(id);
      h.add(id, { containerName, podName: 'testpod' });
    }
    await h.flush();
    h.remove('init-container-id');
    expect(h.cache.getContainerProfile('init-container-id')).toBeUndefined();
    expect(h.cache.getContainerProfile('regular-container-id')).toBeDefined();
    const store = h.cache.stores.containerProfiles as WatchObjectStore<ContainerProfile>;
    expect(store.inspect(NS, CP_NAME)?.refs).toEqual({ 'regular-container-id': 1 });
  });

  it('stays consistent under interleaved adds and removes of the same containers (#35 LockStressAddEvictInterleaved)', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    const ids = Array.from({ length: 10 }, (_, i) => `stress-container-${i}`);
    for (const id of ids) h.prime(id);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const lastOp = new Map<string, 'add' | 'remove'>();
    const worker = async () => {
      for (let i = 0; i < 50; i++) {
        const id = ids[Math.floor(random() * ids.length)];
        const op = random() < 0.5 ? 'add' : 'remove';
        if (op === 'add') h.add(id, { containerName: 'container', podName: 'stress-pod' });
        else h.remove(id);
        lastOp.set(id, op);
        for (let turns = Math.floor(random() * 3); turns > 0; turns--) await Promise.resolve();
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    await h.flush();

    const live = ids.filter((id) => lastOp.get(id) === 'add').sort();
    expect(ids.filter((id) => h.cache.getEntry(id) !== undefined).sort()).toEqual(live);
    expect(h.cache.stats()).toMatchObject({ containers: live.length, entries: live.length, pending: 0, adding: 0 });
    const store = h.cache.stores.containerProfiles as WatchObjectStore<ContainerProfile>;
    const refs = store.inspect(NS, CP_NAME)?.refs ?? {};
    expect(Object.keys(refs).sort()).toEqual(live);
    expect(Object.values(refs).every((n) => n === 1)).toBe(true);
    expect(h.cache.stats().subscriptions).toBe(live.length * 3);

    await h.cache.close();
    expect(h.openWatches()).toBe(0);
    expect(h.clock.pendingTimers()).toBe(0);
  });
});

describe('ContainerProfileCache: served profiles are shared and immutable (shared_pointer_race_test.go)', () => {
  it('never lets a reader see a half-built entry or a served profile change under it (#43 SharedPointerReadersDoNotCorruptCache)', async () => {
    const h = harness();
    const v1 = containerProfile({
      execs: [{ path: '/bin/sh', args: ['a', 'b', 'c'] }],
      opens: [{ path: '/etc/passwd', flags: ['O_RDONLY'] }],
      capabilities: ['CAP_NET_ADMIN', 'CAP_SYS_PTRACE'],
    });
    const v2 = containerProfile({ execs: [{ path: '/bin/bash', args: ['x', 'y'] }], opens: [{ path: '/etc/shadow', flags: ['O_WRONLY'] }], capabilities: ['CAP_CHOWN'] });
    h.sources.containerProfiles.create(v1);
    h.prime('race-container');
    h.add('race-container');
    await h.flush();

    const served = new Map<ContainerProfile, string>();
    let reads = 0;
    let stop = false;
    const reader = async () => {
      while (!stop) {
        const profile = h.cache.getContainerProfile('race-container');
        const entry = h.cache.getEntry('race-container');
        if (profile && entry) {
          reads++;
          expect(entry.profile).toBe(profile);
          expect(profile.metadata?.resourceVersion).toBe(entry.resourceVersions.cp);
          if (!served.has(profile)) served.set(profile, JSON.stringify(profile));
        }
        // A macrotask turn, so readers interleave with the watch events instead of starving them.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const readers = Array.from({ length: 20 }, reader);
    for (let i = 0; i < 40; i++) {
      h.sources.containerProfiles.put(i % 2 === 0 ? v2 : v1);
      await h.flush();
    }
    stop = true;
    await Promise.all(readers);
    expect(reads).toBeGreaterThan(100);
    expect(served.size).toBeGreaterThan(20);
    for (const [profile, json] of served) expect(JSON.stringify(profile)).toBe(json);
    expect(h.cache.getContainerProfile('race-container')?.metadata?.resourceVersion).not.toBe('');
  });

  it.each<ProfileStrategy>(['watch', 'ttl'])(
    'serves the store object itself after a rebuild without overlays (#44 SharedPointerFastPathPreservesPointerIdentity, %s)',
    async (strategy) => {
      const h = harness({ strategy });
      h.sources.containerProfiles.create(containerProfile({ capabilities: ['CAP_NET_ADMIN'] }));
      h.prime('id-identity');
      h.add('id-identity');
      await h.flush();
      const updated = h.sources.containerProfiles.put(containerProfile({ capabilities: ['CAP_NET_RAW'] }));
      if (strategy === 'ttl') {
        await h.clock.advance(30_000);
        await h.cache.refreshAll();
      }
      await h.flush();
      const got = h.cache.getContainerProfile('id-identity');
      expect(got).toBe(await h.cache.stores.containerProfiles.get(NS, CP_NAME));
      expect(got?.metadata?.resourceVersion).toBe(updated.metadata!.resourceVersion);
      expect(h.cache.getEntry('id-identity')?.shared).toBe(true);
    },
  );
});

describe('ContainerProfileCache: freshness by events (watch stores)', () => {
  it('shows a profile change through getContainerProfile without any reconciler tick', async () => {
    const rebuilt: [string, ContainerProfileEntry, string][] = [];
    const h = harness({ onEntryRebuilt: (id, entry, reason) => rebuilt.push([id, entry, reason]) });
    h.sources.containerProfiles.create(containerProfile({ execs: [{ path: '/bin/old' }] }));
    h.prime('c1');
    h.add('c1');
    h.cache.start();
    await h.flush();
    expect(execsOf(h.cache.getContainerProfile('c1'))).toEqual(['/bin/old']);
    const started = h.clock.now();

    h.sources.containerProfiles.put(containerProfile({ execs: [{ path: '/bin/new' }] }));
    await h.flush();
    expect(execsOf(h.cache.getContainerProfile('c1'))).toEqual(['/bin/new']);
    expect(h.clock.now()).toBe(started);
    expect(h.metrics.durations).toHaveLength(0);
    expect(h.requests('get')).toBe(0);
    expect(rebuilt.map(([id, , reason]) => [id, reason])).toEqual([
      ['c1', 'populated'],
      ['c1', 'rebuilt'],
    ]);
    expect(rebuilt[1][1]).toBe(h.cache.getEntry('c1'));
  });

  it('rebuilds on an overlay change at once, and fast-skips events that change nothing (#18 and #45 by event)', async () => {
    const rebuilt: string[] = [];
    const h = harness({ onEntryRebuilt: (_id, _entry, reason) => rebuilt.push(reason) });
    h.sources.containerProfiles.create(containerProfile({ execs: [{ path: '/bin/base' }] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', execs: [{ path: '/bin/old' }] }]));
    h.prime('c1');
    h.add('c1', overlayLabel('override'));
    await h.flush();
    const before = h.cache.getEntry('c1');

    h.sources.networkNeighborhoods.bookmark();
    await h.flush();
    expect(h.cache.getEntry('c1')).toBe(before);

    h.sources.applicationProfiles.put(applicationProfile('override', [{ name: 'nginx', execs: [{ path: '/bin/new' }] }]));
    await h.flush();
    expect(execsOf(h.cache.getContainerProfile('c1'))).toEqual(['/bin/base', '/bin/new']);
    expect(rebuilt).toEqual(['populated', 'rebuilt']);
    expect(h.metrics.legacyLoad('application', 'full')).toBe(2);
  });

  it('stops the watches of a workload when its last container goes', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    for (const id of ['a', 'b']) {
      h.prime(id);
      h.add(id, overlayLabel('override'));
    }
    await h.flush();
    // CP, ug-AP, ug-NN, override AP, override NN.
    expect(h.openWatches()).toBe(5);
    const store = h.cache.stores.containerProfiles as WatchObjectStore<ContainerProfile>;

    h.remove('a');
    await h.flush();
    expect(h.openWatches()).toBe(5);
    expect(store.inspect(NS, CP_NAME)?.refs).toEqual({ b: 1 });

    h.remove('b');
    await h.flush();
    expect(h.openWatches()).toBe(0);
    expect(store.inspect(NS, CP_NAME)).toBeUndefined();
    expect((h.cache.stores.applicationProfiles as WatchObjectStore<unknown>).inspect(NS, 'override')).toBeUndefined();
    expect(h.cache.stats()).toMatchObject({ references: 0, subscriptions: 0 });
  });

  it('leaves no timer, watch, subscription or reflector behind on close()', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.prime('cached');
    h.add('cached');
    h.add('adding');
    h.cache.start();
    await h.flush();
    h.prime('pending', { instanceID: { apiVersion: 'v1', namespace: NS, kind: 'Pod', name: 'other', containerName: 'x', instanceType: 'container' } });
    h.add('pending');
    await h.clock.advance(1_000);
    await h.flush();
    expect(h.cache.stats()).toMatchObject({ entries: 1, pending: 1, adding: 1 });

    await h.cache.close();
    expect(h.clock.pendingTimers()).toBe(0);
    expect(h.openWatches()).toBe(0);
    expect(h.cache.stats()).toMatchObject({ containers: 0, references: 0, subscriptions: 0 });
    const { containerProfiles, applicationProfiles, networkNeighborhoods } = h.cache.stores;
    for (const store of [containerProfiles, applicationProfiles, networkNeighborhoods] as WatchObjectStore<unknown>[]) {
      expect(store.stats()).toMatchObject({ objects: 0, activeReflectorLoops: 0, subscribers: 0 });
    }
    expect(h.cache.getContainerProfile('cached')).toBeUndefined();
    h.add('late');
    expect(h.cache.stats().containers).toBe(0);
    await h.cache.close();
  });

  it('releases injected stores’ references on close() but leaves the stores to their owner', async () => {
    const owner = harness();
    const stores = owner.cache.stores;
    const cache = new ContainerProfileCache({ stores, getPod: () => undefined, getSharedContainerData: () => owner.shared.get('x'), clock: owner.clock });
    owner.sources.containerProfiles.create(containerProfile());
    owner.prime('x');
    cache.containerCallback({ type: 'add', container: eventContainer('x') });
    await owner.flush();
    await cache.idle();
    expect(cache.getContainerProfile('x')).toBeDefined();
    await cache.close();
    expect((stores.containerProfiles as WatchObjectStore<unknown>).inspect(NS, CP_NAME)).toBeUndefined();
    expect(() => stores.containerProfiles.addReference(NS, CP_NAME, 'someone')).not.toThrow();
  });

  it('requires exactly one of stores and sources', () => {
    const base = { getPod: () => undefined, getSharedContainerData: () => undefined };
    expect(() => new ContainerProfileCache(base)).toThrow(TypeError);
  });
});

describe('ContainerProfileCache: adds in progress', () => {
  it('idle() right after an add resolves once the entry is in place, without waiting on adds parked in backoff', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.prime('ready');
    h.add('ready');
    h.add('parked');
    await h.cache.idle();
    expect(h.cache.getEntry('ready')).toBeDefined();
    expect(h.cache.stats()).toMatchObject({ entries: 1, adding: 1 });
  });

  it('cancels an add still waiting for shared data when the remove arrives, leaving nothing behind', async () => {
    const h = harness();
    h.add('c1');
    await h.flush();
    expect(h.cache.stats().adding).toBe(1);
    expect(h.clock.pendingTimers()).toBeGreaterThan(0);
    h.remove('c1');
    await h.flush();
    expect(h.cache.stats().containers).toBe(0);
    h.prime('c1');
    await h.clock.advance(120_000);
    await h.flush();
    expect(h.requests('list')).toBe(0);
  });

  it('applies an add and a remove that arrive back to back in order: the container is gone', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.prime('c1');
    h.add('c1');
    h.remove('c1');
    await h.flush();
    expect(h.cache.stats()).toMatchObject({ containers: 0, references: 0 });
    expect(h.openWatches()).toBe(0);
  });

  it('ignores a second add for a container it already knows', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile());
    h.prime('c1');
    h.add('c1');
    await h.flush();
    const entry = h.cache.getEntry('c1');
    h.add('c1');
    await h.flush();
    expect(h.cache.getEntry('c1')).toBe(entry);
    expect(h.cache.stats().references).toBe(3);
  });

  it('forgets a container whose shared data never arrives within the add timeout', async () => {
    const h = harness({ addTimeout: 60_000 });
    h.add('c1');
    await h.flush();
    await h.clock.advance(60_000);
    await h.flush();
    expect(h.cache.stats().containers).toBe(0);
    expect(h.logger.warnings('timeout while adding container to the container-profile cache')).toHaveLength(1);
    expect(h.clock.pendingTimers()).toBeGreaterThanOrEqual(0);
  });

  it('retries the shared-data lookup with upstream’s backoff (500 ms growing ×1.5, up to 60 s)', async () => {
    const lookups: number[] = [];
    const h = harness({ random: () => 0.5, getSharedContainerData: () => void lookups.push(h.clock.now()) });
    h.add('c1');
    await h.flush();
    await h.clock.advance(10 * 60_000 - 1);
    const gaps = lookups.slice(1).map((t, i) => t - lookups[i]);
    expect(gaps.slice(0, 4)).toEqual([500, 750, 1125, 1687.5]);
    expect(Math.max(...gaps)).toBe(60_000);
  });
});

describe('ContainerProfileCache: upstream quirks fixed', () => {
  it('sends a container back to pending when every object it depends on is deleted, instead of serving an empty profile', async () => {
    const h = harness();
    h.sources.containerProfiles.create(containerProfile({ capabilities: ['X'] }));
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx', capabilities: ['Y'] }]));
    h.prime('c1');
    h.add('c1', overlayLabel('override'));
    await h.flush();
    expect(capsOf(h.cache.getContainerProfile('c1'))).toEqual(new Set(['X', 'Y']));

    h.sources.containerProfiles.remove(NS, CP_NAME);
    await h.flush();
    // The learned profile is gone: the overlay now sits on the synthetic base.
    expect(capsOf(h.cache.getContainerProfile('c1'))).toEqual(new Set(['Y']));
    expect(h.cache.getContainerProfileState('c1').name).toBe(WORKLOAD);

    h.sources.applicationProfiles.remove(NS, 'override');
    await h.flush();
    expect(h.cache.getContainerProfile('c1')).toBeUndefined();
    expect(h.cache.stats()).toMatchObject({ pending: 1, entries: 0 });

    h.sources.containerProfiles.create(containerProfile({ capabilities: ['Z'] }));
    await h.flush();
    expect(capsOf(h.cache.getContainerProfile('c1'))).toEqual(new Set(['Z']));
  });

  it('logs the deprecation warning once per overlay version, however many containers merge it', async () => {
    const h = harness();
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx' }]));
    h.sources.networkNeighborhoods.create(networkNeighborhood('override', [{ name: 'nginx' }]));
    for (const id of ['a', 'b', 'c']) {
      h.prime(id);
      h.add(id, overlayLabel('override'));
    }
    await h.flush();
    expect(h.logger.warnings('user-authored legacy profile merged (deprecated)').map((f) => f.kind)).toEqual(['application', 'network']);
    expect(h.metrics.legacyLoad('application', 'full')).toBe(3);
  });

  it('reports partial overlays against the pod spec', async () => {
    const h = harness();
    h.setPod({ metadata: { namespace: NS, name: 'nginx-abc', uid: 'uid-1' }, spec: { containers: [{ name: 'nginx' }, { name: 'sidecar' }] } });
    h.sources.applicationProfiles.create(applicationProfile('override', [{ name: 'nginx' }]));
    h.prime('a');
    h.add('a', overlayLabel('override'));
    await h.flush();
    expect(h.metrics.legacyLoad('application', 'partial')).toBe(1);
    expect(h.metrics.legacyLoad('application', 'full')).toBe(0);
    expect(h.logger.warnings('user-authored legacy profile merged (deprecated)')[0]).toMatchObject({
      kind: 'application',
      reason: 'pod has containers missing from user CRD: [sidecar]',
    });
    expect(h.cache.getEntry('a')?.podUID).toBe('uid-1');
  });
});

describe('ContainerProfileCache: logging', () => {
  it('logs through a pino logger with the fields, its own lines and those of the watch stores it built', async () => {
    const { logger, lines } = capturePino();
    const h = harness({ logger });
    let failed = false;
    h.sources.containerProfiles.onList(() => {
      if (failed) return undefined;
      failed = true;
      throw boom();
    });
    h.cache.containerCallback({ type: 'add', container: { ...eventContainer('c1'), containerID: '' } });
    h.prime('c1');
    h.add('c1');
    await settle();
    await h.clock.advance(DEFAULT_RPC_BUDGET);
    await h.flush();
    const pick = (msg: string) => lines.filter((l) => l.msg === msg).map(({ level, type, reflector, error }) => ({ level, type, reflector, error }));
    expect(pick('profile cache: ignoring a container event without a container ID')).toEqual([{ level: LEVEL.warn, type: 'add', reflector: undefined, error: undefined }]);
    expect(pick('list/watch failed')).toEqual([{ level: LEVEL.warn, type: undefined, reflector: expect.stringContaining(CP_NAME), error: 'kaboom' }]);
  });
});

describe('ContainerProfileCache: await using', () => {
  it('closes at the end of an `await using` block, also when the block throws: no watch, no reference, events ignored', async () => {
    let h: Harness | undefined;
    await expectAwaitUsingCloses(
      () => (h = harness()).cache,
      async (cache) => {
        h!.add('c2');
        await h!.flush();
        return h!.openWatches() === 0 && cache.stats().containers === 0 && cache.stats().references === 0;
      },
      async () => {
        h!.sources.containerProfiles.create(containerProfile({ capabilities: ['NET_ADMIN'] }));
        h!.prime('c1');
        h!.prime('c2');
        h!.add('c1');
        await h!.flush();
      },
    );
  });
});

describe('ContainerProfileCache: idle(signal)', () => {
  it('stops waiting for idle when its signal aborts, while the add it waited for goes on', async () => {
    let answer!: (data: undefined) => void;
    const h = harness({ getSharedContainerData: () => new Promise((resolve) => (answer = resolve)) });
    h.add('c1');
    await settle();
    const leaving = new AbortController();
    const waiting = h.cache.idle(leaving.signal);
    leaving.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(h.cache.stats().adding).toBe(1);
    await expect(h.cache.idle(AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
    answer(undefined);
    await h.flush();
  });
});
