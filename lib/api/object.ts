/**
 * The few object fields refwatch itself reads. Objects are otherwise opaque: a Secret, a
 * ConfigMap or a custom resource passes through untouched.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/**
 * "ns/name", or "name" for cluster-scoped objects: client-go's MetaNamespaceKeyFunc, for
 * display. Not a map key for input from outside: "a/b" + "c" and "a" + "b/c" give the same
 * string; use `namespacedKey`.
 */
export function objectKey(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

/**
 * A map key for the pair (namespace, name) that no two pairs share, whatever they contain: the
 * namespace's length goes first. The stores key by it, so a pod in namespace "a/b" referencing
 * "c" can never be handed namespace "a"'s "b/c".
 */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace.length}:${namespace}/${name}`;
}

/** The metadata of a value that may not be an object at all; undefined when it has none. */
export function metaOf(obj: unknown): ObjectMeta | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const meta = (obj as KubeObject).metadata;
  return meta !== null && typeof meta === 'object' ? meta : undefined;
}

export function resourceVersionOf(obj: unknown): string | undefined {
  const rv = metaOf(obj)?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

/**
 * A resourceVersion as an integer, the way the kubelet compares them
 * (storage.APIObjectVersioner): empty or unparsable counts as 0. Only the API server may
 * compare RVs in general; the kubelet does it for its own cache, and so do we.
 */
export function parseResourceVersion(rv: string | undefined): bigint {
  if (!rv || !/^\d+$/.test(rv)) return 0n;
  return BigInt(rv);
}
