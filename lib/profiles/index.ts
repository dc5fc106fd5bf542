/**
 * The profile layer's public names, listed by hand: the container-profile cache (a port of
 * node-agent's containerprofilecache), its options, metrics and stores, and the pieces a caller
 * may need on their own (the projection of user overlays, the call-stack index, the naming
 * rules, the profile objects' types). How the cache does its work (the operation queue, the
 * dependency reads, the reconciler loop, entry building, the path trie) stays behind this door;
 * spec/package/exports.spec.ts holds the list a change to it must update.
 */
export { CallStackSearchTree, type BidirectionalNode } from './call-stack-tree.js';
export type { ContainerEvent, ContainerInfo, SharedContainerData } from './container-events.js';
export { ContainerProfileCache, DEFAULT_ADD_TIMEOUT, DEFAULT_RPC_BUDGET, type ContainerProfileCacheOptions, type ContainerProfileCacheStats } from './container-profile-cache.js';
export type { ObjectRef, ProfileInputs, ProfileRole } from './dependencies.js';
export type { ContainerProfileEntry, EntryIdentity } from './entry.js';
export { HOST_CONTAINER_ID, HOST_NAMESPACE, ignoreContainer, type IgnoreRules } from './ignore.js';
export {
  containerProfileMetricNames,
  noopContainerProfileCacheMetrics,
  type CacheEntriesKind,
  type ContainerProfileCacheMetrics,
  type EvictionReason,
  type OverlayCompleteness,
  type ReconcilerPhase,
} from './metrics.js';
export {
  InvalidSlugError,
  MAX_NAME_LENGTH,
  USER_DEFINED_PROFILE_LABEL,
  USER_MANAGED_PREFIX,
  containerProfileName,
  instanceIDFromPod,
  instanceIDString,
  instanceSlug,
  userManagedProfileName,
  workloadSlug,
  type InstanceID,
  type InstanceType,
} from './names.js';
export { COMPLETION_ANNOTATION, ProfileCompletion, ProfileStatus, STATUS_ANNOTATION, missingProfileState, profileStateOf, type ProfileState } from './profile-state.js';
export { createProfileStores, type CreateProfileStoresOptions, type ProfileSources, type ProfileStores, type ProfileStrategy } from './profile-stores.js';
export { projectUserProfiles, type OverlayKind, type PartialProfileWarning, type Projection } from './projection.js';
export { DEFAULT_RECONCILE_INTERVAL, RECONCILE_JITTER } from './reconciler.js';
export { PROFILE_API_GROUP, PROFILE_API_VERSION, profileResources } from './resources.js';
export type * from './types.js';
