/**
 * The three refwatch stores the profile cache reads every profile object through, one per kind,
 * referenced by container ID. Upstream GETs each object a container depends on once per
 * container per tick; behind a store the same object is fetched (or watched) once for every
 * container that references it, and a watch store also says when it changed.
 */
import type { ObjectSource } from '../api/source.js';
import type { Store } from '../manager/interfaces.js';
import { TtlObjectStore } from '../manager/ttl-object-store.js';
import { WatchObjectStore, type WatchObjectStoreOptions } from '../manager/watch-object-store.js';
import type { Clock } from '../util/clock.js';
import { closeable, type AsyncCloseable } from '../util/dispose.js';
import { toLogger, type LoggerLike } from '../util/logger.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from './types.js';

/**
 * The three stores the profile cache reads profile objects through, one per kind, each referenced by
 * container ID.
 */
export interface ProfileStores {
  /** ContainerProfiles: the learned profiles. */
  containerProfiles: Store<ContainerProfile>;
  /** ApplicationProfiles: the `ug-` and label-referenced overlays. */
  applicationProfiles: Store<ApplicationProfile>;
  /** NetworkNeighborhoods: the `ug-` and label-referenced overlays. */
  networkNeighborhoods: Store<NetworkNeighborhood>;
}

/**
 * Where the three kinds are read from (profileResources names them), e.g.
 * `client.source(profileResources.containerProfiles)`.
 */
export interface ProfileSources {
  /** The ContainerProfile source. */
  containerProfiles: ObjectSource<ContainerProfile>;
  /** The ApplicationProfile source. */
  applicationProfiles: ObjectSource<ApplicationProfile>;
  /** The NetworkNeighborhood source. */
  networkNeighborhoods: ObjectSource<NetworkNeighborhood>;
}

/**
 * `watch`: one list+watch per referenced object; changes reach entries as events, nothing is
 * polled. `ttl`: objects are GET on demand and reused for a TTL, and the reconciler refreshes
 * every entry on each tick, as upstream does.
 */
export type ProfileStrategy = 'watch' | 'ttl';

/** How createProfileStores builds the three stores. */
export interface CreateProfileStoresOptions {
  /** `watch`: WatchObjectStores, event-driven; `ttl`: TtlObjectStores, refreshed by the reconciler. */
  strategy: ProfileStrategy;
  /** Drives TTLs, watch timeouts and backoff. */
  clock: Clock;
  /** Where the watch stores log. Any LoggerLike; default: none. */
  logger?: LoggerLike;
  /** `ttl` only: how long a fetched object is reused, in ms. */
  ttl: number;
  /** `watch` only: further tuning of each WatchObjectStore. */
  watch?: Omit<WatchObjectStoreOptions<unknown>, 'source' | 'clock' | 'logger' | 'isImmutable'>;
}

/**
 * Builds the three stores over the sources; the caller owns them and must close them: `close()`
 * closes all three, and so does the end of an `await using` block.
 */
export function createProfileStores(sources: ProfileSources, opts: CreateProfileStoresOptions): ProfileStores & AsyncCloseable {
  const logger = toLogger(opts.logger);
  const make = <T>(source: ObjectSource<T>): Store<T> & { close(): Promise<void> } =>
    opts.strategy === 'watch'
      ? new WatchObjectStore<T>({ ...opts.watch, source, clock: opts.clock, logger })
      : new TtlObjectStore<T>({ getObject: (ns, name, o) => source.get(ns, name, o), ttl: opts.ttl, clock: opts.clock });
  const stores = {
    containerProfiles: make(sources.containerProfiles),
    applicationProfiles: make(sources.applicationProfiles),
    networkNeighborhoods: make(sources.networkNeighborhoods),
  };
  return closeable({
    ...stores,
    close: async () => {
      await Promise.all(Object.values(stores).map((s) => s.close()));
    },
  });
}
