/**
 * The names under which a container's profile objects live in kubescape storage. node-agent does
 * not search for them: it derives them from the container's instance ID (k8s-interface v0.0.207,
 * `containerinstance.GetSlug` and `names.InstanceIDToSlugWithMaxLength`), so the port must derive
 * exactly the same strings or it reads objects that do not exist.
 *
 *  - the ContainerProfile:            `<kind>-<name>-<container>-<h[0:4]>-<h[-4:]>`
 *  - the workload slug:               `<kind>-<name>`
 *  - the user-managed AP and NN:      `ug-<workload slug>`
 *  - the label-referenced AP and NN:  the value of the pod label `kubescape.io/user-defined-profile`
 */
import { createHash } from 'node:crypto';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';

/** Pod label naming a user-authored ApplicationProfile and NetworkNeighborhood (same name for both). */
export const USER_DEFINED_PROFILE_LABEL = 'kubescape.io/user-defined-profile';
/** Prefix of the user-managed AP and NN published for a workload (`UserApplicationProfilePrefix`). */
export const USER_MANAGED_PREFIX = 'ug-';
/** Kubernetes' limit on object names (a DNS subdomain). */
export const MAX_NAME_LENGTH = 253;

/** Length of the `-xxxx-xxxx` hash suffix every slug may carry. */
const HASH_SUFFIX_LENGTH = 4 * 2 + 2;
const DNS_SUBDOMAIN = /^[a-z0-9][a-z0-9.-]{0,251}[a-z0-9]$/;

/** Where the container sits in its pod spec; part of the hashed identity. */
export type InstanceType = 'container' | 'initContainer' | 'ephemeralContainer';

/**
 * One container of one workload, as node-agent's container watcher records it (k8s-interface
 * `containerinstance.InstanceID`). Kind and name are the workload's: the pod's first owner
 * (a ReplicaSet, not its Deployment), or the pod itself.
 */
export interface InstanceID {
  /** The workload's apiVersion, e.g. `apps/v1`. */
  apiVersion: string;
  /** The workload's namespace. */
  namespace: string;
  /** The workload's kind, e.g. `ReplicaSet` (the pod's first owner, not its Deployment), or `Pod`. */
  kind: string;
  /** The workload's name. */
  name: string;
  /** Replaces `name` in slugs when set: a StatefulSet revision, a CronJob's template-hashed job name. */
  alternateName?: string;
  /** The container's name in the pod spec. */
  containerName: string;
  /** Which list of the pod spec the container is in. */
  instanceType: InstanceType;
  /** The `pod-template-hash` label; not part of any slug, only of the entry's workload ID. */
  templateHash?: string;
}

/** The name could not be turned into a valid object name (upstream's ErrInvalidSlug). */
export class InvalidSlugError extends Error {
  /** @param slug the name that could not be made valid. */
  constructor(
    /** The name that could not be made into a valid object name. */
    readonly slug: string,
  ) {
    super(`invalid slug: ${JSON.stringify(slug)}`);
    this.name = 'InvalidSlugError';
  }
}

/** `apiVersion-<av>/namespace-<ns>/kind-<kind>/name-<name>/<type>Name-<container>`: what is hashed. */
export function instanceIDString(id: InstanceID): string {
  const name = id.alternateName ? id.alternateName : id.name;
  return `apiVersion-${id.apiVersion}/namespace-${id.namespace}/kind-${id.kind}/name-${name}/${id.instanceType}Name-${id.containerName}`;
}

/**
 * The slug of an instance ID (`GetSlug`): with `noContainer` the workload slug, otherwise the
 * container's. A slug that would reach 243 characters (253 minus the hash suffix) is cut there and
 * given the hash suffix, so long names stay unique and valid. Throws InvalidSlugError when the
 * result is not a DNS subdomain (for example a name with characters Kubernetes forbids).
 */
export function instanceSlug(id: InstanceID, noContainer: boolean): string {
  const hashed = createHash('sha256').update(instanceIDString(id)).digest('hex');
  const leading = hashed.slice(0, 4);
  const trailing = hashed.slice(-4);
  let slug = `${id.kind}-${id.alternateName ? id.alternateName : id.name}`;
  if (!noContainer && id.containerName !== '') slug = `${slug}-${id.containerName}-${leading}-${trailing}`;
  const maxHashless = MAX_NAME_LENGTH - HASH_SUFFIX_LENGTH;
  if (slug.length >= maxHashless) slug = `${slug.slice(0, maxHashless)}-${leading}-${trailing}`;
  slug = slug.toLowerCase();
  if (!DNS_SUBDOMAIN.test(slug)) throw new InvalidSlugError(slug);
  return slug;
}

/** The name of the container's consolidated ContainerProfile (`GetSlug(false)`). */
export function containerProfileName(id: InstanceID): string {
  return instanceSlug(id, false);
}

/** The workload slug (`GetSlug(true)`): the base of the user-managed names and of synthetic profiles. */
export function workloadSlug(id: InstanceID): string {
  return instanceSlug(id, true);
}

/** `ug-<workload slug>`: the user-managed ApplicationProfile and NetworkNeighborhood. */
export function userManagedProfileName(workloadName: string): string {
  return USER_MANAGED_PREFIX + workloadName;
}

/**
 * Owner kinds that stand for the workload. k8s-interface keeps any owner its discovery data
 * knows (and ignores Node owners); without discovery it knows the built-in kinds, of which these
 * are the ones that own pods.
 */
const WORKLOAD_OWNER_KINDS = new Set(['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController', 'Pod']);

/** The label the StatefulSet and DaemonSet controllers stamp on pods (appsv1.StatefulSetRevisionLabel). */
const CONTROLLER_REVISION_LABEL = 'controller-revision-hash';

/**
 * The instance ID of one container of a pod, derived as k8s-interface's
 * `GenerateInstanceIDFromPod` does, for callers that have no container watcher to supply it.
 * Undefined when the pod has no such container or lacks a name or namespace.
 *
 * One rule is not reproduced: pods of a CronJob's Job get an alternate name from an FNV hash of
 * the Go-formatted pod spec, which cannot be recomputed here; their IDs carry the Job's name
 * instead. Supply the watcher's instance ID where names must match node-agent's exactly.
 */
export function instanceIDFromPod(pod: V1Pod, containerName: string): InstanceID | undefined {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  if (!meta.name || !meta.namespace || !spec) return undefined;
  let instanceType: InstanceType;
  if ((spec.containers ?? []).some((c) => c.name === containerName)) instanceType = 'container';
  else if ((spec.initContainers ?? []).some((c) => c.name === containerName)) instanceType = 'initContainer';
  else if ((spec.ephemeralContainers ?? []).some((c) => c.name === containerName)) instanceType = 'ephemeralContainer';
  else return undefined;

  const labels = meta.labels ?? {};
  const owner: V1OwnerReference | undefined = meta.ownerReferences?.[0];
  const useOwner = owner !== undefined && WORKLOAD_OWNER_KINDS.has(owner.kind) && !!owner.name && !!owner.apiVersion;
  let alternateName: string | undefined;
  const revision = labels[CONTROLLER_REVISION_LABEL];
  if (owner?.kind === 'DaemonSet' && revision) alternateName = `${owner.name}-${revision}`;
  if (owner?.kind === 'StatefulSet' && revision) alternateName = revision;

  const id: InstanceID = {
    apiVersion: useOwner ? owner.apiVersion : 'v1',
    namespace: meta.namespace,
    kind: useOwner ? owner.kind : 'Pod',
    name: useOwner ? owner.name : meta.name,
    containerName,
    instanceType,
  };
  if (alternateName) id.alternateName = alternateName;
  if (labels['pod-template-hash']) id.templateHash = labels['pod-template-hash'];
  return id;
}
