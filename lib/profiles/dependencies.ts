/**
 * The objects a container's profile is built from, by role, and how the profile cache reads
 * them. A container depends on at most five objects: its learned ContainerProfile (`cp`, always
 * referenced, even before it exists), its workload's user-managed `ug-<workload>` overlays
 * (`userManagedAP`, `userManagedNN`) and the overlays its pod's user-defined-profile label names
 * (`userAP`, `userNN`). Everything the cache does per dependency (referencing, subscribing,
 * reading, comparing resourceVersions) walks PROFILE_ROLES, so the five are handled alike.
 */
import type { Store } from '../manager/interfaces.js';
import { userManagedProfileName } from './names.js';
import type { ProfileStores } from './profile-stores.js';
import { readObject, type ReadOptions, type ReadResult } from './read-object.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from './types.js';

/** Where an object is: its namespace and name. */
export interface ObjectRef {
  /** The object's namespace: the container's own. */
  readonly namespace: string;
  /** The object's name. */
  readonly name: string;
}

/** The objects a container's entry is built from, by role; absent ones are undefined. */
export interface ProfileInputs {
  /** The learned ContainerProfile. */
  cp?: ContainerProfile;
  /** `ug-<workload>`. */
  userManagedAP?: ApplicationProfile;
  /** `ug-<workload>`: the user-managed NetworkNeighborhood. */
  userManagedNN?: NetworkNeighborhood;
  /** Named by the pod label `kubescape.io/user-defined-profile`. */
  userAP?: ApplicationProfile;
  /** Named by the pod label `kubescape.io/user-defined-profile`: the NetworkNeighborhood of that overlay. */
  userNN?: NetworkNeighborhood;
}

/** What an object is to the container that depends on it. */
export type ProfileRole = keyof ProfileInputs;

/** Every role, in the order entries are built from them (the learned profile, then the overlays). */
export const PROFILE_ROLES: readonly ProfileRole[] = ['cp', 'userManagedAP', 'userManagedNN', 'userAP', 'userNN'];

/** Whether any of the five objects exists: without one there is nothing to serve. */
export function hasAnyInput(inputs: ProfileInputs): boolean {
  return PROFILE_ROLES.some((role) => inputs[role] !== undefined);
}

/** Where each of a container's dependencies lives: `cp` always, the others when the container names them. */
export type Dependencies = { cp: ObjectRef } & { [R in Exclude<ProfileRole, 'cp'>]?: ObjectRef };

/** One read per dependency; a role the container does not depend on has none. */
export type DependencyReads = { [R in ProfileRole]?: ReadResult<NonNullable<ProfileInputs[R]>> };

/** The names a container's dependencies are derived from. */
export interface DependencyNames {
  /** The container's namespace; every dependency is in it. */
  namespace: string;
  /** The ContainerProfile's name (containerProfileName). */
  cpName: string;
  /** The workload slug (workloadSlug); "" when the workload has none, and then no `ug-` overlays. */
  workloadName: string;
  /** The pod's user-defined-profile label; "" for none. The AP and NN of one overlay share the name. */
  overlayName: string;
}

/** The dependencies of a container: its ContainerProfile, then whichever overlays it names. */
export function dependenciesOf(names: DependencyNames): Dependencies {
  const { namespace, cpName, workloadName, overlayName } = names;
  const deps: Dependencies = { cp: { namespace, name: cpName } };
  if (workloadName !== '') deps.userManagedAP = deps.userManagedNN = { namespace, name: userManagedProfileName(workloadName) };
  if (overlayName !== '') deps.userAP = deps.userNN = { namespace, name: overlayName };
  return deps;
}

/** The store a role's object is read through. */
export function storeFor(stores: ProfileStores, role: ProfileRole): Store<unknown> {
  if (role === 'cp') return stores.containerProfiles;
  return role.endsWith('AP') ? stores.applicationProfiles : stores.networkNeighborhoods;
}

/** Reads every dependency concurrently, each within `opts.budget`. Never rejects. */
export async function readDependencies(stores: ProfileStores, deps: Dependencies, opts: ReadOptions): Promise<DependencyReads> {
  const reads = await Promise.all(
    PROFILE_ROLES.map(async (role) => {
      const ref = deps[role];
      return [role, ref ? await readObject(storeFor(stores, role), ref.namespace, ref.name, opts) : undefined] as const;
    }),
  );
  // storeFor erases each store's object type; the role says which it is.
  return Object.fromEntries(reads.filter(([, read]) => read !== undefined)) as DependencyReads;
}

/** One round of reads sorted for building: the objects found, and the roles whose read failed. */
export interface GatheredInputs {
  /** The objects found, by role; a role whose object is absent or whose read failed is missing. */
  inputs: ProfileInputs;
  /**
   * Roles whose read failed transiently (a timeout, a broken connection), with the error. An
   * absent object is not a failure: it is simply missing from `inputs`.
   */
  failed: Array<{ role: ProfileRole; error: unknown }>;
}

/** Sorts a round of reads into the inputs an entry is built from and the failed reads. */
export function gatherInputs(reads: DependencyReads): GatheredInputs {
  const inputs: ProfileInputs = {};
  const failed: GatheredInputs['failed'] = [];
  for (const role of PROFILE_ROLES) {
    const read = reads[role];
    if (read?.status === 'found') Object.assign(inputs, { [role]: read.object });
    else if (read?.status === 'failed') failed.push({ role, error: read.error });
  }
  return { inputs, failed };
}
