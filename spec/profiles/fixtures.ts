// Test fixtures for the profile cache specs: the TypeScript counterparts of node-agent's
// fakeProfileClient / K8sObjectCacheMock / countingMetrics, built on refwatch's in-memory source
// and fake clock instead of stubs, so every object really goes through a store.
import type { V1Pod } from '@kubernetes/client-node';
import { ContainerProfileCache, type ContainerProfileCacheOptions } from '../../lib/profiles/container-profile-cache.js';
import type { ContainerInfo, SharedContainerData } from '../../lib/profiles/container-events.js';
import type { CacheEntriesKind, ContainerProfileCacheMetrics, EvictionReason, OverlayCompleteness, ReconcilerPhase } from '../../lib/profiles/metrics.js';
import { containerProfileName, instanceIDFromPod, userManagedProfileName, workloadSlug, type InstanceID } from '../../lib/profiles/names.js';
import { COMPLETION_ANNOTATION, STATUS_ANNOTATION } from '../../lib/profiles/profile-state.js';
import type { ProfileSources, ProfileStrategy } from '../../lib/profiles/profile-stores.js';
import type { OverlayKind } from '../../lib/profiles/projection.js';
import { profileResources } from '../../lib/profiles/resources.js';
import type {
  ApplicationProfile,
  ApplicationProfileContainer,
  ContainerProfile,
  ContainerProfileSpec,
  NetworkNeighborhood,
  NetworkNeighborhoodContainer,
} from '../../lib/profiles/types.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { ObjectStorage } from '../../lib/testing/object-storage.js';

export const NS = 'default';
export const POD = 'nginx-abc';
export const WLID = 'wlid://cluster-a/namespace-default/deployment-nginx';

/** upstream primeSharedData's pod: default/nginx-abc running nginx:1.25. */
export function nginxPod(overrides: { uid?: string; containers?: string[]; statuses?: V1Pod['status'] } = {}): V1Pod {
  return {
    metadata: { name: POD, namespace: NS, uid: overrides.uid ?? 'uid-1' },
    spec: { containers: (overrides.containers ?? ['nginx']).map((name) => ({ name, image: 'nginx:1.25' })) },
    status: overrides.statuses,
  };
}

export const INSTANCE_ID: InstanceID = instanceIDFromPod(nginxPod(), 'nginx')!;
/** The ContainerProfile name every nginx container reads. */
export const CP_NAME = containerProfileName(INSTANCE_ID);
/** "pod-nginx-abc". */
export const WORKLOAD = workloadSlug(INSTANCE_ID);
export const UG_NAME = userManagedProfileName(WORKLOAD);

/** upstream eventContainer: nginx, PID 42, in default/nginx-abc. */
export function eventContainer(id: string, overrides: Partial<ContainerInfo> = {}): ContainerInfo {
  return { containerID: id, containerName: 'nginx', pid: 42, namespace: NS, podName: POD, ...overrides };
}

export function annotations(completion: string, status: string): Record<string, string> {
  return { [COMPLETION_ANNOTATION]: completion, [STATUS_ANNOTATION]: status };
}

export function containerProfile(spec: ContainerProfileSpec = {}, meta: { name?: string; annotations?: Record<string, string> } = {}): ContainerProfile {
  return { metadata: { namespace: NS, name: meta.name ?? CP_NAME, annotations: meta.annotations }, spec };
}

export function applicationProfile(name: string, containers: ApplicationProfileContainer[]): ApplicationProfile {
  return { metadata: { namespace: NS, name }, spec: { containers } };
}

export function networkNeighborhood(name: string, containers: NetworkNeighborhoodContainer[], matchLabels?: Record<string, string>): NetworkNeighborhood {
  return { metadata: { namespace: NS, name }, spec: { containers, matchLabels } };
}

/** upstream countingMetrics, plus hits and durations. */
export class RecordingMetrics implements ContainerProfileCacheMetrics {
  readonly gauges = new Map<CacheEntriesKind, number>();
  readonly hits = { hit: 0, miss: 0 };
  readonly durations: [ReconcilerPhase, number][] = [];
  readonly evictions = new Map<EvictionReason, number>();
  readonly legacyLoads = new Map<string, number>();

  setContainerProfileCacheEntries(kind: CacheEntriesKind, count: number): void {
    this.gauges.set(kind, count);
  }
  reportContainerProfileCacheHit(hit: boolean): void {
    this.hits[hit ? 'hit' : 'miss']++;
  }
  reportContainerProfileReconcilerDuration(phase: ReconcilerPhase, durationMs: number): void {
    this.durations.push([phase, durationMs]);
  }
  reportContainerProfileReconcilerEviction(reason: EvictionReason): void {
    this.evictions.set(reason, (this.evictions.get(reason) ?? 0) + 1);
  }
  reportContainerProfileLegacyLoad(kind: OverlayKind, completeness: OverlayCompleteness): void {
    const key = `${kind}|${completeness}`;
    this.legacyLoads.set(key, (this.legacyLoads.get(key) ?? 0) + 1);
  }
  legacyLoad(kind: OverlayKind, completeness: OverlayCompleteness): number {
    return this.legacyLoads.get(`${kind}|${completeness}`) ?? 0;
  }
  eviction(reason: EvictionReason): number {
    return this.evictions.get(reason) ?? 0;
  }
}

export class RecordingLogger implements Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: LogFields }[] = [];
  debug(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  warnings(msg: string): LogFields[] {
    return this.at('warn', msg);
  }
  errors(msg: string): LogFields[] {
    return this.at('error', msg);
  }
  private at(level: 'warn' | 'error', msg: string): LogFields[] {
    return this.lines.filter((l) => l.level === level && l.msg === msg).map((l) => l.fields ?? {});
  }
}

export interface Harness {
  clock: FakeClock;
  sources: { containerProfiles: MemorySource<ContainerProfile>; applicationProfiles: MemorySource<ApplicationProfile>; networkNeighborhoods: MemorySource<NetworkNeighborhood> };
  /** Shared container data by container ID (upstream SetSharedContainerData). */
  shared: Map<string, SharedContainerData>;
  /** Pods by "ns/name"; GetPod answers undefined for anything else. */
  pods: Map<string, V1Pod>;
  /** Number of getPod calls. */
  podLookups: { count: number };
  metrics: RecordingMetrics;
  logger: RecordingLogger;
  cache: ContainerProfileCache;
  /** upstream primeSharedData for `id` (optionally pre-running). */
  prime(id: string, opts?: { preRunning?: boolean; instanceID?: InstanceID }): void;
  add(id: string, overrides?: Partial<ContainerInfo>): void;
  remove(id: string): void;
  /** Lets watch events, store syncs and every queued container operation finish. */
  flush(): Promise<void>;
  setPod(pod: V1Pod): void;
  /** Requests of one verb across the three sources. */
  requests(verb: 'get' | 'list' | 'watch', name?: string): number;
  openWatches(): number;
}

const caches: ContainerProfileCache[] = [];

/** Closes every cache a spec built; call from afterEach. */
export async function closeAll(): Promise<void> {
  await Promise.all(caches.splice(0).map((c) => c.close()));
}

export type HarnessOptions = Partial<Omit<ContainerProfileCacheOptions, 'sources' | 'stores' | 'strategy'>> & { strategy?: ProfileStrategy };

export function harness(opts: HarnessOptions = {}): Harness {
  const clock = new FakeClock(1_000_000);
  const storage = new ObjectStorage();
  const sources = {
    containerProfiles: new MemorySource<ContainerProfile>(profileResources.containerProfiles, storage),
    applicationProfiles: new MemorySource<ApplicationProfile>(profileResources.applicationProfiles, storage),
    networkNeighborhoods: new MemorySource<NetworkNeighborhood>(profileResources.networkNeighborhoods, storage),
  };
  const shared = new Map<string, SharedContainerData>();
  const pods = new Map<string, V1Pod>();
  const podLookups = { count: 0 };
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const cache = new ContainerProfileCache({
    sources: sources satisfies ProfileSources,
    clock,
    metrics,
    logger,
    random: () => 0,
    getPod: (ns, name) => {
      podLookups.count++;
      return pods.get(`${ns}/${name}`);
    },
    getSharedContainerData: (id) => shared.get(id),
    ...opts,
  });
  caches.push(cache);
  const all = Object.values(sources);
  const h: Harness = {
    clock,
    sources,
    shared,
    pods,
    podLookups,
    metrics,
    logger,
    cache,
    prime(id, o = {}) {
      shared.set(id, { instanceID: o.instanceID ?? INSTANCE_ID, wlid: WLID, preRunningContainer: o.preRunning ?? false });
    },
    add(id, overrides) {
      cache.containerCallback({ type: 'add', container: eventContainer(id, overrides) });
    },
    remove(id) {
      cache.containerCallback({ type: 'remove', container: eventContainer(id) });
    },
    async flush() {
      for (let i = 0; i < 3; i++) {
        await settle();
        await cache.idle();
      }
    },
    setPod(pod) {
      pods.set(`${pod.metadata!.namespace}/${pod.metadata!.name}`, pod);
    },
    requests(verb, name) {
      return all.reduce((n, s) => n + s.actions.filter((a) => a.verb === verb && (name === undefined || a.name === name)).length, 0);
    },
    openWatches() {
      return all.reduce((n, s) => n + s.openWatchCount, 0);
    },
  };
  return h;
}
