/**
 * ResourceType names a kind of object on the API server: enough to build its URL path and to
 * word its errors the way the server does. Built-ins cover what the kubelet's managers watch;
 * custom resources are declared the same way.
 */
export interface ResourceType {
  /** API group; "" for the core group (secrets, configmaps, pods, nodes). */
  group: string;
  /** API version within the group: "v1", "v1beta1". */
  version: string;
  /** Plural resource name as it appears in URLs: "secrets", "containerprofiles". */
  resource: string;
  /** Kind as it appears in objects: "Secret". */
  kind: string;
  /** Namespaced resources live under /namespaces/<ns>/; cluster-scoped ones do not. */
  namespaced: boolean;
}

/**
 * The built-in resource types refwatch's managers and watchdogs read. Declared `as const`, so
 * each keeps its literal kind and resource names; pass any other ResourceType the same way.
 */
export const resources = {
  secrets: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  configMaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  pods: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  nodes: { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
} as const satisfies Record<string, ResourceType>;

/** "v1" for the core group, "group/version" otherwise: the apiVersion of its objects. */
export function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

/**
 * The name the kubelet uses for this resource in its own messages: the lower-cased kind, plus
 * the group for non-core resources ("secret", "configmap", "containerprofile.spdx...io"). It is
 * what upstream passes as `corev1.Resource("secret")`, so errors read exactly as the kubelet's.
 */
export function singularName(rt: ResourceType): string {
  const kind = rt.kind.toLowerCase();
  return rt.group === '' ? kind : `${kind}.${rt.group}`;
}
