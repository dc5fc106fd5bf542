/**
 * refwatch's public surface, listed by hand: a name is public because it is written here, and
 * spec/package/exports.spec.ts compares this list (and `refwatch/testing`'s) with a checked-in
 * copy, so a new export is a decision someone made. What is not listed (the connection pool,
 * the transport's error wording, the profile cache's reconciler loop and entry building...)
 * may change in any release.
 *
 * The layers, bottom up: api (resources, sources, errors, the cluster client) → cache
 * (reflector, stores) → manager (the kubelet's object manager and its strategies) → profiles
 * (node-agent's container-profile cache, on the manager's stores) and node (miren's node
 * watchdogs over containerd, with the pods of a node as desired state); the Informer (cache)
 * and wait tasks (wait) serve controllers. The profile and node layers list their names in
 * their own index files. Test helpers are in `refwatch/testing`.
 */
export {
  MAX_RETRY_AFTER_SECONDS,
  StatusError,
  isConnectionRefused,
  isForbidden,
  isGone,
  isInternalError,
  isNotFound,
  isResourceExpired,
  isTooLargeResourceVersion,
  isTooManyRequests,
  newExpired,
  newNotFound,
  reasonForCode,
  type Status,
  type StatusCause,
  type StatusDetails,
} from './api/errors.js';
export { escapeFieldValue, oneTermEqualSelector } from './api/fields.js';
export { KubeClient, closeSharedClients, type KubeClientOptions, type KubeClientStats } from './api/kube-client.js';
export { ObjectWriter, type WriteOptions } from './api/object-writer.js';
export { kubeSource, type KubeSourceOptions } from './api/kube-source.js';
export {
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  InvalidNameError,
  checkNamespace,
  checkObjectName,
  isDns1123Label,
  isDns1123Subdomain,
  isValidPathSegmentName,
  type NameRules,
  type NameValidator,
} from './api/names.js';
export { metaOf, namespacedKey, objectKey, resourceVersionOf, type KubeObject, type ObjectList, type ObjectMeta } from './api/object.js';
export { apiVersionOf, resources, singularName, type ResourceType } from './api/resource.js';
export type { GetOptions, ListOptions, ObjectSource, WatchEvent, WatchEventType, WatchHandle, WatchHandler, WatchOptions } from './api/source.js';
export { TransportError } from './api/transport-errors.js';

export { IndexNotFoundError, Indexer, keyOf, type IndexFunc, type StoreChange } from './cache/indexer.js';
export {
  Informer,
  InformerClosedError,
  InformerSyncAbortedError,
  WATCH_ERROR_SETTLE,
  type InformerEvent,
  type InformerHealth,
  type InformerOptions,
  type InformerStats,
} from './cache/informer.js';
export { listWatchFor, type ListerWatcher, type Selectors } from './cache/list-watch.js';
export { ObjectSlot, type SlotListener } from './cache/object-slot.js';
export { DEFAULT_MIN_WATCH_TIMEOUT, Reflector, VeryShortWatchError, type ReflectorOptions, type ReflectorStats } from './cache/reflector.js';
export type { FailureSink, ReflectorSink, ResourceVersionSink } from './cache/sink.js';
export { SyncPacer, type SyncPacerOptions } from './cache/sync-pacer.js';
export { INITIAL_EVENTS_END_ANNOTATION, WatchListSupport, watchListSupportFor, type WatchListState } from './cache/watch-list.js';

export { CacheBasedManager, DEFAULT_NAME_RULES, type CacheBasedManagerOptions, type ReferencedObjects } from './manager/cache-based-manager.js';
export { NotRegisteredError, StoreClosedError, SyncTimeoutError, UnexpectedObjectError, isNotRegistered } from './manager/errors.js';
export { isObservableStore, type GetObjectOptions, type Manager, type ObservableStore, type Store, type StoreStats } from './manager/interfaces.js';
export { ConfigMapManager, SecretManager, isImmutableSecretOrConfigMap, type KindManagerOptions } from './manager/kind-managers.js';
export { NODE_TTL_ANNOTATION, ttlFromNode } from './manager/node-ttl.js';
export { podConfigMapNames, podSecretNames, visitPodConfigMapNames, visitPodSecretNames, type NameVisitor } from './manager/pod-references.js';
export { createObjectManager, type ChangeDetectionStrategy, type ObjectManagerOptions, type StrategyManager, type StrategyStores } from './manager/strategy.js';
export { TtlObjectStore, type GetObjectFunc, type GetTtlFunc, type TtlObjectStoreOptions } from './manager/ttl-object-store.js';
export { MIN_IDLE_TIME, WatchObjectStore, type ItemState, type WatchObjectStoreOptions, type WatchStoreStats } from './manager/watch-object-store.js';

// The profile layer's door lists its own names.
export * from './profiles/index.js';

// Controllers: wait tasks on top of the Informer (openkruise agents' pkg/cache).
export { connectWaitHooks, connectWaitHooksToChanges } from './wait/connect.js';
export { WaitNotSatisfiedError, WaitTaskConflictError, WaitTaskUsedError } from './wait/errors.js';
export { ReconcileHandlers, type ReconcileHandler, type ReconcileResult } from './wait/reconcile-handlers.js';
export { SingleFlight } from './wait/single-flight.js';
export { WaitEntry, WaitHooks, waitHookKey, waitHookRefOf, type Check, type WaitHookRef } from './wait/wait-hooks.js';
export { DEFAULT_WAIT_POLL_INTERVAL, newAcquiredWaitTask, newWaitTask, type Update, type WaitTask, type WaitTaskOptions } from './wait/wait-task.js';

// The node layer's door lists its own names.
export * from './node/index.js';

export { AbortError, DeadlineExceededError, isAbortError } from './util/abort.js';
export { Backoff, type BackoffOptions } from './util/backoff.js';
export { MAX_TIMER_DELAY, RealClock, realClock, sleepOn, type Clock, type Timer } from './util/clock.js';
export { closeable, type AsyncCloseable, type AsyncStoppable } from './util/dispose.js';
export { deepFreeze, freezeByDefault } from './util/freeze.js';
export {
  consoleLogger,
  errorMessage,
  messageFirstLogger,
  noopLogger,
  structuredLogger,
  toLogger,
  type BunyanLike,
  type ConsoleLike,
  type LogFields,
  type Logger,
  type LoggerLike,
  type NormalizedLogger,
  type PinoLike,
  type StructuredLogger,
} from './util/logger.js';
export { DEFAULT_RECONCILE_JITTER, PeriodicReconciler, type PassReport, type PassTrigger, type PeriodicReconcilerOptions } from './util/periodic-reconciler.js';
