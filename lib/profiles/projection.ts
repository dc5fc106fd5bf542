/**
 * Projection merges user-authored ApplicationProfile and NetworkNeighborhood overlays into the
 * learned ContainerProfile of one container (node-agent `projection.go`). Users write AP/NN
 * objects per workload to widen what the learned profile allows; the cache serves one
 * ContainerProfile per container, so the overlay's section for that container is folded in.
 *
 * The result is always a deep copy: neither the learned profile (which may be served to other
 * containers as is) nor the overlay objects (which the stores keep and hand out again) are ever
 * written to.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type {
  ApplicationProfile,
  ApplicationProfileContainer,
  ContainerProfile,
  ContainerProfileSpec,
  LabelSelector,
  NetworkNeighbor,
  NetworkNeighborhood,
  NetworkNeighborhoodContainer,
  NetworkPort,
  RulePolicy,
} from './types.js';

/** Kinds named in warnings and in the legacy-load metric. */
export type OverlayKind = 'application' | 'network';

/**
 * An overlay that does not cover every container of the pod: rules for the missing containers
 * fall back to the learned profile alone, which users rarely intend.
 */
export interface PartialProfileWarning {
  /** Which kind of overlay misses containers. */
  kind: OverlayKind;
  /** The overlay's namespace. */
  namespace: string;
  /** The overlay's name. */
  name: string;
  /** The overlay version the warning is about. */
  resourceVersion: string;
  /** Pod-spec containers (regular, init, ephemeral) with no section in the overlay. */
  missingContainers: string[];
}

/** What projectUserProfiles returns: the merged profile and the overlays' warnings. */
export interface Projection {
  /** A deep copy of the learned profile with the container's overlay sections merged in. */
  profile: ContainerProfile;
  /** One per overlay that misses pod containers; empty without a pod. */
  warnings: PartialProfileWarning[];
}

/**
 * Returns a deep copy of `cp` with the container's sections of `userAP` and `userNN` merged in,
 * and a warning per overlay that misses pod containers. Either overlay may be absent (no merge,
 * no warning). Without a pod the missing-container check is skipped; the merge still runs.
 */
export function projectUserProfiles(
  cp: ContainerProfile,
  userAP: ApplicationProfile | undefined,
  userNN: NetworkNeighborhood | undefined,
  pod: V1Pod | undefined,
  containerName: string,
): Projection {
  const profile = structuredClone(cp);
  const spec = (profile.spec ??= {});
  const warnings: PartialProfileWarning[] = [];
  if (userAP) {
    const missing = mergeApplicationProfile(spec, structuredClone(userAP), pod, containerName);
    if (missing.length > 0) warnings.push(warningFor('application', userAP, missing));
  }
  if (userNN) {
    const missing = mergeNetworkNeighborhood(spec, structuredClone(userNN), pod, containerName);
    if (missing.length > 0) warnings.push(warningFor('network', userNN, missing));
  }
  return { profile, warnings };
}

function warningFor(kind: OverlayKind, obj: ApplicationProfile | NetworkNeighborhood, missingContainers: string[]): PartialProfileWarning {
  return {
    kind,
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    resourceVersion: obj.metadata?.resourceVersion ?? '',
    missingContainers,
  };
}

/**
 * Appends the container's capabilities, execs, opens, syscalls and endpoints (no de-duplication,
 * as upstream) and merges rule policies key by key. Returns the pod containers the AP lacks.
 */
function mergeApplicationProfile(spec: ContainerProfileSpec, userAP: ApplicationProfile, pod: V1Pod | undefined, containerName: string): string[] {
  const apSpec = userAP.spec ?? {};
  const sections = [apSpec.containers, apSpec.initContainers, apSpec.ephemeralContainers];
  const matched = findSection<ApplicationProfileContainer>(sections, containerName);
  if (matched) {
    spec.capabilities = appendAll(spec.capabilities, matched.capabilities);
    spec.execs = appendAll(spec.execs, matched.execs);
    spec.opens = appendAll(spec.opens, matched.opens);
    spec.syscalls = appendAll(spec.syscalls, matched.syscalls);
    spec.endpoints = appendAll(spec.endpoints, matched.endpoints);
    const policies = Object.entries(matched.rulePolicies ?? {});
    if (policies.length > 0) {
      const merged: Record<string, RulePolicy> = { ...(spec.rulePolicies ?? {}) };
      for (const [ruleID, policy] of policies) merged[ruleID] = ruleID in merged ? mergePolicies(merged[ruleID], policy) : policy;
      spec.rulePolicies = merged;
    }
  }
  return missingPodContainers(pod, sectionNames(sections));
}

/**
 * Merges the container's ingress and egress neighbors by identifier, then (whether or not a
 * section matched) overlays the NN's pod label selector on the profile's. Returns the pod
 * containers the NN lacks.
 */
function mergeNetworkNeighborhood(spec: ContainerProfileSpec, userNN: NetworkNeighborhood, pod: V1Pod | undefined, containerName: string): string[] {
  const nnSpec = userNN.spec ?? {};
  const sections = [nnSpec.containers, nnSpec.initContainers, nnSpec.ephemeralContainers];
  const matched = findSection<NetworkNeighborhoodContainer>(sections, containerName);
  if (matched) {
    spec.ingress = mergeNetworkNeighbors(spec.ingress ?? [], matched.ingress ?? []);
    spec.egress = mergeNetworkNeighbors(spec.egress ?? [], matched.egress ?? []);
  }
  overlaySelector(spec, nnSpec);
  return missingPodContainers(pod, sectionNames(sections));
}

/** Regular, then init, then ephemeral containers; the first section with the name wins. */
function findSection<S extends { name?: string }>(sections: (S[] | undefined)[], containerName: string): S | undefined {
  for (const list of sections) {
    const found = list?.find((s) => s.name === containerName);
    if (found) return found;
  }
  return undefined;
}

function sectionNames(sections: ({ name?: string }[] | undefined)[]): Set<string> {
  const names = new Set<string>();
  for (const list of sections) for (const s of list ?? []) names.add(s.name ?? '');
  return names;
}

function missingPodContainers(pod: V1Pod | undefined, have: Set<string>): string[] {
  if (!pod) return [];
  const spec = pod.spec;
  const all = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])];
  return all.map((c) => c.name).filter((name) => !have.has(name));
}

/** `a` followed by `b`; leaves `a` as it is (absent stays absent) when `b` adds nothing. */
function appendAll<T>(a: T[] | undefined, b: T[] | undefined): T[] | undefined {
  if (!b || b.length === 0) return a;
  return [...(a ?? []), ...b];
}

/** Upstream's MergePolicies: a container allowed by either side is allowed; processes are the union. */
export function mergePolicies(primary: RulePolicy, secondary: RulePolicy): RulePolicy {
  const merged: RulePolicy = {};
  if (primary.containerAllowed || secondary.containerAllowed) merged.containerAllowed = true;
  const processes = [...new Set([...(primary.processAllowed ?? []), ...(secondary.processAllowed ?? [])])];
  if (processes.length > 0) merged.processAllowed = processes;
  return merged;
}

/** Neighbors keyed by identifier: an existing one is merged with the user's, a new one appended. */
export function mergeNetworkNeighbors(normal: NetworkNeighbor[], user: NetworkNeighbor[]): NetworkNeighbor[] {
  return mergeByKey(normal, user, (n) => n.identifier, mergeNetworkNeighbor);
}

/**
 * DNS names are the union; ports are keyed by name (the user's replaces, new ones are appended);
 * selectors are overlaid with the user's labels winning; the user's IP address and type replace
 * the learned ones when set.
 */
export function mergeNetworkNeighbor(normal: NetworkNeighbor, user: NetworkNeighbor): NetworkNeighbor {
  const merged = structuredClone(normal);
  merged.dnsNames = [...new Set([...(normal.dnsNames ?? []), ...(user.dnsNames ?? [])])];
  merged.ports = mergeNetworkPorts(merged.ports ?? [], user.ports ?? []);
  if (user.podSelector) merged.podSelector = overlaySelector(merged.podSelector ?? {}, user.podSelector);
  if (user.namespaceSelector) merged.namespaceSelector = overlaySelector(merged.namespaceSelector ?? {}, user.namespaceSelector);
  if (user.ipAddress) merged.ipAddress = user.ipAddress;
  if (user.type) merged.type = user.type;
  return merged;
}

function mergeNetworkPorts(normal: NetworkPort[], user: NetworkPort[]): NetworkPort[] {
  return mergeByKey(
    normal,
    user,
    (p) => p.name,
    (_, u) => u,
  );
}

/**
 * `normal` in its order with each of `user`'s items merged into the item of the same key (by
 * `merge`), or appended, in `user`'s order, when no item has its key.
 */
function mergeByKey<T>(normal: T[], user: T[], key: (item: T) => string, merge: (normal: T, user: T) => T): T[] {
  const result = [...normal];
  const index = new Map<string, number>();
  result.forEach((item, i) => index.set(key(item), i));
  for (const u of user) {
    const at = index.get(key(u));
    if (at === undefined) {
      index.set(key(u), result.length);
      result.push(u);
    } else result[at] = merge(result[at], u);
  }
  return result;
}

/** Merges `user`'s labels into `target` (user wins) and appends its expressions; returns `target`. */
function overlaySelector<S extends LabelSelector>(target: S, user: LabelSelector): S {
  if (user.matchLabels) target.matchLabels = { ...(target.matchLabels ?? {}), ...user.matchLabels };
  if (user.matchExpressions && user.matchExpressions.length > 0) {
    target.matchExpressions = [...(target.matchExpressions ?? []), ...user.matchExpressions];
  }
  return target;
}
