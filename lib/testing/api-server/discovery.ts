/**
 * The discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`) and
 * `/version`, in kube-apiserver's legacy (non-aggregated) JSON form. They let kubectl and
 * client libraries that discover before they call find the served resources; clients that
 * ask for aggregated discovery fall back to this form when the server answers plain JSON.
 */
import type { ResourceType } from '../../api/resource.js';
import type { ResourceCatalog } from './catalog.js';

/** Every verb the embedded server serves on every resource (no deletecollection). */
const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** kubectl resolves `cm`, `ns`... through discovery; these are the core group's own short names. */
const CORE_SHORT_NAMES: Record<string, string[]> = { configmaps: ['cm'], namespaces: ['ns'], nodes: ['no'], pods: ['po'] };

/**
 * The Kubernetes minor version this server imitates: the one whose watch semantics it follows
 * (WatchList with sendInitialEvents, bookmarks on by default in clients).
 */
const KUBE_MINOR = '31';

/** The `/version` answer: a Kubernetes version whose watch semantics this server follows. */
export function versionInfo(): object {
  return {
    major: '1',
    minor: KUBE_MINOR,
    gitVersion: `v1.${KUBE_MINOR}.0-refwatch`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: 'none',
    compiler: 'none',
    platform: `${process.platform}/${process.arch}`,
  };
}

/** `/api`. `serverAddress` is "host:port" as clients reach it. */
export function coreVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** `/apis`. */
export function groupList(catalog: ResourceCatalog): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...catalog.groups()].map(([name, versions]) => apiGroup(name, versions)) };
}

/** `/apis/{group}`, or undefined when no served resource is in that group. */
export function group(catalog: ResourceCatalog, name: string): object | undefined {
  const versions = catalog.groups().get(name);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(name, versions) } : undefined;
}

/** `/api/v1`, `/apis/{group}/{version}`, or undefined when nothing is served there. */
export function resourceList(catalog: ResourceCatalog, groupName: string, version: string): object | undefined {
  const served = catalog.all().filter((rt) => rt.group === groupName && rt.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`,
    resources: served.flatMap((rt) => (catalog.hasStatus(rt) ? [apiResource(rt), statusResource(rt)] : [apiResource(rt)])),
  };
}

/** The `<plural>/status` entry kube-apiserver lists for a resource with the status subresource. */
function statusResource(rt: ResourceType): object {
  return { name: `${rt.resource}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] };
}

function apiGroup(name: string, versions: string[]): object {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

function apiResource(rt: ResourceType): object {
  const doc: Record<string, unknown> = { name: rt.resource, singularName: rt.kind.toLowerCase(), namespaced: rt.namespaced, kind: rt.kind, verbs: VERBS };
  const shortNames = rt.group === '' ? CORE_SHORT_NAMES[rt.resource] : undefined;
  if (shortNames) doc.shortNames = shortNames;
  return doc;
}
