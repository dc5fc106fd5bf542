/**
 * URL paths of the Kubernetes REST API for a ResourceType: the core group under /api, named
 * groups under /apis, and the namespace segment only for namespaced resources. This is the
 * lowest layer that puts names into paths, so it refuses the ones that would change the path's
 * meaning (`..`, `.`, `a/b`, `%2F`...; see names.ts) by throwing InvalidNameError: nothing
 * above it can build a request for another object or a whole collection by accident.
 */
import { checkNamespace, checkObjectName } from './names.js';
import type { ResourceType } from './resource.js';

/**
 * The collection's path. Throws InvalidNameError for a namespace that is not a valid path
 * segment; the empty namespace means all namespaces (or none, for cluster-scoped resources).
 */
export function collectionPath(rt: ResourceType, namespace: string): string {
  const base = rt.group === '' ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
  if (!rt.namespaced || namespace === '') return `${base}/${rt.resource}`;
  const invalid = checkNamespace(namespace);
  if (invalid) throw invalid;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${rt.resource}`;
}

/** One object's path. Throws InvalidNameError for an empty name or one that is not a valid path segment. */
export function objectPath(rt: ResourceType, namespace: string, name: string): string {
  const collection = collectionPath(rt, namespace);
  const invalid = checkObjectName('', name);
  if (invalid) throw invalid;
  return `${collection}/${encodeURIComponent(name)}`;
}

/**
 * `path?k=v&...` with undefined values left out and booleans as "true"/"false", as one flat
 * string: a watch's path lives as long as its stream, and built by `+` it would be a rope of
 * some 25 pieces (about 1.4 KB per watch, issue 9) instead of one string of its length.
 */
export function withQuery(path: string, query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  // Array.join copies into one new sequential string; its pieces become garbage.
  return qs ? [path, '?', qs].join('') : path;
}
