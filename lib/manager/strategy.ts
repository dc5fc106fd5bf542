/**
 * The kubelet's three ways of keeping referenced objects (configMapAndSecretChangeDetectionStrategy):
 * Watch (default) keeps a watch per object; Cache re-GETs after a TTL; Get reads from the API
 * server every time. `createObjectManager` builds any of them over one ObjectSource, so the
 * secret and configmap managers (and custom-resource managers) differ only in names.
 *
 * The manager's type follows its strategy: `StrategyManager<T, 'Watch'>` has a
 * `WatchObjectStore` and `changes()`, `StrategyManager<T, 'Cache'>` a `TtlObjectStore` and no
 * usable `changes()` (calling it is a compile error, and a TypeError for code that casts its way
 * there). A strategy only known at run time gives `StrategyManager<T>`, which `isWatching()`
 * narrows.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import { checkObjectName, type NameRules } from '../api/names.js';
import type { ObjectSource } from '../api/source.js';
import { raceAbort } from '../util/abort.js';
import type { Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { toLogger, type LoggerLike } from '../util/logger.js';
import { CacheBasedManager, DEFAULT_NAME_RULES, type CacheBasedManagerOptions, type ReferencedObjects } from './cache-based-manager.js';
import type { Manager, GetObjectOptions, StoreStats } from './interfaces.js';
import { TtlObjectStore, type GetTtlFunc } from './ttl-object-store.js';
import { WatchObjectStore, type WatchObjectStoreOptions } from './watch-object-store.js';

/** How a manager keeps its objects fresh: the kubelet's configMapAndSecretChangeDetectionStrategy. */
export type ChangeDetectionStrategy = 'Watch' | 'Cache' | 'Get';

/** The store each strategy keeps its objects in; Get keeps none. */
export interface StrategyStores<T> {
  /** A watch per referenced object. */
  Watch: WatchObjectStore<T>;
  /** A TTL cache filled by GETs. */
  Cache: TtlObjectStore<T>;
  /** Nothing is kept: every read is a GET. */
  Get: undefined;
}

/** How createObjectManager builds a manager; `S` is the strategy, and the result's type follows it. */
export interface ObjectManagerOptions<T, S extends ChangeDetectionStrategy = ChangeDetectionStrategy> {
  /** Where objects are read, listed and watched. */
  source: ObjectSource<T>;
  /** Default 'Watch', the kubelet's default. */
  strategy?: S;
  /** The names a pod references (e.g. podSecretNames). Unused by 'Get'. */
  getReferencedObjects: ReferencedObjects;
  /** Watch: objects never watched again once seen immutable. */
  isImmutable?: (obj: T) => boolean;
  /** Drives TTLs, sync and watch timeouts, backoff and idle recycling. Default: the wall clock. */
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
  /** Where malformed pods, refused references and watch failures are reported. Any LoggerLike. */
  logger?: LoggerLike;
}

/**
 * A manager and its store, typed by its strategy `S`: `store` is the strategy's store
 * (StrategyStores), and `changes()` can be called only when `S` is 'Watch'.
 */
export interface StrategyManager<T, S extends ChangeDetectionStrategy = ChangeDetectionStrategy> extends Manager<T>, AsyncCloseable {
  /** The strategy this manager was built with. */
  readonly strategy: S;
  /** The strategy's store, for inspection (`inspect()`, reference counts); undefined for Get. */
  readonly store: StrategyStores<T>[S];
  /**
   * The object now (once its watch has listed it; undefined while it does not exist) and then on
   * every change, until its last reference goes or the manager closes (then the stream
   * completes). Watch only: under Cache or Get this is a compile error, and a TypeError at run
   * time. Errors with NotRegisteredError for an object no registered pod references.
   */
  changes(this: StrategyManager<T, 'Watch'>, namespace: string, name: string): Observable<T | undefined>;
  /** Whether the strategy is Watch; narrows a manager whose strategy was chosen at run time. */
  isWatching(): this is StrategyManager<T, 'Watch'>;
  /** What the store holds; zeros for Get, which holds nothing. */
  stats(): StoreStats;
}

/**
 * Builds the manager for `opts.strategy` (default Watch). Its type follows the strategy: pass a
 * literal ('Cache') to get `StrategyManager<T, 'Cache'>`.
 *
 * @throws Error for a strategy that is none of Watch, Cache and Get.
 */
export function createObjectManager<T, S extends ChangeDetectionStrategy = 'Watch'>(opts: ObjectManagerOptions<T, S>): StrategyManager<T, S> {
  const strategy: ChangeDetectionStrategy = opts.strategy ?? 'Watch';
  const logger = toLogger(opts.logger);
  const managerOptions = { logger, nameRules: opts.nameRules };
  // The switch settles S at run time; TypeScript does not narrow a type parameter by a value,
  // so each branch says which StrategyManager it built.
  switch (strategy) {
    case 'Get':
      return new SimpleManager(opts.source, { ...DEFAULT_NAME_RULES, ...opts.nameRules }) as StrategyManager<T> as StrategyManager<T, S>;
    case 'Cache': {
      const store = new TtlObjectStore<T>({
        getObject: (ns, name, o) => opts.source.get(ns, name, o),
        ttl: opts.ttl ?? 60_000,
        getTtl: opts.getTtl,
        clock: opts.clock,
      });
      return new StoreManager<T, 'Cache'>('Cache', store, opts.getReferencedObjects, managerOptions) as StrategyManager<T> as StrategyManager<T, S>;
    }
    case 'Watch': {
      const store = new WatchObjectStore<T>({
        maxIdleTime: 5 * (opts.resyncInterval ?? 60_000),
        ...opts.watch,
        source: opts.source,
        isImmutable: opts.isImmutable,
        clock: opts.clock,
        logger,
      });
      return new StoreManager<T, 'Watch'>('Watch', store, opts.getReferencedObjects, managerOptions) as StrategyManager<T> as StrategyManager<T, S>;
    }
    default:
      throw new Error(`unknown configmap and secret manager mode: ${String(strategy)}`);
  }
}

/** What `changes()` throws under a strategy without one: a mistake in the caller's code, said plainly. */
function noChanges(strategy: ChangeDetectionStrategy): TypeError {
  return new TypeError(`changes() needs the Watch strategy; this manager uses ${strategy}, which keeps no watch to report changes`);
}

/** The Watch and Cache strategies: a CacheBasedManager over the strategy's store. */
class StoreManager<T, S extends 'Watch' | 'Cache'> extends CacheBasedManager<T> implements StrategyManager<T, S> {
  constructor(
    readonly strategy: S,
    readonly store: StrategyStores<T>[S],
    getReferencedObjects: ReferencedObjects,
    opts: CacheBasedManagerOptions,
  ) {
    super(store, getReferencedObjects, opts);
  }

  changes(this: StrategyManager<T, 'Watch'>, namespace: string, name: string): Observable<T | undefined> {
    const store: WatchObjectStore<T> | TtlObjectStore<T> = this.store;
    if (!(store instanceof WatchObjectStore)) throw noChanges(this.strategy);
    return store.changes(namespace, name);
  }

  isWatching(): this is StrategyManager<T, 'Watch'> {
    return this.strategy === 'Watch';
  }

  stats(): StoreStats {
    const { objects, references } = this.store.stats();
    return { objects, references };
  }
}

/**
 * The Get strategy (NewSimpleSecretManager): every read is a quorum GET; registration is a
 * no-op, so any object the node's credentials can read is readable. Names the rules refuse
 * reject with InvalidNameError before any request.
 */
class SimpleManager<T> implements StrategyManager<T, 'Get'> {
  readonly strategy = 'Get' as const;
  readonly store = undefined;

  constructor(
    private readonly source: ObjectSource<T>,
    private readonly nameRules: NameRules,
  ) {}

  async getObject(namespace: string, name: string, opts: GetObjectOptions = {}): Promise<T> {
    const invalid = checkObjectName(namespace, name, this.nameRules);
    if (invalid) throw invalid;
    const read = this.source.get(namespace, name, { signal: opts.signal });
    // raceAbort, so every strategy rejects an aborted read with the same AbortError, also over a
    // source that does not listen to the signal.
    return opts.signal ? raceAbort(read, opts.signal) : read;
  }

  registerPod(_pod: V1Pod): void {}

  unregisterPod(_pod: V1Pod): void {}

  changes(this: StrategyManager<T, 'Watch'>): Observable<T | undefined> {
    throw noChanges((this as StrategyManager<T>).strategy);
  }

  isWatching(): this is StrategyManager<T, 'Watch'> {
    return false;
  }

  stats(): StoreStats {
    return { objects: 0, references: 0 };
  }

  async close(): Promise<void> {}

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
