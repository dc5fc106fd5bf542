/**
 * CustomResourceDefinitions on the embedded server, as apiextensions-apiserver treats them:
 * a CRD object stored under apiextensions.k8s.io/v1 makes its resource served (every served
 * version), and a custom resource whose version declares `subresources.status` follows the
 * status-subresource write rules a controller depends on:
 *
 * - create drops `status` and sets `metadata.generation` to 1;
 * - a write to the object keeps the stored status, and bumps the generation only when
 *   something other than metadata and status changed (with no status subresource: anything
 *   other than metadata);
 * - a write to `/status` changes only the status (and never the generation).
 *
 * Not modelled: schema validation and pruning, defaulting, conversion between versions, the
 * scale subresource, and deleting a CRD's objects with it.
 */
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceType } from '../../api/resource.js';

/** The CustomResourceDefinition resource itself (apiextensions.k8s.io/v1), served when a server takes CRDs. */
export const customResourceDefinitions: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

/** A resource a CRD serves, and whether that version has the status subresource. */
export interface ServedCustomResource {
  /** The resource at this version. */
  resource: ResourceType;
  /** Whether this version has the status subresource. */
  status: boolean;
}

interface CrdShape {
  metadata?: { name?: string };
  spec?: {
    group?: unknown;
    scope?: unknown;
    names?: { plural?: unknown; kind?: unknown };
    versions?: Array<{ name?: unknown; served?: unknown; subresources?: { status?: unknown } }>;
  };
}

/** The versions a stored CRD serves; [] for one too malformed to serve (never throws). */
export function servedBy(crd: unknown): ServedCustomResource[] {
  const spec = (crd as CrdShape | null)?.spec;
  const group = spec?.group;
  const plural = spec?.names?.plural;
  const kind = spec?.names?.kind;
  if (typeof group !== 'string' || typeof plural !== 'string' || typeof kind !== 'string' || !Array.isArray(spec?.versions)) return [];
  const namespaced = spec.scope !== 'Cluster';
  const out: ServedCustomResource[] = [];
  for (const v of spec.versions) {
    if (typeof v?.name !== 'string' || v.served === false) continue;
    const status = v.subresources?.status !== undefined && v.subresources.status !== null;
    out.push({ resource: { group, version: v.name, resource: plural, kind, namespaced }, status });
  }
  return out;
}

/**
 * The checks apiextensions-apiserver makes that matter to a client: the name is
 * `<plural>.<group>`, names and scope are given, at least one version is served. Then the CRD
 * is marked accepted and established at once (a real server takes a moment; clients wait for
 * the Established condition either way).
 * @throws StatusError 422 Invalid
 */
export function admitDefinition(crd: KubeObject): KubeObject {
  const c = crd as KubeObject & CrdShape & { status?: unknown };
  const spec = c.spec;
  const plural = spec?.names?.plural;
  const group = spec?.group;
  const invalid = (field: string, detail: string) =>
    new StatusError(422, 'Invalid', `CustomResourceDefinition.apiextensions.k8s.io "${c.metadata?.name ?? ''}" is invalid: ${field}: ${detail}`, {
      name: c.metadata?.name,
      group: customResourceDefinitions.group,
      kind: 'CustomResourceDefinition',
      causes: [{ reason: 'FieldValueInvalid', field, message: detail }],
    });
  if (typeof group !== 'string' || group === '') throw invalid('spec.group', 'Required value');
  if (typeof plural !== 'string' || plural === '') throw invalid('spec.names.plural', 'Required value');
  if (typeof spec?.names?.kind !== 'string' || spec.names.kind === '') throw invalid('spec.names.kind', 'Required value');
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') throw invalid('spec.scope', 'Unsupported value: must be Namespaced or Cluster');
  if (c.metadata?.name !== `${plural}.${group}`) throw invalid('metadata.name', `Invalid value: must be spec.names.plural+"."+spec.group`);
  if (servedBy(crd).length === 0) throw invalid('spec.versions', 'Invalid value: must have exactly one version marked as storage version and at least one served');
  const conditions = ['NamesAccepted', 'Established'].map((type) => ({
    type,
    status: 'True',
    reason: type === 'Established' ? 'InitialNamesAccepted' : 'NoConflicts',
    lastTransitionTime: new Date(0).toISOString(),
  }));
  return { ...crd, status: { acceptedNames: spec.names, storedVersions: servedBy(crd).map((s) => s.resource.version), conditions } } as KubeObject;
}

/** A custom resource on create: no status with the subresource, generation 1. */
export function prepareCreate(obj: KubeObject, status: boolean): KubeObject {
  const out = { ...obj, metadata: { ...obj.metadata, generation: 1 } } as KubeObject & { status?: unknown };
  if (status) delete out.status;
  return out;
}

/** A custom resource written through the object's own path. */
export function prepareUpdate(old: KubeObject, obj: KubeObject, status: boolean): KubeObject {
  const out = { ...obj } as KubeObject & { status?: unknown };
  if (status) {
    if ((old as { status?: unknown }).status === undefined) delete out.status;
    else out.status = (old as { status?: unknown }).status;
  }
  const changed = canonical(withoutMetaAndStatus(old, status)) !== canonical(withoutMetaAndStatus(out, status));
  const generation = generationOf(old) + (changed ? 1 : 0);
  out.metadata = { ...obj.metadata, generation } as KubeObject['metadata'];
  return out;
}

/** A custom resource written through `/status`: the stored object with only the new status. */
export function prepareStatusUpdate(old: KubeObject, obj: KubeObject): KubeObject {
  const out = { ...old, metadata: { ...old.metadata, resourceVersion: obj.metadata?.resourceVersion } } as KubeObject & { status?: unknown };
  const next = (obj as { status?: unknown }).status;
  if (next === undefined) delete out.status;
  else out.status = next;
  return out;
}

function generationOf(obj: KubeObject): number {
  const g = (obj.metadata as { generation?: unknown } | undefined)?.generation;
  return typeof g === 'number' && Number.isSafeInteger(g) ? g : 1;
}

/** The fields whose change bumps the generation. */
function withoutMetaAndStatus(obj: KubeObject, status: boolean): unknown {
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind' || (status && key === 'status')) continue;
    rest[key] = (obj as Record<string, unknown>)[key];
  }
  return rest;
}

/** JSON with object keys sorted at every level: equal content, equal text, whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
