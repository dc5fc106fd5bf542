/**
 * The kubelet's three ways of keeping referenced objects (configMapAndSecretChangeDetectionStrategy):
 * Watch (default) keeps a watch per object; Cache re-GETs after a TTL; Get reads from the API
 * server every time. `createObjectManager` builds any of them over one ObjectSource, so the
 * secret and configmap managers (and custom-resource managers) differ only in names.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { checkObjectName, type NameRules } from '../api/names.js';
import type { ObjectSource } from '../api/source.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { CacheBasedManager, DEFAULT_NAME_RULES, type ReferencedObjects } from './cache-based-manager.js';
import type { Manager } from './interfaces.js';
import { TtlObjectStore, type GetTtlFunc } from './ttl-object-store.js';
import { WatchObjectStore, type WatchObjectStoreOptions } from './watch-object-store.js';

export type ChangeDetectionStrategy = 'Watch' | 'Cache' | 'Get';

export interface ObjectManagerOptions<T> {
  source: ObjectSource<T>;
  /** Default 'Watch', the kubelet's default. */
  strategy?: ChangeDetectionStrategy;
  /** The names a pod references (e.g. podSecretNames). Unused by 'Get'. */
  getReferencedObjects: ReferencedObjects;
  /** Watch: objects never watched again once seen immutable. */
  isImmutable?: (obj: T) => boolean;
  clock?: Clock;
  /**
   * Watch: the kubelet's resync interval (its syncFrequency, default 1 minute). Watches idle
   * for 5 × this are stopped, as upstream derives maxIdleTime.
   */
  resyncInterval?: number;
  /** Cache: default TTL in ms. Default 1 minute, as upstream. */
  ttl?: number;
  /** Cache: TTL override, e.g. ttlFromNode(getNode). */
  getTtl?: GetTtlFunc;
  /**
   * Which namespaces and names are accepted (CacheBasedManagerOptions.nameRules); Get applies
   * them to getObject. Default: DNS-1123 label namespaces, path-segment names.
   */
  nameRules?: NameRules;
  /** Watch: further tuning of the store (sync timeout, watch timeout, backoff). */
  watch?: Omit<WatchObjectStoreOptions<T>, 'source' | 'clock' | 'isImmutable' | 'logger'>;
  logger?: Logger;
}

/** A manager plus its store, for inspection: `changes()`, `inspect()`, stats, reference counts. */
export interface StrategyManager<T> extends Manager<T> {
  readonly strategy: ChangeDetectionStrategy;
  /** Set for the Watch strategy. */
  readonly watchStore?: WatchObjectStore<T>;
  /** Set for the Cache strategy. */
  readonly ttlStore?: TtlObjectStore<T>;
}

export function createObjectManager<T>(opts: ObjectManagerOptions<T>): StrategyManager<T> {
  const strategy = opts.strategy ?? 'Watch';
  switch (strategy) {
    case 'Get':
      return new SimpleManager(opts.source, { ...DEFAULT_NAME_RULES, ...opts.nameRules });
    case 'Cache': {
      const store = new TtlObjectStore<T>({
        getObject: (ns, name, o) => opts.source.get(ns, name, o),
        ttl: opts.ttl ?? 60_000,
        getTtl: opts.getTtl,
        clock: opts.clock,
      });
      return withStrategy(new CacheBasedManager(store, opts.getReferencedObjects, { logger: opts.logger, nameRules: opts.nameRules }), 'Cache', { ttlStore: store });
    }
    case 'Watch': {
      const store = new WatchObjectStore<T>({
        maxIdleTime: 5 * (opts.resyncInterval ?? 60_000),
        ...opts.watch,
        source: opts.source,
        isImmutable: opts.isImmutable,
        clock: opts.clock,
        logger: opts.logger,
      });
      return withStrategy(new CacheBasedManager(store, opts.getReferencedObjects, { logger: opts.logger, nameRules: opts.nameRules }), 'Watch', { watchStore: store });
    }
    default:
      throw new Error(`unknown configmap and secret manager mode: ${String(strategy)}`);
  }
}

function withStrategy<T>(
  manager: CacheBasedManager<T>,
  strategy: ChangeDetectionStrategy,
  stores: { watchStore?: WatchObjectStore<T>; ttlStore?: TtlObjectStore<T> },
): StrategyManager<T> {
  return Object.assign(manager, { strategy, ...stores });
}

/**
 * The Get strategy (NewSimpleSecretManager): every read is a quorum GET; registration is a
 * no-op, so any object the node's credentials can read is readable. Names the rules refuse
 * reject with InvalidNameError before any request.
 */
class SimpleManager<T> implements StrategyManager<T> {
  readonly strategy = 'Get' as const;

  constructor(
    private readonly source: ObjectSource<T>,
    private readonly nameRules: NameRules,
  ) {}

  async getObject(namespace: string, name: string): Promise<T> {
    const invalid = checkObjectName(namespace, name, this.nameRules);
    if (invalid) throw invalid;
    return this.source.get(namespace, name);
  }

  registerPod(_pod: V1Pod): void {}

  unregisterPod(_pod: V1Pod): void {}

  async close(): Promise<void> {}
}
