/**
 * One container's cache entry and the one rule that builds it from the objects it depends on (the
 * "ladder" of node-agent's tryPopulateEntry and rebuildEntryFromSources, which were two copies of
 * the same steps): the learned ContainerProfile, or a synthetic empty one, then the user-managed
 * `ug-` overlays, then the label-referenced overlays. Entries are immutable; a change builds a new
 * one, so a reader holding an entry or its profile never sees it change under it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CallStackSearchTree } from './call-stack-tree.js';
import { COMPLETION_ANNOTATION, ProfileCompletion, ProfileStatus, STATUS_ANNOTATION, profileStateOf, type ProfileState } from './profile-state.js';
import { projectUserProfiles, type PartialProfileWarning } from './projection.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from './types.js';

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ContainerProfileEntry {
  /**
   * The profile served for the container. With no overlay it is the store's own object
   * (`shared`), handed to every container of the workload; otherwise a private merged copy.
   * Either way it must not be modified.
   */
  readonly profile: ContainerProfile;
  readonly state: ProfileState;
  /** Index of `profile.spec.identifiedCallStacks`, overlay stacks included. */
  readonly callStackTree: CallStackSearchTree;
  readonly containerName: string;
  readonly podName: string;
  readonly namespace: string;
  /** "" until the pod has been seen; the eviction rule needs it to match unpublished container IDs. */
  readonly podUID: string;
  /** `<wlid>/<template hash>`. */
  readonly workloadID: string;
  /** The label-referenced overlays, kept even while they are missing so they are re-read. */
  readonly userAPRef: ObjectRef | undefined;
  readonly userNNRef: ObjectRef | undefined;
  /** The ContainerProfile's name (not the synthetic profile's). */
  readonly cpName: string;
  readonly workloadName: string;
  /** True when `profile` is the store's object itself. */
  readonly shared: boolean;
  /** resourceVersions the entry was built from; "" for an absent object. */
  readonly rv: string;
  readonly userManagedAPRV: string;
  readonly userManagedNNRV: string;
  readonly userAPRV: string;
  readonly userNNRV: string;
}

/** The five objects an entry may depend on; absent ones are undefined. */
export interface ProfileInputs {
  cp?: ContainerProfile;
  /** `ug-<workload>`. */
  userManagedAP?: ApplicationProfile;
  userManagedNN?: NetworkNeighborhood;
  /** Named by the pod label `kubescape.io/user-defined-profile`. */
  userAP?: ApplicationProfile;
  userNN?: NetworkNeighborhood;
}

/** What stays the same across rebuilds of one container's entry. */
export interface EntryIdentity {
  containerName: string;
  podName: string;
  namespace: string;
  workloadID: string;
  cpName: string;
  workloadName: string;
  userAPRef: ObjectRef | undefined;
  userNNRef: ObjectRef | undefined;
  /** The podUID known so far; "" to take it from the pod. */
  podUID: string;
}

/** One overlay pass, for metrics and deprecation warnings. */
export interface OverlayPass {
  ap: ApplicationProfile | undefined;
  nn: NetworkNeighborhood | undefined;
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
  const { cp, userManagedAP, userManagedNN, userAP, userNN } = inputs;
  if (!cp && !userManagedAP && !userManagedNN && !userAP && !userNN) return undefined;
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
    rv: rvOf(cp),
    userManagedAPRV: rvOf(userManagedAP),
    userManagedNNRV: rvOf(userManagedNN),
    userAPRV: rvOf(userAP),
    userNNRV: rvOf(userNN),
  });
}

/**
 * The fast-skip test: every object has the resourceVersion the entry was built from, an absent
 * object matching an empty one ("still missing" is no change).
 */
export function builtFrom(entry: ContainerProfileEntry, inputs: ProfileInputs): boolean {
  return (
    rvOf(inputs.cp) === entry.rv &&
    rvOf(inputs.userManagedAP) === entry.userManagedAPRV &&
    rvOf(inputs.userManagedNN) === entry.userManagedNNRV &&
    rvOf(inputs.userAP) === entry.userAPRV &&
    rvOf(inputs.userNN) === entry.userNNRV
  );
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

function rvOf(obj: { metadata?: { resourceVersion?: string } } | undefined): string {
  return obj?.metadata?.resourceVersion ?? '';
}
