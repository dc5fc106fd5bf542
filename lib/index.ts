/**
 * refwatch's public surface. The layers, bottom up: api (resources, sources, errors, the
 * cluster client) → cache (reflector, stores) → manager (the kubelet's object manager and its
 * strategies) → profiles (node-agent's container-profile cache, on the manager's stores) and
 * node (miren's node watchdogs over containerd, with the pods of a node as desired state);
 * the Informer (cache) and wait tasks (wait) serve controllers.
 * Test helpers (FakeClock, in-memory source and runtime) are in `refwatch/testing`.
 */
export * from './api/connection-pool.js';
export * from './api/errors.js';
export * from './api/fields.js';
export * from './api/kube-client.js';
export * from './api/object-writer.js';
export * from './api/kube-source.js';
export * from './api/names.js';
export * from './api/object.js';
export * from './api/resource.js';
export type * from './api/source.js';

export * from './cache/indexer.js';
export * from './cache/informer.js';
export * from './cache/list-watch.js';
export * from './cache/object-slot.js';
export * from './cache/reflector.js';
export type * from './cache/sink.js';

export * from './manager/cache-based-manager.js';
export * from './manager/errors.js';
export type * from './manager/interfaces.js';
export * from './manager/kind-managers.js';
export * from './manager/node-ttl.js';
export * from './manager/pod-references.js';
export * from './manager/strategy.js';
export * from './manager/ttl-object-store.js';
export * from './manager/watch-object-store.js';

export * from './profiles/index.js';

// Controllers: wait tasks on top of the Informer (openkruise agents' pkg/cache).
export * from './wait/connect.js';
export * from './wait/errors.js';
export * from './wait/reconcile-handlers.js';
export * from './wait/single-flight.js';
export * from './wait/wait-hooks.js';
export * from './wait/wait-task.js';

export * from './node/index.js';

export * from './util/backoff.js';
export * from './util/clock.js';
export * from './util/dispose.js';
export * from './util/freeze.js';
export * from './util/logger.js';
export * from './util/periodic-reconciler.js';
