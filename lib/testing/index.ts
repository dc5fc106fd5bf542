/**
 * `refwatch/testing`, listed by hand: what tests of code built on refwatch need, and what
 * refwatch's own tests use: a controllable clock, an in-memory API state with an ObjectSource
 * over it, an in-memory container runtime for the node watchdogs, and the embedded API server
 * (whose own door, api-server/index.ts, lists its names). The selector parsers and the merge
 * patch the storage applies stay internal. spec/package/exports.spec.ts holds the list.
 */
export { FakeClock, settle } from './fake-clock.js';
export { MemorySource, MemoryWatch, type GetReactor, type ListReactor, type SourceAction, type SourceVerb, type WatchReactor } from './memory-source.js';
export { MemoryRuntime, type MemoryContainerSpec, type RuntimeCall, type RuntimeOperation } from './memory-runtime.js';
export { INITIAL_EVENTS_END, ObjectStorage, type ObjectStorageOptions } from './object-storage.js';
export * from './api-server/index.js';
