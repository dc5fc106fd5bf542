/**
 * The profile layer's public names: the container-profile cache (a port of node-agent's
 * containerprofilecache) and the pieces it is built from, for callers that need them on their
 * own (the projection, the call-stack index, the naming rules).
 */
export * from './call-stack-tree.js';
export type * from './container-events.js';
export * from './container-profile-cache.js';
export type { ObjectRef, ProfileInputs, ProfileRole } from './dependencies.js';
export * from './entry.js';
export * from './ignore.js';
export * from './metrics.js';
export * from './names.js';
export * from './path-trie.js';
export * from './pod-status.js';
export * from './profile-state.js';
export * from './profile-stores.js';
export * from './projection.js';
export * from './read-object.js';
export * from './reconciler.js';
export * from './resources.js';
export type * from './types.js';
