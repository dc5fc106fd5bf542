/**
 * The few object fields refwatch itself reads. Objects are otherwise opaque: a Secret, a
 * ConfigMap or a custom resource passes through untouched.
 */

/** The part of metav1.ObjectMeta refwatch reads; the rest of an object's metadata passes through. */
export interface ObjectMeta {
  /** Unique within the namespace (or the cluster, for cluster-scoped objects). */
  name?: string;
  /** Absent or "" for cluster-scoped objects. */
  namespace?: string;
  /** Set by the server; differs between an object and one re-created under its name. */
  uid?: string;
  /**
   * The server's version of this object, opaque except that the kubelet (and refwatch, for
   * its own cache) compares it as an integer; see `parseResourceVersion`.
   */
  resourceVersion?: string;
  /** Identifying key/value pairs, matched by label selectors. */
  labels?: Record<string, string>;
  /** Non-identifying key/value pairs (tools' notes; kubectl's last-applied-configuration). */
  annotations?: Record<string, string>;
}

/** Any Kubernetes object, as far as refwatch looks into it: its type and metadata. */
export interface KubeObject {
  /** "v1" for the core group, "group/version" otherwise (see `apiVersionOf`). */
  apiVersion?: string;
  /** "Secret", "ConfigMap"...; objects inside a list often leave it and apiVersion out. */
  kind?: string;
  /** Name, namespace, resourceVersion and the rest. */
  metadata?: ObjectMeta;
}

/** One page of a list, as the server answers it. */
export interface ObjectList<T> {
  /** The list's apiVersion, that of its items. */
  apiVersion?: string;
  /** "SecretList", "ConfigMapList"... */
  kind?: string;
  /**
   * `resourceVersion`: the version the list is consistent at; a watch from it misses nothing.
   * `continue`: the token for the next page, absent or "" on the last one.
   * `remainingItemCount`: how many items the pages after this one hold, when the server knows.
   */
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  /** The objects of this page, usually without apiVersion and kind of their own. */
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

/** The object's metadata.resourceVersion; undefined when it is not an object or has none (or a non-string one). */
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
