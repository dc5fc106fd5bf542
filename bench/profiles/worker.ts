/**
 * The profile-cache benchmark's worker: one variant's ContainerProfileCache in a fresh process,
 * fed the fleet's 300 containers, measured from inside (populate time, write-to-visible
 * latencies, connections, CPU, RSS). It takes three steps together with the orchestrator
 * (populated, window open, window closed), so the server-side request counts cover exactly the
 * worker's phases: at each it tells the orchestrator and waits for its `continue`.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { ContainerProfileCache } from '../../lib/profiles/container-profile-cache.js';
import type { ContainerInfo } from '../../lib/profiles/container-events.js';
import { profileResources } from '../../lib/profiles/resources.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from '../../lib/profiles/types.js';
import type { WorkerChannel } from '../worker-channel.js';
import type { ResultMessage } from '../worker-process.js';
import { CONNECTION_SAMPLE_MS, POLL_INTERVAL_MS, POPULATE_TIMEOUT_MS, SETTLE_MS, VISIBILITY_TIMEOUT_MS, WINDOW_MS, variantOptions, type Variant } from './config.js';
import { applicationProfileOf, buildFleet, containerProfileOf, plannedUpdates } from './fleet.js';

/** What the worker measures itself; the orchestrator adds the server-side counts. */
export interface WorkerResult {
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

/** The steps the worker takes together with the orchestrator, in this order. */
export type WorkerStep = { type: 'populated' } | { type: 'window-open' } | { type: 'window-close' };
/** The orchestrator's answer to each step, once it has read the server's counters. */
export type Continue = { op: 'continue' };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function hasExec(profile: ContainerProfile | undefined, path: string): boolean {
  return (profile?.spec?.execs ?? []).some((e) => e.path === path);
}

/** The channel to the orchestrator: the steps and the result out, a `continue` after each step in. */
export type OrchestratorChannel = WorkerChannel<Continue, WorkerStep | ResultMessage<WorkerResult>>;

/** The worker's command line, as main.ts starts it. */
export function workerArgs(variant: Variant, kubeconfigPath: string, roundNo: number): string[] {
  return [variant, kubeconfigPath, String(roundNo)];
}

/** Runs one variant for one round (arguments from workerArgs) and returns what it measured. */
export async function worker(args: string[], channel: OrchestratorChannel): Promise<WorkerResult> {
  const [variant, kubeconfigPath, round] = args as [Variant, string, string];
  const roundNo = Number(round);
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
    const info: ContainerInfo = {
      containerID: c.id,
      containerName: c.name,
      pid: 10_000 + containers.indexOf(c),
      namespace: c.namespace,
      podName: c.podName,
      podLabels: c.podLabels,
    };
    cache.containerCallback({ type: 'add', container: info });
  }
  const populateTimer = setTimeout(() => {
    console.error(`not populated after ${POPULATE_TIMEOUT_MS} ms:`, JSON.stringify(cache.stats()));
    process.exit(2);
  }, POPULATE_TIMEOUT_MS);
  await populatedAll;
  clearTimeout(populateTimer);
  const populateMs = performance.now() - started;
  await channel.ask({ type: 'populated' }, 'continue');

  let connectionsPeak = client.stats().connections;
  const sampler = setInterval(() => (connectionsPeak = Math.max(connectionsPeak, client.stats().connections)), CONNECTION_SAMPLE_MS);

  // The window opens half a polling period after the start (or a moment after the populate, if
  // later): the first pass comes at 1–1.1 periods, so a window of two periods holds exactly two
  // passes instead of straddling the start or the end of one.
  await sleep(Math.max(SETTLE_MS, started + POLL_INTERVAL_MS / 2 - performance.now()));
  await channel.ask({ type: 'window-open' }, 'continue');
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
  await channel.ask({ type: 'window-close' }, 'continue');
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
