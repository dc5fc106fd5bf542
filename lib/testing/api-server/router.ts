/**
 * URL paths of the embedded API server, parsed the way kube-apiserver lays them out: health and
 * version endpoints, discovery documents, and resource paths for the core group
 * (`/api/v1/...`) and named groups (`/apis/{group}/{version}/...`), namespaced or not. Parsing
 * is purely syntactic; whether a resource exists is the catalog's question.
 */
import { StatusError } from '../../api/errors.js';

/** A path to objects: a collection when `name` is absent. */
export interface ResourcePath {
  /** API group; "" for the core group. */
  group: string;
  /** API version, e.g. "v1". */
  version: string;
  /** Plural resource name as written in the URL. */
  resource: string;
  /** Set when the path went through `/namespaces/{ns}/`; "" otherwise. */
  namespace: string;
  /** True when the path named a namespace: a namespaced collection or object. */
  namespaced: boolean;
  /** The object's name; absent for a collection. */
  name?: string;
  /** `/status`, `/scale`...: parsed so it can be refused by name, not served. */
  subresource?: string;
}

/** What a request path asks for: a health check, discovery, or objects. */
export type Route =
  | { kind: 'health'; check: 'healthz' | 'readyz' | 'livez' }
  | { kind: 'version' }
  /** `/api`: the core group's versions. */
  | { kind: 'coreVersions' }
  /** `/apis`: every named group. */
  | { kind: 'groups' }
  /** `/apis/{group}`: one named group. */
  | { kind: 'group'; group: string }
  /** `/api/v1`, `/apis/{group}/{version}`: the resources of one group version. */
  | { kind: 'resources'; group: string; version: string }
  | { kind: 'objects'; path: ResourcePath };

/**
 * Parses a request path (without the query). Returns undefined for a path this server does not
 * know, which the caller answers with 404; throws a 400 StatusError for a path that is not
 * even well-formed (bad percent-encoding, empty segments).
 */
export function parsePath(pathname: string): Route | undefined {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (!trimmed.startsWith('/')) throw badPath();
  const segments = trimmed === '/' ? [] : trimmed.slice(1).split('/').map(decodeSegment);
  const [first, ...rest] = segments;
  switch (first) {
    case 'healthz':
    case 'readyz':
    case 'livez':
      // kube-apiserver also serves `/readyz/<check>`; every check is healthy here.
      return { kind: 'health', check: first };
    case 'version':
      return rest.length === 0 ? { kind: 'version' } : undefined;
    case 'api':
      if (rest.length === 0) return { kind: 'coreVersions' };
      if (rest[0] !== 'v1') return undefined;
      if (rest.length === 1) return { kind: 'resources', group: '', version: 'v1' };
      return objects('', 'v1', rest.slice(1));
    case 'apis':
      if (rest.length === 0) return { kind: 'groups' };
      if (rest.length === 1) return { kind: 'group', group: rest[0] };
      if (rest.length === 2) return { kind: 'resources', group: rest[0], version: rest[1] };
      return objects(rest[0], rest[1], rest.slice(2));
    default:
      return undefined;
  }
}

/** `[namespaces, ns, resource, name?, sub?]` or `[resource, name?, sub?]`. */
function objects(group: string, version: string, rest: string[]): Route | undefined {
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length > 5) return undefined;
    const [, namespace, resource, name, subresource] = rest;
    return { kind: 'objects', path: { group, version, resource, namespace, namespaced: true, name, subresource } };
  }
  if (rest.length > 3) return undefined;
  const [resource, name, subresource] = rest;
  return { kind: 'objects', path: { group, version, resource, namespace: '', namespaced: false, name, subresource } };
}

function decodeSegment(segment: string): string {
  if (segment === '') throw badPath();
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badPath();
  }
}

function badPath(): StatusError {
  return new StatusError(400, 'BadRequest', 'the request path is malformed');
}
