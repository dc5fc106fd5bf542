/**
 * Profile-cache benchmark on the embedded API server: 300 running containers (100 workloads,
 * 3 containers per pod) whose ContainerProfiles, and the user-managed and label-referenced
 * overlays some workloads carry, are read by a ContainerProfileCache. refwatch's watch stores
 * (one list+watch per object, changes pushed as events) next to node-agent's polling (every
 * dependency of every container GET every 30 s: `strategy: 'ttl'`, `ttl: 0`). Each variant runs
 * in a fresh worker process against the same server, alternating, ROUNDS times; medians are
 * reported. Measured per variant:
 *
 *  - API requests per second at steady state, by verb, counted by the server over a window
 *    that opens once all 300 containers are populated;
 *  - the time from a profile write (a PUT through the API) until getContainerProfile serves
 *    the change, for UPDATES writes spread through the window (p50 and max);
 *  - the time and the requests until all 300 containers are populated after start;
 *  - the connections the cache's client holds, the watch streams open, the worker's CPU.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/profiles.js
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_PROFILE_WINDOW_MS (default 60 000),
 * BENCH_PROFILE_UPDATES (default 20), BENCH_PROFILE_POLL_MS (default 30 000, upstream's), and
 * BENCH_QUICK=1 for a smoke run of about a minute (1 round, a 20 s window, 8 writes, and the
 * polling interval shortened to 10 s so the window still holds two refresh passes; the title
 * says so).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubeClient, ObjectWriter } from '../lib/api/kube-client.js';
import { ContainerProfileCache, type ContainerProfileCacheOptions } from '../lib/profiles/container-profile-cache.js';
import type { ContainerInfo, SharedContainerData } from '../lib/profiles/container-events.js';
import { USER_DEFINED_PROFILE_LABEL, containerProfileName, instanceIDFromPod, instanceIDString, userManagedProfileName, workloadSlug, type InstanceID } from '../lib/profiles/names.js';
import { COMPLETION_ANNOTATION, STATUS_ANNOTATION } from '../lib/profiles/profile-state.js';
import { PROFILE_API_GROUP, profileResources } from '../lib/profiles/resources.js';
import type { ApplicationProfile, ApplicationProfileContainer, ContainerProfile, NetworkNeighbor, NetworkNeighborhood } from '../lib/profiles/types.js';
import { ApiServer } from '../lib/testing/api-server/index.js';
import { median, report, round } from './report.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
/** Steady-state window: long enough to hold two of upstream's 30 s refresh passes. */
const WINDOW_MS = Number(process.env.BENCH_PROFILE_WINDOW_MS ?? (QUICK ? 20_000 : 60_000));
/** Profile writes spread evenly through the window; 20 give a stable p50 at a few per pass. */
const UPDATES = Number(process.env.BENCH_PROFILE_UPDATES ?? (QUICK ? 8 : 20));
/**
 * The polling variant's reconcile interval: node-agent's code default, 30 s. The quick run
 * shortens it to 10 s (a third, as its window is a third) so that its 20 s window is not empty.
 */
const POLL_INTERVAL_MS = Number(process.env.BENCH_PROFILE_POLL_MS ?? (QUICK ? 10_000 : 30_000));
/** Upstream's default interval; the title says when the polling variant runs on another. */
const UPSTREAM_POLL_INTERVAL_MS = 30_000;

/** 100 workloads × 1 pod × 3 containers: the 300 containers the issue asks for. */
const WORKLOADS = 100;
const NAMESPACES = ['shop', 'payments', 'search', 'identity', 'observability'];
/** Every 4th workload has user-managed `ug-` overlays (AP and NN), as a tuned workload would. */
const UG_EVERY = 4;
/** Every 10th pod names a user-defined overlay by label (the deprecated path, still served). */
const LABEL_OVERLAY_EVERY = 10;
/** Time after the last container is populated before the window may open: in-flight watches start. */
const SETTLE_MS = 2_000;
/** A worker that has not populated every container by then is reported as failed. */
const POPULATE_TIMEOUT_MS = 120_000;
/**
 * How long a write may take to become visible before it is counted as never visible: one full
 * jittered polling period (+10 %), plus a refresh pass over 300 containers and a margin.
 */
const VISIBILITY_TIMEOUT_MS = POLL_INTERVAL_MS * 1.1 + 15_000;
/** How often the worker samples its client's connection count for the peak. */
const CONNECTION_SAMPLE_MS = 250;

const VARIANTS = ['watch', 'polling'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = {
  watch: 'refwatch watch stores',
  polling: `upstream polling (every ${POLL_INTERVAL_MS / 1000} s)`,
};

/** The cache options that make the variant; everything else is the same. */
function variantOptions(variant: Variant): Pick<ContainerProfileCacheOptions, 'strategy' | 'ttl' | 'reconcileInterval'> {
  // Polling: ttl 0 makes every read a GET, one per dependency per container per pass, as
  // node-agent's refreshAllEntries does; the watch variant keeps the default reconcile interval.
  return variant === 'watch' ? { strategy: 'watch' } : { strategy: 'ttl', ttl: 0, reconcileInterval: POLL_INTERVAL_MS };
}

// --- the fleet: pods, containers and their profile objects, the same in every process ------------

interface BenchContainer {
  id: string;
  name: string;
  namespace: string;
  podName: string;
  podLabels: Record<string, string>;
  shared: SharedContainerData;
  cpName: string;
}

interface BenchWorkload {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  pod: V1Pod;
  containers: BenchContainer[];
  /** `ug-<workload slug>`, when the workload has user-managed overlays. */
  ugName?: string;
  /** The overlay named by the pod's user-defined-profile label, if any. */
  labelOverlay?: string;
}

const STEMS = ['cart', 'checkout', 'catalog', 'ledger', 'indexer', 'gateway', 'session', 'notifier', 'billing', 'recommender'];
const SIDECARS = ['istio-proxy', 'fluent-bit'];

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

function buildFleet(): BenchWorkload[] {
  const fleet: BenchWorkload[] = [];
  for (let w = 0; w < WORKLOADS; w++) {
    const namespace = NAMESPACES[w % NAMESPACES.length];
    const stem = STEMS[w % STEMS.length];
    const name = `${stem}-${w}`;
    // Mostly Deployments (pods owned by a ReplicaSet), some StatefulSets and DaemonSets: the
    // three naming paths of instanceIDFromPod.
    const kind = w % 10 === 7 ? 'StatefulSet' : w % 10 === 9 ? 'DaemonSet' : 'Deployment';
    const templateHash = hex(`template/${name}`, 10).replace(/[0-9]/g, (d) => 'bcdfghjkmn'[Number(d)]);
    const labels: Record<string, string> = { app: name };
    let podName: string;
    let owner: { apiVersion: string; kind: string; name: string };
    if (kind === 'Deployment') {
      labels['pod-template-hash'] = templateHash;
      podName = `${name}-${templateHash}-${hex(`pod/${name}`, 5)}`;
      owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${templateHash}` };
    } else if (kind === 'StatefulSet') {
      labels['controller-revision-hash'] = `${name}-${templateHash}`;
      podName = `${name}-0`;
      owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name };
    } else {
      labels['controller-revision-hash'] = templateHash;
      podName = `${name}-${hex(`pod/${name}`, 5)}`;
      owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name };
    }
    const labelOverlay = w % LABEL_OVERLAY_EVERY === 5 ? `${name}-overrides` : undefined;
    if (labelOverlay) labels[USER_DEFINED_PROFILE_LABEL] = labelOverlay;
    const containerNames = [stem, ...SIDECARS];
    const ids = containerNames.map((c) => hex(`container/${namespace}/${podName}/${c}`, 64));
    const pod: V1Pod = {
      metadata: { namespace, name: podName, uid: `pod-uid-${w}`, labels, ownerReferences: [{ ...owner, uid: `owner-uid-${w}`, controller: true }] },
      spec: { containers: containerNames.map((c) => ({ name: c, image: `registry.example/${c}:1.${w % 7}` })) },
      status: {
        phase: 'Running',
        containerStatuses: containerNames.map((c, i) => ({
          name: c,
          containerID: `containerd://${ids[i]}`,
          image: `registry.example/${c}:1.${w % 7}`,
          imageID: `registry.example/${c}@sha256:${hex(`image/${c}`, 64)}`,
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date(0) } },
        })),
      },
    };
    const wlid = `wlid://cluster-bench/namespace-${namespace}/${kind.toLowerCase()}-${name}`;
    const containers = containerNames.map((c, i): BenchContainer => {
      const instanceID = instanceIDFromPod(pod, c)!;
      return {
        id: ids[i],
        name: c,
        namespace,
        podName,
        podLabels: labels,
        shared: { instanceID, wlid, preRunningContainer: true },
        cpName: containerProfileName(instanceID),
      };
    });
    const slug = workloadSlug(containers[0].shared.instanceID);
    fleet.push({
      namespace,
      kind,
      name,
      pod,
      containers,
      ugName: w % UG_EVERY === 0 ? userManagedProfileName(slug) : undefined,
      labelOverlay,
    });
  }
  return fleet;
}

/** What node-agent learns about a container in a few minutes: a few KiB of JSON. */
function containerProfileOf(w: BenchWorkload, c: BenchContainer, marker?: string): ContainerProfile {
  const id: InstanceID = c.shared.instanceID;
  const bin = `/usr/local/bin/${c.name}`;
  const execs = [{ path: bin, args: [bin, '--config', `/etc/${c.name}/config.yaml`] }, { path: '/bin/sh', args: ['/bin/sh', '-c', 'healthcheck'] }];
  for (let i = 0; i < 8; i++) execs.push({ path: `/usr/bin/tool-${i}`, args: [`tool-${i}`, `--flag=${i}`] });
  if (marker) execs.push({ path: marker, args: [marker] });
  const egress: NetworkNeighbor[] = Array.from({ length: 4 }, (_, i) => ({
    identifier: hex(`egress/${w.name}/${c.name}/${i}`, 64),
    type: i === 0 ? 'external' : 'internal',
    dnsNames: i === 0 ? ['api.partner.example.'] : [`svc-${i}.${w.namespace}.svc.cluster.local.`],
    ports: [{ name: `TCP-${8080 + i}`, protocol: 'TCP', port: 8080 + i }],
    podSelector: i === 0 ? null : { matchLabels: { app: `svc-${i}` } },
  }));
  return {
    metadata: {
      namespace: w.namespace,
      name: c.cpName,
      labels: {
        'kubescape.io/workload-api-group': 'apps',
        'kubescape.io/workload-api-version': 'v1',
        'kubescape.io/workload-kind': w.kind,
        'kubescape.io/workload-name': w.name,
        'kubescape.io/workload-namespace': w.namespace,
        'kubescape.io/workload-container-name': c.name,
      },
      annotations: {
        [COMPLETION_ANNOTATION]: 'complete',
        [STATUS_ANNOTATION]: 'completed',
        'kubescape.io/instance-id': instanceIDString(id),
        'kubescape.io/wlid': c.shared.wlid,
      },
    },
    spec: {
      architectures: ['amd64'],
      imageID: `registry.example/${c.name}@sha256:${hex(`image/${c.name}`, 64)}`,
      imageTag: `registry.example/${c.name}:1.0`,
      capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'],
      execs,
      opens: Array.from({ length: 40 }, (_, i) => ({ path: i % 4 === 0 ? `/etc/${c.name}/conf.d/${i}.yaml` : `/usr/lib/x86_64-linux-gnu/lib${i}.so.1`, flags: ['O_RDONLY', 'O_CLOEXEC'] })),
      syscalls: SYSCALLS,
      endpoints: [{ endpoint: ':8080/healthz', methods: ['GET'], internal: true, direction: 'inbound' }],
      rulePolicies: { R0001: { processAllowed: [bin] } },
      ingress: [{ identifier: hex(`ingress/${w.name}`, 64), type: 'internal', ports: [{ name: 'TCP-8080', protocol: 'TCP', port: 8080 }], podSelector: { matchLabels: { app: 'gateway' } } }],
      egress,
    },
  };
}

const SYSCALLS = (
  'accept4 access arch_prctl bind brk capget capset chdir clone close connect dup3 epoll_create1 epoll_ctl epoll_pwait ' +
  'execve exit_group fchdir fcntl fstat fstatfs futex getcwd getdents64 getpeername getpid getppid getrandom getsockname ' +
  'getsockopt gettid getuid ioctl listen lseek madvise mmap mprotect munmap nanosleep newfstatat openat pipe2 prctl pread64 ' +
  'prlimit64 read readlinkat recvfrom rt_sigaction rt_sigprocmask rt_sigreturn sched_getaffinity sched_yield sendto ' +
  'set_robust_list set_tid_address setgid setgroups setsockopt setuid sigaltstack socket statfs tgkill uname write'
).split(' ');

/** A user-managed or label-referenced AP: a section for every container of the pod. */
function applicationProfileOf(w: BenchWorkload, name: string, marker?: string): ApplicationProfile {
  const containers = w.containers.map((c): ApplicationProfileContainer => {
    const execs = [{ path: '/usr/bin/curl', args: ['curl', '-sf', 'http://localhost:8080/healthz'] }];
    if (marker) execs.push({ path: marker, args: [marker] });
    return { name: c.name, execs, opens: [{ path: `/var/run/${c.name}.sock`, flags: ['O_RDWR'] }], capabilities: ['CAP_NET_RAW'] };
  });
  return { metadata: { namespace: w.namespace, name }, spec: { architectures: ['amd64'], containers } };
}

function networkNeighborhoodOf(w: BenchWorkload, name: string): NetworkNeighborhood {
  return {
    metadata: { namespace: w.namespace, name },
    spec: {
      matchLabels: { app: w.name },
      containers: w.containers.map((c) => ({
        name: c.name,
        egress: [{ identifier: hex(`overlay-egress/${w.name}/${c.name}`, 64), type: 'external', dnsNames: ['telemetry.example.'], ports: [{ name: 'TCP-443', protocol: 'TCP', port: 443 }] }],
      })),
    },
  };
}

/** Every object the fleet's containers read, as the orchestrator seeds the server with them. */
function seed(server: ApiServer, fleet: BenchWorkload[]): number {
  let objects = 0;
  const put = (rt: (typeof profileResources)[keyof typeof profileResources], obj: ContainerProfile | ApplicationProfile | NetworkNeighborhood) => {
    server.storage.create(rt, obj);
    objects++;
  };
  for (const w of fleet) {
    for (const c of w.containers) put(profileResources.containerProfiles, containerProfileOf(w, c));
    for (const overlay of [w.ugName, w.labelOverlay]) {
      if (!overlay) continue;
      put(profileResources.applicationProfiles, applicationProfileOf(w, overlay));
      put(profileResources.networkNeighborhoods, networkNeighborhoodOf(w, overlay));
    }
  }
  return objects;
}

/**
 * The writes of one round: mostly one container's ContainerProfile (node-agent's learning
 * publishing an update), every 4th a workload's `ug-` AP (a user widening a profile), which
 * must reach all 3 containers of the workload. A different container or workload each time.
 */
function plannedUpdates(fleet: BenchWorkload[]): Array<{ kind: 'cp'; workload: BenchWorkload; container: BenchContainer } | { kind: 'ug-ap'; workload: BenchWorkload }> {
  const containers = fleet.flatMap((w) => w.containers.map((c) => ({ workload: w, container: c })));
  const tuned = fleet.filter((w) => w.ugName);
  return Array.from({ length: UPDATES }, (_, i) => {
    if (i % 4 === 3 && tuned.length > 0) return { kind: 'ug-ap' as const, workload: tuned[(i >> 2) % tuned.length] };
    // 119 is coprime with 300: successive writes land on distinct containers across workloads.
    return { kind: 'cp' as const, ...containers[(i * 119) % containers.length] };
  });
}

// --- worker -------------------------------------------------------------------------------------

/** What the worker measures itself; the orchestrator adds the server-side counts. */
interface WorkerResult {
  populateMs: number;
  /** Write → visible, ms, in write order; null for a write not visible within VISIBILITY_TIMEOUT_MS. */
  latenciesMs: Array<number | null>;
  updateKinds: string[];
  connectionsPeak: number;
  connectionsAtWindowEnd: number;
  http2Connections: number;
  cpuMsInWindow: number;
  rssMiB: number;
}

type ToWorker = { type: 'ack'; of: string };
type FromWorker = { type: 'populated' } | { type: 'window-open' } | { type: 'window-close' } | { type: 'result'; result: WorkerResult };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Sends a message to the orchestrator; resolves once it is handed to the channel. */
function tell(msg: FromWorker): Promise<void> {
  return new Promise((resolve, reject) => process.send!(msg, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve())));
}

/** Sends a message to the orchestrator and waits for its acknowledgement. */
function ask(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: ToWorker) => {
      if (m.type !== 'ack' || m.of !== msg.type) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    process.send!(msg);
  });
}

function hasExec(profile: ContainerProfile | undefined, path: string): boolean {
  return (profile?.spec?.execs ?? []).some((e) => e.path === path);
}

async function worker(variant: Variant, kubeconfigPath: string, roundNo: number): Promise<WorkerResult> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const fleet = buildFleet();
  const containers = fleet.flatMap((w) => w.containers);
  const pods = new Map(fleet.map((w) => [`${w.namespace}/${w.pod.metadata!.name}`, w.pod]));
  const shared = new Map(containers.map((c) => [c.id, c.shared]));

  // The cache's own client; the writes go through a second one, so they neither share its
  // connections nor count in its stats.
  const client = new KubeClient(kc);
  const admin = new KubeClient(kc);

  /**
   * Per container, the writes it has yet to show: the exec path each added, and what to call
   * then. A container may wait for two at once (its CP and its workload's ug- AP).
   */
  const waiters = new Map<string, Set<{ marker: string; visible: () => void }>>();
  const populated = new Set<string>();
  let allPopulated!: () => void;
  const populatedAll = new Promise<void>((resolve) => (allPopulated = resolve));

  const started = performance.now();
  const cache: ContainerProfileCache = new ContainerProfileCache({
    sources: {
      containerProfiles: client.source<ContainerProfile>(profileResources.containerProfiles),
      applicationProfiles: client.source<ApplicationProfile>(profileResources.applicationProfiles),
      networkNeighborhoods: client.source<NetworkNeighborhood>(profileResources.networkNeighborhoods),
    },
    ...variantOptions(variant),
    // node-agent's pod cache and container watcher, both in memory: they cost no request here.
    getPod: (namespace, name) => pods.get(`${namespace}/${name}`),
    getSharedContainerData: (id) => shared.get(id),
    onEntryRebuilt: (id, _entry, reason) => {
      if (reason === 'populated' && !populated.has(id)) {
        populated.add(id);
        if (populated.size === containers.length) allPopulated();
      }
      const pending = waiters.get(id);
      if (!pending) return;
      // What a rule engine would read: the cache's getter, not the entry handed to the hook.
      const profile = cache.getContainerProfile(id);
      for (const waiter of pending) {
        if (!hasExec(profile, waiter.marker)) continue;
        pending.delete(waiter);
        waiter.visible();
      }
      if (pending.size === 0) waiters.delete(id);
    },
  });
  cache.start();
  for (const c of containers) {
    const info: ContainerInfo = { containerID: c.id, containerName: c.name, pid: 10_000 + containers.indexOf(c), namespace: c.namespace, podName: c.podName, podLabels: c.podLabels };
    cache.containerCallback({ type: 'add', container: info });
  }
  const populateTimer = setTimeout(() => {
    console.error(`not populated after ${POPULATE_TIMEOUT_MS} ms:`, JSON.stringify(cache.stats()));
    process.exit(2);
  }, POPULATE_TIMEOUT_MS);
  await populatedAll;
  clearTimeout(populateTimer);
  const populateMs = performance.now() - started;
  await ask({ type: 'populated' });

  let connectionsPeak = client.stats().connections;
  const sampler = setInterval(() => (connectionsPeak = Math.max(connectionsPeak, client.stats().connections)), CONNECTION_SAMPLE_MS);

  // The window opens half a polling period after the start (or a moment after the populate, if
  // later): the first pass comes at 1–1.1 periods, so a window of two periods holds exactly two
  // passes instead of straddling the start or the end of one.
  await sleep(Math.max(SETTLE_MS, started + POLL_INTERVAL_MS / 2 - performance.now()));
  await ask({ type: 'window-open' });
  const cpuBefore = process.cpuUsage();
  const openedAt = performance.now();

  const cpWriter = new ObjectWriter<ContainerProfile>(admin, profileResources.containerProfiles);
  const apWriter = new ObjectWriter<ApplicationProfile>(admin, profileResources.applicationProfiles);
  const plan = plannedUpdates(fleet);
  const latencies: Promise<number | null>[] = [];
  for (const [i, update] of plan.entries()) {
    await sleep(openedAt + ((i + 0.5) * WINDOW_MS) / plan.length - performance.now());
    const marker = `/opt/bench/${variant}-r${roundNo}-u${i}`;
    const targets = update.kind === 'cp' ? [update.container] : update.workload.containers;
    const writtenAt = performance.now();
    const visible = targets.map(
      (c) =>
        new Promise<number | null>((resolve) => {
          const pending = waiters.get(c.id) ?? new Set();
          waiters.set(c.id, pending);
          const waiter = {
            marker,
            visible: () => {
              clearTimeout(timer);
              resolve(performance.now() - writtenAt);
            },
          };
          const timer = setTimeout(() => {
            pending.delete(waiter);
            resolve(null);
          }, VISIBILITY_TIMEOUT_MS);
          pending.add(waiter);
        }),
    );
    const write =
      update.kind === 'cp'
        ? cpWriter.update(update.workload.namespace, update.container.cpName, containerProfileOf(update.workload, update.container, marker))
        : apWriter.update(update.workload.namespace, update.workload.ugName!, applicationProfileOf(update.workload, update.workload.ugName!, marker));
    await write;
    // A write is visible when every container it concerns serves it.
    latencies.push(Promise.all(visible).then((ms) => (ms.includes(null) ? null : Math.max(...(ms as number[])))));
  }
  await sleep(openedAt + WINDOW_MS - performance.now());
  const cpu = process.cpuUsage(cpuBefore);
  const connectionsAtWindowEnd = client.stats().connections;
  await ask({ type: 'window-close' });
  clearInterval(sampler);

  const latenciesMs = await Promise.all(latencies);
  const result: WorkerResult = {
    populateMs,
    latenciesMs,
    updateKinds: plan.map((u) => u.kind),
    connectionsPeak,
    connectionsAtWindowEnd,
    http2Connections: client.stats().http2Connections,
    cpuMsInWindow: (cpu.user + cpu.system) / 1000,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
  await cache.close();
  await Promise.all([client.close(), admin.close()]);
  return result;
}

// --- orchestrator -------------------------------------------------------------------------------

type VerbCounts = { get: number; list: number; watch: number };

interface Sample extends WorkerResult {
  variant: Variant;
  round: number;
  /** Profile reads (get/list/watch) from the worker's start until all containers were populated. */
  populateRequests: VerbCounts;
  /** Profile reads the server answered in the window; the bench's own writes are not counted. */
  windowRequests: VerbCounts;
  windowMs: number;
  /** Watch streams open on the server at the end of the window. */
  openWatches: number;
  /** TCP connections the server had at the end of the window (the writer's included). */
  serverConnections: number;
}

function countReads(server: ApiServer, from: number): VerbCounts {
  const counts: VerbCounts = { get: 0, list: 0, watch: 0 };
  for (let i = from; i < server.requests.length; i++) {
    const r = server.requests[i];
    if (r.group === PROFILE_API_GROUP && (r.verb === 'get' || r.verb === 'list' || r.verb === 'watch')) counts[r.verb]++;
  }
  return counts;
}

async function runWorker(server: ApiServer, kubeconfigPath: string, variant: Variant, roundNo: number): Promise<Sample> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--worker', variant, kubeconfigPath, String(roundNo)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const startIndex = server.requests.length;
  let windowIndex = 0;
  let windowStarted = 0;
  const partial: Partial<Sample> = { variant, round: roundNo };
  let result: WorkerResult | undefined;
  child.on('message', (msg: FromWorker) => {
    switch (msg.type) {
      case 'populated':
        partial.populateRequests = countReads(server, startIndex);
        break;
      case 'window-open':
        windowIndex = server.requests.length;
        windowStarted = performance.now();
        break;
      case 'window-close':
        partial.windowRequests = countReads(server, windowIndex);
        partial.windowMs = performance.now() - windowStarted;
        partial.openWatches = server.openWatches;
        partial.serverConnections = server.connections;
        break;
      case 'result':
        result = msg.result;
        return;
    }
    child.send({ type: 'ack', of: msg.type } satisfies ToWorker);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !result || !partial.windowRequests || !partial.populateRequests) {
    throw new Error(`${variant} worker failed (exit ${code}): ${stderr}`);
  }
  return { ...(partial as Omit<Sample, keyof WorkerResult>), ...result };
}

const seen = (values: Array<number | null>) => values.filter((v): v is number => v !== null);

/** The largest latency of the writes that became visible (the others are counted apart). */
function maxOf(values: Array<number | null>): number {
  const visible = seen(values);
  return visible.length > 0 ? Math.max(...visible) : NaN;
}

/** Nearest-rank percentile of the writes that became visible. */
function percentile(values: Array<number | null>, p: number): number {
  const sorted = seen(values).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const perSecond = (n: number, ms: number) => (n * 1000) / ms;

/** Polling's value over the watch store's: "∞" when the watch store needed none. */
function ratio(polling: number, watch: number): string {
  if (!Number.isFinite(polling) || !Number.isFinite(watch)) return '–';
  if (watch === 0) return polling === 0 ? '–' : '∞';
  return `${round(polling / watch, polling / watch >= 100 ? 0 : 1)}×`;
}

async function main(): Promise<void> {
  const fleet = buildFleet();
  const containerCount = fleet.reduce((n, w) => n + w.containers.length, 0);
  const server = await ApiServer.start({ tls: true, resources: Object.values(profileResources) });
  const dir = await mkdtemp(join(tmpdir(), 'refwatch-bench-profiles-'));
  const samples: Sample[] = [];
  try {
    const kubeconfigPath = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfigPath);
    const objects = seed(server, fleet);
    console.error(
      `${containerCount} containers in ${fleet.length} workloads, ${objects} profile objects ` +
        `(${fleet.filter((w) => w.ugName).length} workloads with ug- overlays, ${fleet.filter((w) => w.labelOverlay).length} with a label overlay); ` +
        `window ${WINDOW_MS / 1000} s, ${UPDATES} writes, ${ROUNDS} round(s)`,
    );
    for (let r = 0; r < ROUNDS; r++) {
      for (const variant of VARIANTS) {
        const s = await runWorker(server, kubeconfigPath, variant, r);
        samples.push(s);
        const reads = s.windowRequests.get + s.windowRequests.list + s.windowRequests.watch;
        console.error(
          `round ${r + 1}/${ROUNDS} ${LABELS[variant]}: populated in ${Math.round(s.populateMs)} ms, ` +
            `${round(perSecond(reads, s.windowMs), 2)} req/s (${JSON.stringify(s.windowRequests)}), ` +
            `visible p50 ${round(percentile(s.latenciesMs, 50), 1)} ms max ${round(maxOf(s.latenciesMs), 1)} ms, ` +
            `${s.connectionsPeak} connection(s), ${s.openWatches} watches`,
        );
      }
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const med = (variant: Variant, f: (s: Sample) => number) => median(samples.filter((s) => s.variant === variant).map(f));
  const reqRate = (verb?: keyof VerbCounts) => (s: Sample) =>
    perSecond(verb ? s.windowRequests[verb] : s.windowRequests.get + s.windowRequests.list + s.windowRequests.watch, s.windowMs);
  const populateReads = (s: Sample) => s.populateRequests.get + s.populateRequests.list + s.populateRequests.watch;
  const notVisible = (s: Sample) => s.latenciesMs.filter((v) => v === null).length;
  const metrics: Array<[string, (s: Sample) => number, number]> = [
    ['API requests/s, steady state', reqRate(), 2],
    ['  get/s', reqRate('get'), 2],
    ['  list/s', reqRate('list'), 2],
    ['  watch/s', reqRate('watch'), 2],
    ['change visible after, p50 (ms)', (s) => percentile(s.latenciesMs, 50), 1],
    ['change visible after, max (ms)', (s) => maxOf(s.latenciesMs), 1],
    ['changes never visible', notVisible, 0],
    [`time until all ${containerCount} populated (ms)`, (s) => s.populateMs, 0],
    ['API requests to populate', populateReads, 0],
    ['TCP connections (peak, cache client)', (s) => s.connectionsPeak, 0],
    ['watch streams open', (s) => s.openWatches, 0],
    ['worker CPU in window (ms)', (s) => s.cpuMsInWindow, 0],
    ['worker RSS at the end (MiB)', (s) => s.rssMiB, 0],
  ];
  const rows = metrics.map(([metric, f, digits]) => {
    const watch = med('watch', f);
    const polling = med('polling', f);
    return { metric, [LABELS.watch]: round(watch, digits), [LABELS.polling]: round(polling, digits), 'polling / watch': ratio(polling, watch) };
  });
  const interval = POLL_INTERVAL_MS === UPSTREAM_POLL_INTERVAL_MS ? 'every 30 s as upstream' : `every ${POLL_INTERVAL_MS / 1000} s (shortened from upstream's 30 s)`;
  report(
    'profiles',
    `${containerCount} containers' profiles on the embedded API server: watch stores vs polling ${interval}; ` +
      `${WINDOW_MS / 1000} s steady-state window, ${UPDATES} profile writes per round, medians of ${ROUNDS} alternating round(s)`,
    rows,
    {
      config: { containers: containerCount, workloads: fleet.length, windowMs: WINDOW_MS, updates: UPDATES, pollIntervalMs: POLL_INTERVAL_MS, rounds: ROUNDS, quick: QUICK },
      samples,
    },
  );
}

if (process.argv[2] === '--worker') {
  worker(process.argv[3] as Variant, process.argv[4], Number(process.argv[5])).then(
    async (result) => {
      await tell({ type: 'result', result });
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
