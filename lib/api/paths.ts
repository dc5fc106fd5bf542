/**
 * URL paths of the Kubernetes REST API for a ResourceType: the core group under /api, named
 * groups under /apis, and the namespace segment only for namespaced resources.
 */
import type { ResourceType } from './resource.js';

export function collectionPath(rt: ResourceType, namespace: string): string {
  const base = rt.group === '' ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
  return rt.namespaced && namespace !== '' ? `${base}/namespaces/${encodeURIComponent(namespace)}/${rt.resource}` : `${base}/${rt.resource}`;
}

export function objectPath(rt: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(rt, namespace)}/${encodeURIComponent(name)}`;
}

/** `path?k=v&...` with undefined values left out and booleans as "true"/"false". */
export function withQuery(path: string, query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
