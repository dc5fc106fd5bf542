/**
 * SandboxProvider is openkruise agents' cache Provider on refwatch: informers for Sandbox,
 * SandboxSet, Checkpoint and SandboxTemplate with the indexes of indexes.ts, the queries the
 * sandbox manager makes (each answered from memory, with upstream's error messages), and the
 * Pause, Resume, WaitReady and Checkpoint wait tasks, woken by the informers' events.
 *
 * Lifecycle: with informers it creates itself (owned), `run(signal)` starts them and waits for
 * their first lists; `stop()` closes them. Informers passed in `informers` belong to someone
 * else: the Provider never starts or closes them, only reads and subscribes.
 *
 * Objects returned are the informers' own (frozen outside production): copy before changing.
 */
import type { Subscription } from 'rxjs';
import {
  IndexNotFoundError,
  Informer,
  ReconcileHandlers,
  SingleFlight,
  WaitHooks,
  connectWaitHooks,
  newAcquiredWaitTask,
  newWaitTask,
  noopLogger,
  realClock,
  type Clock,
  type IndexFunc,
  type InformerOptions,
  type KubeObject,
  type Logger,
  type ObjectSource,
  type ResourceType,
  type Update,
  type WaitTask,
} from '../../lib/index.js';
import { buildCacheConfig, type CacheOptions } from './cache-config.js';
import { IndexName, checkpointIndexers, sandboxIndexers, sandboxSetIndexers } from './indexes.js';
import { WaitAction, checkpointSatisfied, pauseSatisfied, resumeSatisfied, waitReadySatisfied } from './tasks.js';
import { sandboxResources, type Checkpoint, type Sandbox, type SandboxSet, type SandboxTemplate } from './types.js';

export interface SandboxInformers {
  sandboxes: Informer<Sandbox>;
  sandboxSets: Informer<SandboxSet>;
  checkpoints: Informer<Checkpoint>;
  sandboxTemplates: Informer<SandboxTemplate>;
}

export interface SandboxProviderOptions extends CacheOptions {
  /** Makes the sources informers and the live-read fallback use; a KubeClient does. */
  client: { source<T>(resource: ResourceType): ObjectSource<T> };
  /**
   * Informers owned by another component, used instead of creating them. They must carry
   * this module's indexers (checked at construction) and are never started or closed here.
   */
  informers?: Partial<SandboxInformers>;
  /** Drives informers and wait tasks. Default: the wall clock. */
  clock?: Clock;
  logger?: Logger;
  /** Wait tasks' poll fallback in ms. Default 10 s (DEFAULT_WAIT_POLL_INTERVAL). */
  pollInterval?: number;
  /** Passed to the informers the Provider creates (freeze, watch timeouts, backoff, random). */
  informerOptions?: Pick<InformerOptions<unknown>, 'freeze' | 'minWatchTimeout' | 'backoff' | 'random'>;
}

/** A query found nothing in the cache; the message is upstream's. */
export class NotInCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotInCacheError';
  }
}

export class SandboxProvider implements AsyncDisposable {
  readonly informers: SandboxInformers;
  /** The hooks every wait task of this Provider registers in; the informers' events close them. */
  readonly waitHooks = new WaitHooks();
  /** Handlers called for every Sandbox change (upstream's GetSandboxController). */
  readonly sandboxController: ReconcileHandlers<Sandbox>;
  /** Handlers called for every SandboxSet change (upstream's GetSandboxSetController). */
  readonly sandboxSetController: ReconcileHandlers<SandboxSet>;
  private readonly owned: Informer<KubeObject>[] = [];
  private readonly subscriptions: Subscription[];
  private readonly sandboxSource: ObjectSource<Sandbox>;
  private readonly liveReads = new SingleFlight();
  private readonly clock: Clock;
  private readonly pollInterval: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(opts: SandboxProviderOptions) {
    this.clock = opts.clock ?? realClock;
    this.pollInterval = opts.pollInterval;
    const logger = opts.logger ?? noopLogger;
    const filters = new Map(buildCacheConfig(opts).map((f) => [f.resource, f]));
    const make = <T extends KubeObject>(resource: ResourceType, indexers: Record<string, IndexFunc<T>>, given: Informer<T> | undefined): Informer<T> => {
      if (given) {
        for (const index of Object.keys(indexers)) requireIndex(given, index);
        return given;
      }
      const filter = filters.get(resource)!;
      const informer = new Informer<T>({
        ...opts.informerOptions,
        source: opts.client.source<T>(resource),
        namespace: filter.namespace,
        labelSelector: filter.labelSelector,
        indexers,
        clock: this.clock,
        logger,
      });
      this.owned.push(informer as unknown as Informer<KubeObject>);
      return informer;
    };
    const given = opts.informers ?? {};
    this.informers = {
      sandboxes: make(sandboxResources.sandboxes, sandboxIndexers, given.sandboxes),
      sandboxSets: make(sandboxResources.sandboxSets, sandboxSetIndexers, given.sandboxSets),
      checkpoints: make(sandboxResources.checkpoints, checkpointIndexers, given.checkpoints),
      sandboxTemplates: make<SandboxTemplate>(sandboxResources.sandboxTemplates, {}, given.sandboxTemplates),
    };
    this.sandboxSource = opts.client.source<Sandbox>(sandboxResources.sandboxes);
    this.sandboxController = new ReconcileHandlers<Sandbox>('SandboxCustom', logger);
    this.sandboxSetController = new ReconcileHandlers<SandboxSet>('SandboxSetCustom', logger);
    // The wait reconcilers (Sandbox, Checkpoint), then the custom ones, as upstream sets them up.
    this.subscriptions = [
      connectWaitHooks(this.waitHooks, this.informers.sandboxes),
      connectWaitHooks(this.waitHooks, this.informers.checkpoints),
      this.sandboxController.connect(this.informers.sandboxes),
      this.sandboxSetController.connect(this.informers.sandboxSets),
    ];
  }

  /**
   * Starts the informers this Provider owns and resolves once every informer has synced.
   * @throws Error "timed out waiting for caches to sync" (cause: why) when `signal` aborts or an
   *   informer closes first; the owned informers are then stopped.
   */
  async run(signal?: AbortSignal): Promise<void> {
    for (const informer of this.owned) informer.start();
    const all = Object.values(this.informers) as Informer<KubeObject>[];
    try {
      await Promise.all(all.map((informer) => informer.synced(signal)));
    } catch (err) {
      await this.stop();
      throw new Error('timed out waiting for caches to sync', { cause: err });
    }
  }

  /** Stops the owned informers and every subscription. Idempotent; no use afterwards. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const subscription of this.subscriptions) subscription.unsubscribe();
      await Promise.all(this.owned.map((informer) => informer.close()));
      await Promise.all([this.sandboxController.idle(), this.sandboxSetController.idle()]);
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** The claimed sandbox with this id (`<namespace>--<name>`). @throws NotInCacheError */
  getClaimedSandbox(opts: { namespace?: string; sandboxId: string }): Sandbox {
    const [found] = this.informers.sandboxes.list({ namespace: opts.namespace, index: { name: IndexName.ClaimedSandboxId, value: opts.sandboxId }, limit: 1 });
    if (!found) throw new NotInCacheError(`sandbox ${opts.sandboxId} not found in cache`);
    return found;
  }

  /** The checkpoint with this checkpoint id. Without a namespace, any one that has it. @throws NotInCacheError */
  getCheckpoint(opts: { namespace?: string; checkpointId: string }): Checkpoint {
    const [found] = this.informers.checkpoints.list({ namespace: opts.namespace, index: { name: IndexName.CheckpointId, value: opts.checkpointId }, limit: 1 });
    if (!found) throw new NotInCacheError(`checkpoint ${opts.checkpointId} not found in cache`);
    return found;
  }

  /** The SandboxSet named `name` (the template id). @throws NotInCacheError */
  pickSandboxSet(opts: { namespace?: string; name: string }): SandboxSet {
    const [found] = this.informers.sandboxSets.list({ namespace: opts.namespace, index: { name: IndexName.TemplateId, value: opts.name } });
    if (!found) throw new NotInCacheError(`sandboxset ${opts.name} not found in cache`);
    return found;
  }

  listSandboxSets(opts: { namespace?: string } = {}): SandboxSet[] {
    return this.informers.sandboxSets.list({ namespace: opts.namespace });
  }

  /** Sandboxes of a namespace (or all), of one owner when `user` is set. */
  listSandboxes(opts: { namespace?: string; user?: string } = {}): Sandbox[] {
    return this.informers.sandboxes.list({ namespace: opts.namespace, index: opts.user ? { name: IndexName.User, value: opts.user } : undefined });
  }

  /** Checkpoints of a namespace (or all), of one owner when `user` is set. */
  listCheckpoints(opts: { namespace?: string; user?: string } = {}): Checkpoint[] {
    return this.informers.checkpoints.list({ namespace: opts.namespace, index: opts.user ? { name: IndexName.User, value: opts.user } : undefined });
  }

  /** Sandboxes a claim may take from template `pool`: available, or being created by a SandboxSet. */
  listSandboxesInPool(opts: { namespace?: string; pool: string }): Sandbox[] {
    return this.informers.sandboxes.list({ namespace: opts.namespace, index: { name: IndexName.SandboxPool, value: opts.pool } });
  }

  /**
   * Re-reads a sandbox for a wait task: the informer's copy, or, when the informer does not
   * have it (not yet seen, or filtered out by the selectors), a live GET. Concurrent misses for
   * one sandbox share one GET.
   */
  sandboxUpdate(signal?: AbortSignal): Update<Sandbox> {
    return async (sbx) => {
      const namespace = sbx.metadata.namespace ?? '';
      const name = sbx.metadata.name ?? '';
      const cached = this.informers.sandboxes.get(namespace, name);
      if (cached) return cached;
      return this.liveReads.do(`sandbox:${namespace}:${name}`, () => this.sandboxSource.get(namespace, name, { signal }));
    };
  }

  /** Re-reads a checkpoint from the informer only. Rejects with "checkpoint <name> not found in cache". */
  checkpointUpdate(): Update<Checkpoint> {
    return async (cp) => {
      const found = this.informers.checkpoints.get(cp.metadata.namespace ?? '', cp.metadata.name ?? '');
      if (!found) throw new NotInCacheError(`checkpoint ${cp.metadata.name ?? ''} not found in cache`);
      return found;
    };
  }

  /**
   * A pre-acquired Pause task: reserves the sandbox before the caller sets spec.paused, so no
   * Resume wait can start in between. Satisfied when SandboxPaused is True.
   * @throws WaitTaskConflictError when another action waits on this sandbox.
   */
  newSandboxPauseTask(sbx: Sandbox, signal?: AbortSignal): WaitTask<Sandbox> {
    return newAcquiredWaitTask({ ...this.taskBase(signal), object: sbx, action: WaitAction.Pause, check: pauseSatisfied, update: this.sandboxUpdate(signal) });
  }

  /** A pre-acquired Resume task; satisfied when Ready is True. @throws WaitTaskConflictError */
  newSandboxResumeTask(sbx: Sandbox, signal?: AbortSignal): WaitTask<Sandbox> {
    return newAcquiredWaitTask({ ...this.taskBase(signal), object: sbx, action: WaitAction.Resume, check: resumeSatisfied, update: this.sandboxUpdate(signal) });
  }

  /** A lazy WaitReady task: generation observed, not updating in place, running with a pod IP. */
  newSandboxWaitReadyTask(sbx: Sandbox, signal?: AbortSignal): WaitTask<Sandbox> {
    return newWaitTask({ ...this.taskBase(signal), object: sbx, action: WaitAction.WaitReady, check: waitReadySatisfied, update: this.sandboxUpdate(signal) });
  }

  /** A lazy Checkpoint task: phase Succeeded with a checkpoint id; Failed or Terminating fails it. */
  newCheckpointTask(cp: Checkpoint, signal?: AbortSignal): WaitTask<Checkpoint> {
    return newWaitTask({ ...this.taskBase(signal), object: cp, action: WaitAction.Checkpoint, check: checkpointSatisfied, update: this.checkpointUpdate() });
  }

  private taskBase(signal: AbortSignal | undefined): { hooks: WaitHooks; clock: Clock; pollInterval?: number; signal?: AbortSignal } {
    return { hooks: this.waitHooks, clock: this.clock, pollInterval: this.pollInterval, signal };
  }
}

function requireIndex(informer: Informer<KubeObject> | Informer<any>, index: string): void {
  try {
    informer.indexValues(index);
  } catch (err) {
    if (err instanceof IndexNotFoundError) throw new Error(`the ${informer.resource.resource} informer passed in lacks the "${index}" index; build it with this module's indexers`);
    throw err;
  }
}
