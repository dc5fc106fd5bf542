/**
 * ContainerProfileCache keeps, for every running container on the node, the ContainerProfile that
 * node-agent's rules check its behaviour against: the learned profile of the container, merged
 * with any user-authored overlays (a port of node-agent v0.3.108 `containerprofilecache`).
 *
 * It reads every profile object through refwatch stores instead of GETting it per container per
 * tick. A container's add registers references, keyed by its container ID, on exactly the objects
 * it needs (its ContainerProfile, the `ug-<workload>` AP and NN, and the label-referenced AP and
 * NN); its remove deletes them. With watch stores each change to one of those objects rebuilds
 * the entries that depend on it at once; the reconciler's tick remains as the safety net that
 * evicts containers whose remove event was missed and retries those still waiting for a profile.
 * With TTL stores the tick also refreshes every entry, as upstream does.
 *
 * Differences from upstream are listed, with reasons, in docs/profile-cache-differences.md.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import { isObservableStore, type Store } from '../manager/interfaces.js';
import { Backoff } from '../util/backoff.js';
import { AbortError, deadline, raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import type { CallStackSearchTree } from './call-stack-tree.js';
import type { ContainerEvent, ContainerInfo, SharedContainerData } from './container-events.js';
import { PROFILE_ROLES, dependenciesOf, gatherInputs, hasAnyInput, readDependencies, storeFor, type Dependencies, type GatheredInputs, type ProfileRole } from './dependencies.js';
import { buildEntry, builtFrom, type ContainerProfileEntry, type EntryIdentity } from './entry.js';
import { HOST_NAMESPACE, ignoreContainer, isHostContainer, type IgnoreRules } from './ignore.js';
import { noopContainerProfileCacheMetrics, type CacheEntriesKind, type ContainerProfileCacheMetrics } from './metrics.js';
import { USER_DEFINED_PROFILE_LABEL, containerProfileName, workloadSlug } from './names.js';
import { OperationQueue, type OperationLane } from './operation-queue.js';
import { OverlayWarnings } from './overlay-warnings.js';
import { isContainerTerminated } from './pod-status.js';
import { COMPLETION_ANNOTATION, ProfileCompletion, missingProfileState, type ProfileState } from './profile-state.js';
import { createProfileStores, type CreateProfileStoresOptions, type ProfileSources, type ProfileStores, type ProfileStrategy } from './profile-stores.js';
import { DEFAULT_RECONCILE_INTERVAL, ReconcilerLoop } from './reconciler.js';
import type { ContainerProfile } from './types.js';

type MaybePromise<T> = T | Promise<T>;

/** Upstream's storage RPC budget: one slow object must not stall a pass over hundreds of entries. */
export const DEFAULT_RPC_BUDGET = 5_000;
/** Upstream's hard-coded cap on one add, most of it spent waiting for the container watcher. */
export const DEFAULT_ADD_TIMEOUT = 10 * 60_000;

/**
 * Options. Exactly one of `stores` and `sources` must be given. The ignore rules (`namespaceName`,
 * `includeNamespaces`, `excludeNamespaces`, `excludeLabels`, `multiply`) are documented on
 * IgnoreRules; they apply to add events only.
 */
export interface ContainerProfileCacheOptions extends IgnoreRules {
  /**
   * The stores to read profile objects through, referenced by container ID. When all three have
   * `changes()` (WatchObjectStore does) the cache is event-driven; otherwise the reconciler
   * refreshes every entry on each tick. The cache releases its references on close() but does
   * not close these stores: their owner does. Excludes `sources`.
   */
  stores?: ProfileStores;
  /**
   * Sources to build the stores from, following `strategy`; the cache owns and closes those
   * stores. Excludes `stores`.
   */
  sources?: ProfileSources;
  /** With `sources`: `watch` (default) or `ttl`. Ignored with `stores`. */
  strategy?: ProfileStrategy;
  /**
   * With `sources` and strategy `ttl`: how long a fetched object is reused, in ms. Default half
   * the reconcile interval, so within one tick every container of a workload shares one GET per
   * object and the next tick fetches again. 0 fetches on every read, as upstream does (one GET
   * per object per container per tick). NotFound is never reused, whatever the TTL.
   */
  ttl?: number;
  /** With `sources` and strategy `watch`: tuning passed to each WatchObjectStore (sync timeout, backoff...). */
  watch?: CreateProfileStoresOptions['watch'];
  /**
   * The pod of a container, from the caller's pod cache; undefined when not (yet) known. Used to
   * warn about overlays that miss pod containers, to record the pod UID, and by the reconciler to
   * evict containers whose status is Terminated. A pod that cannot be found never causes an
   * eviction: pod caches lag container events. May be async; errors count as "not found".
   */
  getPod: (namespace: string, name: string) => MaybePromise<V1Pod | undefined>;
  /**
   * The container watcher's data for a container (its instance ID, wlid, pre-running flag).
   * An add waits for it, retrying with upstream's backoff (500 ms growing ×1.5 to 60 s, ±50 %
   * jitter) for up to `addTimeout`. May be async; errors count as "not yet".
   */
  getSharedContainerData: (containerID: string) => MaybePromise<SharedContainerData | undefined>;
  /**
   * ms between reconciler passes, stretched at random by up to 10 % each time. Default 30 000
   * (upstream's code default; node-agent's shipped config sets 1 minute). Values ≤ 0 mean the
   * default. With watch stores a pass only evicts and retries pending containers; freshness
   * comes from events.
   */
  reconcileInterval?: number;
  /** ms one object read may take before it counts as a transient failure. Default 5 000; ≤ 0 means the default. */
  rpcBudget?: number;
  /**
   * ms an add may take, waiting for shared data included. Default 10 minutes, as upstream. An
   * add that times out before the shared data arrived forgets the container (a later remove is
   * a no-op); one that times out while reading leaves it pending.
   */
  addTimeout?: number;
  /** Drives the tick, the backoff, read budgets and add timeouts. Default: the wall clock. */
  clock?: Clock;
  /**
   * Where the cache logs, and the stores it builds from `sources`: at debug the containers added
   * and the objects not available, at warn skipped events, add timeouts and deprecated overlays,
   * at error an operation, a change stream or an `onEntryRebuilt` hook that failed. Any
   * LoggerLike (pino, bunyan, the console, refwatch's shape); default: none.
   */
  logger?: LoggerLike;
  /** Default: a no-op. See metrics.ts for the Prometheus names. */
  metrics?: ContainerProfileCacheMetrics;
  /** Randomness in [0, 1) for the tick jitter and the shared-data backoff; injectable for tests. */
  random?: () => number;
  /**
   * Called whenever an entry is stored: `populated` when a container gets its first entry (at
   * add, or when a pending one is promoted), `rebuilt` when a dependency changed. Not called when
   * the fast-skip finds nothing changed. Benchmarks time a change's propagation with it: from the
   * write to the call for the affected containers. Errors it throws are logged and ignored.
   */
  onEntryRebuilt?: (containerID: string, entry: ContainerProfileEntry, reason: 'populated' | 'rebuilt') => void;
}

/** Counters for dashboards, tests and leak checks. */
export interface ContainerProfileCacheStats {
  /** Containers known: adding, pending or cached. */
  containers: number;
  /** Containers with an entry. */
  entries: number;
  /** Containers whose objects are referenced but none exists yet (or only a partial profile). */
  pending: number;
  /** Containers still waiting for shared container data. */
  adding: number;
  /** References held on store objects (one per dependency per container). */
  references: number;
  /** `changes()` subscriptions open (0 when not event-driven). */
  subscriptions: number;
  /** Whether changes reach entries as events (all stores observable) rather than by periodic refresh. */
  eventDriven: boolean;
}

/** Everything the cache knows about one container, from its add until its remove or eviction. */
interface ContainerRecord {
  readonly id: string;
  readonly container: ContainerInfo;
  /** Aborted when the container is removed or evicted, or the cache closes: ends its work at once. */
  readonly controller: AbortController;
  /** The container's operations (add, retries, rebuilds), one after another. */
  readonly operations: OperationLane;
  /** Set once the shared data arrived. */
  shared?: SharedContainerData;
  identity?: EntryIdentity;
  deps?: Dependencies;
  readonly references: { store: Store<unknown>; namespace: string; name: string }[];
  readonly subscriptions: Subscription[];
  /** A dependency changed and a rebuild is queued on `operations`; further changes join it. */
  rebuildQueued: boolean;
}

/**
 * For every running container of the node, the ContainerProfile node-agent's rules check its behaviour
 * against: the learned profile merged with the user-authored overlays (a port of node-agent v0.3.108
 * `containerprofilecache`). Profile objects are read through refwatch stores, referenced by container
 * ID: with watch stores a change to an object rebuilds the entries that depend on it at once, and the
 * reconciler (start()) evicts containers whose remove event was missed and retries pending ones; with
 * TTL stores its tick also refreshes every entry. Feed it container events with containerCallback();
 * read with getContainerProfile(). Differences from upstream: docs/profile-cache-differences.md.
 */
export class ContainerProfileCache implements AsyncCloseable {
  /** The stores every profile object is read through (for `inspect()`, `stats()` and leak checks). */
  readonly stores: ProfileStores;
  private readonly ownedStores: { close(): Promise<void> } | undefined;
  private readonly eventDriven: boolean;
  private readonly rules: IgnoreRules;
  private readonly getPod: ContainerProfileCacheOptions['getPod'];
  private readonly getSharedContainerData: ContainerProfileCacheOptions['getSharedContainerData'];
  private readonly rpcBudget: number;
  private readonly addTimeout: number;
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly metrics: ContainerProfileCacheMetrics;
  private readonly random: () => number;
  private readonly onEntryRebuilt: ContainerProfileCacheOptions['onEntryRebuilt'];
  private readonly loop: ReconcilerLoop;

  private readonly containers = new Map<string, ContainerRecord>();
  private readonly entries = new Map<string, ContainerProfileEntry>();
  private readonly pending = new Map<string, ContainerRecord>();
  private readonly queue: OperationQueue;
  private readonly overlayWarnings: OverlayWarnings;
  private readonly closing = new AbortController();

  /**
   * Builds the cache; nothing runs until the first container event (or start() for the reconciler).
   * With `sources` it builds and owns the three stores.
   * @throws TypeError unless exactly one of `stores` and `sources` is given.
   */
  constructor(opts: ContainerProfileCacheOptions) {
    if (!opts.stores === !opts.sources) throw new TypeError('ContainerProfileCache: give exactly one of `stores` and `sources`');
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.metrics = opts.metrics ?? noopContainerProfileCacheMetrics;
    this.random = opts.random ?? Math.random;
    this.getPod = opts.getPod;
    this.getSharedContainerData = opts.getSharedContainerData;
    this.onEntryRebuilt = opts.onEntryRebuilt;
    this.queue = new OperationQueue(this.logger);
    this.overlayWarnings = new OverlayWarnings(this.metrics, this.logger);
    this.rules = {
      namespaceName: opts.namespaceName,
      includeNamespaces: opts.includeNamespaces,
      excludeNamespaces: opts.excludeNamespaces,
      excludeLabels: opts.excludeLabels,
      multiply: opts.multiply,
    };
    const interval = opts.reconcileInterval && opts.reconcileInterval > 0 ? opts.reconcileInterval : DEFAULT_RECONCILE_INTERVAL;
    this.rpcBudget = opts.rpcBudget && opts.rpcBudget > 0 ? opts.rpcBudget : DEFAULT_RPC_BUDGET;
    this.addTimeout = opts.addTimeout ?? DEFAULT_ADD_TIMEOUT;

    if (opts.stores) {
      this.stores = opts.stores;
    } else {
      const built = createProfileStores(opts.sources!, {
        strategy: opts.strategy ?? 'watch',
        clock: this.clock,
        logger: this.logger,
        ttl: opts.ttl ?? interval / 2,
        watch: opts.watch,
      });
      this.stores = built;
      this.ownedStores = built;
    }
    this.eventDriven = [this.stores.containerProfiles, this.stores.applicationProfiles, this.stores.networkNeighborhoods].every((s) => isObservableStore(s));

    this.loop = new ReconcilerLoop({
      clock: this.clock,
      interval,
      random: this.random,
      pass: (signal) => this.reconcilePass(signal),
      refresh: (signal) => this.refreshAllEntries(signal),
      refreshOnTick: !this.eventDriven,
      onDuration: (phase, ms) => this.metrics.reportContainerProfileReconcilerDuration(phase, ms),
      logger: this.logger,
    });
  }

  // --- container events ---------------------------------------------------------------------

  /**
   * Feeds one container event. Returns at once: the work runs in the background, one operation
   * at a time per container, in the order the events arrived. An add is dropped when the ignore
   * rules match (never for host containers, which are filed under namespace "host"); a second add
   * for a container already known is ignored. A remove is never filtered, cancels an add still in
   * progress, and releases the container's references at once. Never throws.
   */
  containerCallback(event: ContainerEvent): void {
    const container = event?.container;
    if (!container || typeof container.containerID !== 'string' || container.containerID === '') {
      this.logger.warn('profile cache: ignoring a container event without a container ID', { type: String(event?.type) });
      return;
    }
    switch (event.type) {
      case 'add': {
        if (this.closing.signal.aborted || this.containers.has(container.containerID)) return;
        const host = isHostContainer(container);
        const namespace = host ? HOST_NAMESPACE : (container.namespace ?? '');
        if (!host && ignoreContainer(this.rules, namespace, container.podName ?? '', container.podLabels ?? {})) return;
        this.addContainer(host ? { ...container, namespace } : container);
        return;
      }
      case 'remove':
        this.removeContainer(container.containerID);
        return;
      default:
        return;
    }
  }

  // --- getters -------------------------------------------------------------------------------

  /**
   * The profile served for the container, or undefined when it has no entry (unknown, still
   * adding, or pending). Shared between containers and with the store: never modify it.
   * Reports a cache hit or miss.
   */
  getContainerProfile(containerID: string): ContainerProfile | undefined {
    const entry = this.entries.get(containerID);
    this.metrics.reportContainerProfileCacheHit(entry !== undefined);
    return entry?.profile;
  }

  /** The profile's completion, status and name, or a state carrying an error when there is no entry. */
  getContainerProfileState(containerID: string): ProfileState {
    return this.entries.get(containerID)?.state ?? missingProfileState(containerID);
  }

  /**
   * The call-stack index of the container's served profile, overlay stacks included; undefined when it
   * has no entry.
   */
  getCallStackSearchTree(containerID: string): CallStackSearchTree | undefined {
    return this.entries.get(containerID)?.callStackTree;
  }

  /** The whole entry (resourceVersions it was built from, overlay refs, sharing), for inspection. */
  getEntry(containerID: string): ContainerProfileEntry | undefined {
    return this.entries.get(containerID);
  }

  /**
   * Counters of containers, entries, references and subscriptions; every count is 0 after close() (a
   * leak check).
   */
  stats(): ContainerProfileCacheStats {
    let references = 0;
    let subscriptions = 0;
    let adding = 0;
    for (const rec of this.containers.values()) {
      references += rec.references.length;
      subscriptions += rec.subscriptions.length;
      if (!rec.shared) adding++;
    }
    return { containers: this.containers.size, entries: this.entries.size, pending: this.pending.size, adding, references, subscriptions, eventDriven: this.eventDriven };
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /**
   * Starts the reconciler: a pass every `reconcileInterval` (with jitter) until `signal` aborts or
   * close(). Events need no start: adds, removes and change-driven rebuilds work without it.
   */
  start(signal: AbortSignal = new AbortController().signal): void {
    if (this.closing.signal.aborted) return;
    this.loop.start(signal);
  }

  /**
   * Runs one reconciler pass now (evict terminated containers, retry pending ones; with TTL
   * stores, then start a refresh in the background), joining one already running.
   */
  reconcileNow(signal?: AbortSignal): Promise<void> {
    return this.loop.runPass(signal);
  }

  /**
   * Re-reads every entry's objects and rebuilds those whose resourceVersions changed, joining a
   * refresh already running. The periodic refresh of TTL stores; with watch stores it costs no
   * request and catches nothing events have not, but it is there for a manual resync.
   */
  refreshAll(signal?: AbortSignal): Promise<void> {
    return this.loop.runRefresh(signal);
  }

  /**
   * Resolves once no container operation and no reconciler work is queued or running: every
   * event fed so far has taken effect. Adds sleeping in the backoff for shared container data do
   * not count (they may sleep for minutes); their lookups do. Rejects with an AbortError as soon
   * as `signal` aborts; the work it was waiting for goes on.
   */
  async idle(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new AbortError();
      const reconciler = this.loop.inFlight();
      if (reconciler.length > 0) {
        const all = Promise.all(reconciler);
        await (signal ? raceAbort(all, signal) : all);
      } else if (!this.queue.idle) await this.queue.whenIdle(signal);
      else return;
    }
  }

  /**
   * Stops the reconciler, ends every container's work, releases every reference and
   * subscription, forgets every entry, and closes the stores the cache built (not injected
   * ones). Afterwards events are ignored and getters answer misses. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.closing.abort();
      for (const rec of [...this.containers.values()]) this.release(rec);
      this.reportEntries('container', 'pending');
    }
    await this.loop.stop();
    await this.queue.drain();
    await this.ownedStores?.close();
  }

  /** `await using` support: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- add and remove -------------------------------------------------------------------------

  private addContainer(container: ContainerInfo): void {
    const rec: ContainerRecord = {
      id: container.containerID,
      container,
      controller: new AbortController(),
      operations: this.queue.lane(container.containerID, () => this.isLive(rec)),
      references: [],
      subscriptions: [],
      rebuildQueued: false,
    };
    this.containers.set(rec.id, rec);
    void rec.operations.enqueue(() => this.addFlow(rec));
  }

  private removeContainer(containerID: string): void {
    const rec = this.containers.get(containerID);
    if (!rec) return;
    this.release(rec);
    this.reportEntries('container', 'pending');
  }

  /**
   * upstream addContainer: wait for shared data, derive names, reference, then populate or go
   * pending, all within the add timeout.
   */
  private async addFlow(rec: ContainerRecord): Promise<void> {
    const bounded = deadline(this.clock, this.addTimeout, rec.controller.signal, 'adding a container to the container-profile cache');
    const signal = bounded.signal;
    try {
      const shared = await this.waitForSharedData(rec.id, signal);
      if (!shared) {
        if (bounded.reason === 'timeout' && this.isLive(rec)) {
          this.logger.warn('timeout while adding container to the container-profile cache', this.fieldsOf(rec));
          this.release(rec);
        }
        return;
      }
      let cpName: string;
      let workloadName: string;
      try {
        cpName = containerProfileName(shared.instanceID);
        workloadName = workloadSlug(shared.instanceID);
      } catch (err) {
        this.logger.warn('failed to compute container profile slug', { ...this.fieldsOf(rec), error: errorMessage(err) });
        this.release(rec);
        return;
      }
      if (!this.isLive(rec)) return;
      this.track(rec, shared, cpName, workloadName);
      const populated = await this.tryPopulate(rec, signal);
      if (!populated && this.isLive(rec)) {
        this.pending.set(rec.id, rec);
        this.reportEntries('pending');
      }
      if (bounded.reason === 'timeout') this.logger.warn('timeout while adding container to the container-profile cache', this.fieldsOf(rec));
    } finally {
      bounded.end();
    }
  }

  private fieldsOf(rec: ContainerRecord) {
    const c = rec.container;
    return { containerID: rec.id, containerName: c.containerName, podName: c.podName, namespace: c.namespace };
  }

  /** Polls the shared-data lookup with upstream's backoff until it answers or `signal` aborts. */
  private async waitForSharedData(containerID: string, signal: AbortSignal): Promise<SharedContainerData | undefined> {
    // cenkalti/backoff defaults: 500 ms ×1.5 up to 60 s, each delay drawn from [d/2, 3d/2).
    // Backoff draws from [b, b × (1 + jitter)), so b = d/2 with jitter 2 gives the same range.
    const backoff = new Backoff(this.clock, { initial: 250, factor: 1.5, jitter: 2, cap: 30_000, resetAfter: Infinity, random: this.random });
    for (;;) {
      if (signal.aborted) return undefined;
      try {
        const data = await this.getSharedContainerData(containerID);
        if (data && typeof data === 'object' && data.instanceID && typeof data.instanceID === 'object') return data;
      } catch (err) {
        this.logger.debug('shared container data lookup failed', { containerID, error: errorMessage(err) });
      }
      // Parked: an add waiting here does not hold idle() up.
      const woke = await this.queue.parked(() => this.clock.sleep(backoff.next(), signal));
      if (!woke) return undefined;
    }
  }

  /**
   * Records the container's names and registers its references (and, when event-driven, its
   * subscriptions) on the five objects it may depend on. The overlay label is read once, here.
   */
  private track(rec: ContainerRecord, shared: SharedContainerData, cpName: string, workloadName: string): void {
    const namespace = rec.container.namespace;
    const overlayName = rec.container.podLabels?.[USER_DEFINED_PROFILE_LABEL] ?? '';
    const deps = dependenciesOf({ namespace, cpName, workloadName, overlayName });
    rec.shared = shared;
    rec.deps = deps;
    rec.identity = {
      containerName: rec.container.containerName,
      podName: rec.container.podName,
      namespace,
      workloadID: `${shared.wlid}/${shared.instanceID.templateHash ?? ''}`,
      cpName,
      workloadName,
      userAPRef: deps.userAP,
      userNNRef: deps.userNN,
      podUID: '',
    };
    for (const role of PROFILE_ROLES) {
      const ref = deps[role];
      if (!ref) continue;
      const store = storeFor(this.stores, role);
      store.addReference(ref.namespace, ref.name, rec.id);
      rec.references.push({ store, namespace: ref.namespace, name: ref.name });
    }
    if (!this.eventDriven) return;
    for (const { store, namespace: ns, name } of rec.references) {
      if (!isObservableStore(store)) continue;
      rec.subscriptions.push(
        store.changes(ns, name).subscribe({
          next: () => this.onDependencyChanged(rec),
          error: (err: unknown) => this.logger.error('profile object change stream failed', { containerID: rec.id, namespace: ns, name, error: errorMessage(err) }),
        }),
      );
    }
  }

  /**
   * Forgets the container entirely: entry, pending state, references, subscriptions, and (by
   * aborting its signal) work in flight. Only the current record of an ID owns its entry.
   */
  private release(rec: ContainerRecord): void {
    if (this.containers.get(rec.id) === rec) {
      this.containers.delete(rec.id);
      this.entries.delete(rec.id);
      this.pending.delete(rec.id);
    }
    rec.controller.abort();
    for (const sub of rec.subscriptions.splice(0)) sub.unsubscribe();
    for (const ref of rec.references.splice(0)) ref.store.deleteReference(ref.namespace, ref.name, rec.id);
  }

  /** True while the record is the cache's current one for its container and has not been released. */
  private isLive(rec: ContainerRecord): boolean {
    return this.containers.get(rec.id) === rec && !rec.controller.signal.aborted;
  }

  // --- building entries ---------------------------------------------------------------------

  /**
   * upstream tryPopulateEntry: reads the container's objects and stores an entry; false when
   * there is nothing to serve (the caller keeps or puts the container in pending). A `partial`
   * learned profile counts as absent unless the container was already running when the agent
   * started.
   */
  private async tryPopulate(rec: ContainerRecord, signal: AbortSignal): Promise<boolean> {
    const { inputs } = await this.readInputs(rec, signal);
    if (!this.isLive(rec)) return false;
    if (!rec.shared!.preRunningContainer && inputs.cp?.metadata?.annotations?.[COMPLETION_ANNOTATION] === ProfileCompletion.Partial) {
      inputs.cp = undefined;
    }
    if (!hasAnyInput(inputs)) return false;
    const pod = await this.lookupPod(rec.container.namespace, rec.container.podName);
    if (!this.isLive(rec)) return false;
    const entry = buildEntry(rec.identity!, inputs, pod, (pass) => this.overlayWarnings.report(pass));
    if (!entry) return false;
    this.install(rec, entry, 'populated');
    return true;
  }

  /**
   * upstream refreshOneEntry: re-reads the entry's objects and rebuilds it unless every
   * resourceVersion is unchanged. A transient failure keeps the entry as it is when it was built
   * from that object; NotFound drops the object. When nothing at all is left the container
   * goes back to pending instead of serving an empty profile.
   */
  private async refreshOne(rec: ContainerRecord, entry: ContainerProfileEntry, signal: AbortSignal): Promise<void> {
    const { inputs, failed } = await this.readInputs(rec, signal);
    if (!this.isLive(rec) || this.entries.get(rec.id) !== entry) return;
    if (failed.some(({ role }) => entry.resourceVersions[role] !== '')) return;
    if (builtFrom(entry, inputs)) return;
    const pod = await this.lookupPod(entry.namespace, entry.podName);
    if (!this.isLive(rec) || this.entries.get(rec.id) !== entry) return;
    const next = buildEntry({ ...rec.identity!, podUID: entry.podUID }, inputs, pod, (pass) => this.overlayWarnings.report(pass));
    if (next) return this.install(rec, next, 'rebuilt');
    this.entries.delete(rec.id);
    this.pending.set(rec.id, rec);
    this.reportEntries('container', 'pending');
    this.logger.debug('every profile object of the container is gone; it is pending again', { containerID: rec.id });
  }

  private install(rec: ContainerRecord, entry: ContainerProfileEntry, reason: 'populated' | 'rebuilt'): void {
    this.entries.set(rec.id, entry);
    if (this.pending.get(rec.id) === rec) this.pending.delete(rec.id);
    if (reason === 'populated') {
      this.reportEntries('container', 'pending');
      this.logger.debug('container added to the container-profile cache', { containerID: rec.id, cpName: entry.cpName, shared: entry.shared });
    }
    try {
      this.onEntryRebuilt?.(rec.id, entry, reason);
    } catch (err) {
      this.logger.error('onEntryRebuilt threw', { containerID: rec.id, error: errorMessage(err) });
    }
  }

  /**
   * Reads the container's dependencies concurrently, each within the RPC budget, and logs the
   * reads that failed while the container is still there (a removal aborts its reads).
   */
  private async readInputs(rec: ContainerRecord, signal: AbortSignal): Promise<GatheredInputs> {
    const gathered = gatherInputs(await readDependencies(this.stores, rec.deps!, { clock: this.clock, budget: this.rpcBudget, signal }));
    if (this.isLive(rec)) for (const { role, error } of gathered.failed) this.logReadFailure(rec, role, error);
    return gathered;
  }

  private async lookupPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      const pod = await this.getPod(namespace, name);
      return pod && typeof pod === 'object' ? pod : undefined;
    } catch (err) {
      this.logger.debug('pod lookup failed', { namespace, name, error: errorMessage(err) });
      return undefined;
    }
  }

  private logReadFailure(rec: ContainerRecord, role: ProfileRole, error: unknown): void {
    const ref = rec.deps?.[role];
    this.logger.debug('profile object not available', { containerID: rec.id, role, namespace: ref?.namespace, name: ref?.name, error: errorMessage(error) });
  }

  // --- events ------------------------------------------------------------------------------

  /** A dependency changed: rebuild (or, if pending, retry) the container once its queue is free. */
  private onDependencyChanged(rec: ContainerRecord): void {
    if (rec.rebuildQueued || !this.isLive(rec)) return;
    rec.rebuildQueued = true;
    void rec.operations.enqueue(async () => {
      rec.rebuildQueued = false;
      const signal = rec.controller.signal;
      if (this.pending.get(rec.id) === rec) {
        await this.tryPopulate(rec, signal);
        return;
      }
      const entry = this.entries.get(rec.id);
      if (entry) await this.refreshOne(rec, entry, signal);
    });
  }

  // --- reconciler --------------------------------------------------------------------------

  private async reconcilePass(signal: AbortSignal): Promise<void> {
    const entriesBefore = this.entries.size;
    const pendingBefore = this.pending.size;
    await this.evictTerminated(signal);
    await this.retryPending(signal);
    if (this.entries.size !== entriesBefore || this.pending.size !== pendingBefore) {
      this.logger.debug('container-profile cache reconciler pass', {
        entriesBefore,
        entriesAfter: this.entries.size,
        pendingBefore,
        pendingAfter: this.pending.size,
      });
    }
  }

  /**
   * upstream reconcileOnce: evicts entries whose pod shows the container Terminated (or reaped).
   * An entry whose pod is not found is kept, and pending containers are never evicted here: pod
   * caches lag container events by tens of seconds, and the remove event cleans those up.
   */
  private async evictTerminated(signal: AbortSignal): Promise<void> {
    const evict: ContainerRecord[] = [];
    for (const [id, entry] of [...this.entries]) {
      if (signal.aborted) break;
      const pod = await this.lookupPod(entry.namespace, entry.podName);
      if (!pod || !isContainerTerminated(pod, entry, id)) continue;
      const rec = this.containers.get(id);
      if (rec) evict.push(rec);
    }
    for (const rec of evict) {
      if (!this.isLive(rec)) continue;
      this.release(rec);
      this.metrics.reportContainerProfileReconcilerEviction('pod_stopped');
    }
    this.reportEntries('total', 'pending');
  }

  /** upstream retryPendingEntries: the full populate again, partial gate included. */
  private async retryPending(signal: AbortSignal): Promise<void> {
    for (const rec of [...this.pending.values()]) {
      if (signal.aborted) return;
      await rec.operations.enqueue(async () => {
        if (this.pending.get(rec.id) === rec) await this.tryPopulate(rec, AbortSignal.any([rec.controller.signal, signal]));
      });
    }
  }

  /** upstream refreshAllEntries: every entry, one at a time, stopping when `signal` aborts. */
  private async refreshAllEntries(signal: AbortSignal): Promise<void> {
    for (const id of [...this.entries.keys()]) {
      if (signal.aborted) return;
      const rec = this.containers.get(id);
      if (!rec) continue;
      await rec.operations.enqueue(async () => {
        const entry = this.entries.get(id);
        if (entry) await this.refreshOne(rec, entry, AbortSignal.any([rec.controller.signal, signal]));
      });
    }
  }

  // --- metrics -----------------------------------------------------------------------------------

  private reportEntries(...kinds: CacheEntriesKind[]): void {
    for (const kind of kinds) {
      const count = kind === 'pending' ? this.pending.size : this.entries.size;
      this.metrics.setContainerProfileCacheEntries(kind, count);
    }
  }
}
