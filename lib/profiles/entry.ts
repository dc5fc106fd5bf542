/**
 * One container's cache entry and the one rule that builds it from the objects it depends on (the
 * "ladder" of node-agent's tryPopulateEntry and rebuildEntryFromSources, which were two copies of
 * the same steps): the learned ContainerProfile, or a synthetic empty one, then the user-managed
 * `ug-` overlays, then the label-referenced overlays. Entries are immutable; a change builds a new
 * one, so a reader holding an entry or its profile never sees it change under it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CallStackSearchTree } from './call-stack-tree.js';
import { PROFILE_ROLES, hasAnyInput, type ObjectRef, type ProfileInputs, type ProfileRole } from './dependencies.js';
import { COMPLETION_ANNOTATION, ProfileCompletion, ProfileStatus, STATUS_ANNOTATION, profileStateOf, type ProfileState } from './profile-state.js';
import { projectUserProfiles, type PartialProfileWarning } from './projection.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from './types.js';

/**
 * What the cache holds for one container: the profile it serves, its state and call-stack index, and
 * what it was built from. Immutable: a change builds a new entry.
 */
export interface ContainerProfileEntry {
  /**
   * The profile served for the container. With no overlay it is the store's own object
   * (`shared`), handed to every container of the workload; otherwise a private merged copy.
   * Either way it must not be modified.
   */
  readonly profile: ContainerProfile;
  /** The served profile's completion, status and name, as the rule engine reads them. */
  readonly state: ProfileState;
  /** Index of `profile.spec.identifiedCallStacks`, overlay stacks included. */
  readonly callStackTree: CallStackSearchTree;
  /** The container's name in its pod spec. */
  readonly containerName: string;
  /** The container's pod. */
  readonly podName: string;
  /** The pod's namespace. */
  readonly namespace: string;
  /** "" until the pod has been seen; the eviction rule needs it to match unpublished container IDs. */
  readonly podUID: string;
  /** `<wlid>/<template hash>`. */
  readonly workloadID: string;
  /** The label-referenced overlays, kept even while they are missing so they are re-read. */
  readonly userAPRef: ObjectRef | undefined;
  /** The label-referenced NetworkNeighborhood, kept even while it is missing so it is re-read. */
  readonly userNNRef: ObjectRef | undefined;
  /** The ContainerProfile's name (not the synthetic profile's). */
  readonly cpName: string;
  /** The workload slug (`<kind>-<name>`); "" when the workload has none. */
  readonly workloadName: string;
  /** True when `profile` is the store's object itself. */
  readonly shared: boolean;
  /**
   * The resourceVersion of each object the entry was built from, by role; "" for an object that
   * was absent (or that the container does not depend on). `resourceVersions.cp` is the learned
   * ContainerProfile's.
   */
  readonly resourceVersions: Readonly<Record<ProfileRole, string>>;
}

/** What stays the same across rebuilds of one container's entry. */
export interface EntryIdentity {
  /** The container's name in its pod spec. */
  containerName: string;
  /** The container's pod. */
  podName: string;
  /** The pod's namespace. */
  namespace: string;
  /** `<wlid>/<template hash>`. */
  workloadID: string;
  /** The ContainerProfile's name (containerProfileName). */
  cpName: string;
  /** The workload slug; "" when the workload has none. */
  workloadName: string;
  /** The label-referenced ApplicationProfile, when the pod names one. */
  userAPRef: ObjectRef | undefined;
  /** The label-referenced NetworkNeighborhood, when the pod names one. */
  userNNRef: ObjectRef | undefined;
  /** The podUID known so far; "" to take it from the pod. */
  podUID: string;
}

/** One overlay pass, for metrics and deprecation warnings. */
export interface OverlayPass {
  /** The label-referenced ApplicationProfile merged, if any. */
  ap: ApplicationProfile | undefined;
  /** The label-referenced NetworkNeighborhood merged, if any. */
  nn: NetworkNeighborhood | undefined;
  /** One warning per merged overlay that misses pod containers. */
  warnings: PartialProfileWarning[];
}

/**
 * Builds the entry, or returns undefined when none of the five objects exists (the container
 * then waits as pending: there is nothing to serve). Without a learned profile the base is an
 * empty synthetic one named after the workload, marked complete and completed, so overlays alone
 * still give the container a profile.
 */
export function buildEntry(
  identity: EntryIdentity,
  inputs: ProfileInputs,
  pod: V1Pod | undefined,
  onOverlay: (pass: OverlayPass) => void = () => {},
): ContainerProfileEntry | undefined {
  if (!hasAnyInput(inputs)) return undefined;
  const { cp, userManagedAP, userManagedNN, userAP, userNN } = inputs;
  const base = cp ?? syntheticContainerProfile(identity.workloadName || identity.userAPRef?.name || identity.cpName, identity.namespace);

  let profile = base;
  for (const [ap, nn] of [
    [userManagedAP, userManagedNN],
    [userAP, userNN],
  ] as const) {
    if (!ap && !nn) continue;
    const projection = projectUserProfiles(profile, ap, nn, pod, identity.containerName);
    profile = projection.profile;
    onOverlay({ ap, nn, warnings: projection.warnings });
  }

  return Object.freeze({
    profile,
    state: profileStateOf(base),
    callStackTree: CallStackSearchTree.from(profile.spec?.identifiedCallStacks),
    containerName: identity.containerName,
    podName: identity.podName,
    namespace: identity.namespace,
    podUID: identity.podUID || (pod?.metadata?.uid ?? ''),
    workloadID: identity.workloadID,
    userAPRef: identity.userAPRef,
    userNNRef: identity.userNNRef,
    cpName: identity.cpName,
    workloadName: identity.workloadName,
    shared: profile === cp,
    resourceVersions: Object.freeze(resourceVersionsOf(inputs)),
  });
}

/**
 * The fast-skip test: every object has the resourceVersion the entry was built from, an absent
 * object matching an empty one ("still missing" is no change).
 */
export function builtFrom(entry: ContainerProfileEntry, inputs: ProfileInputs): boolean {
  return PROFILE_ROLES.every((role) => rvOf(inputs[role]) === entry.resourceVersions[role]);
}

/** The empty base profile used when only overlays exist. */
export function syntheticContainerProfile(name: string, namespace: string): ContainerProfile {
  return {
    metadata: {
      name,
      namespace,
      annotations: { [COMPLETION_ANNOTATION]: ProfileCompletion.Full, [STATUS_ANNOTATION]: ProfileStatus.Completed },
    },
    spec: {},
  };
}

function resourceVersionsOf(inputs: ProfileInputs): Record<ProfileRole, string> {
  return Object.fromEntries(PROFILE_ROLES.map((role) => [role, rvOf(inputs[role])])) as Record<ProfileRole, string>;
}

function rvOf(obj: { metadata?: { resourceVersion?: string } } | undefined): string {
  return obj?.metadata?.resourceVersion ?? '';
}
