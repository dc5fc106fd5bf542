/**
 * The resources the embedded API server serves: refwatch's built-ins (Secrets, ConfigMaps,
 * Pods, Nodes, Namespaces), any custom resources a test declares, and, when the server serves
 * CustomResourceDefinitions, whatever the CRDs in its storage define. Routing
 * and discovery both read it, so a resource is served exactly when it is advertised.
 */
import { resources, type ResourceType } from '../../api/resource.js';
import type { ObjectStorage } from '../object-storage.js';
import { customResourceDefinitions, servedBy, type ServedCustomResource } from './custom-resources.js';

/** What every embedded server serves without being told: secrets, configmaps, pods, nodes, namespaces. */
export const builtinResources: readonly ResourceType[] = [resources.secrets, resources.configMaps, resources.pods, resources.nodes, resources.namespaces];

/** The resources a server serves, by group, version and plural: the built-ins, the given ones, and those its stored CRDs define. */
export class ResourceCatalog {
  private readonly byPath = new Map<string, ResourceType>();

  /**
   * @param custom served besides the built-ins; one with the same group, version and plural replaces a built-in.
   * @param definitions when given, CustomResourceDefinitions are served and the ones stored
   *   here define more resources; they are read on each lookup (by name, `<plural>.<group>`), so
   *   a CRD written straight into the storage is served as one created over HTTP.
   */
  constructor(
    custom: readonly ResourceType[] = [],
    private readonly definitions?: ObjectStorage,
  ) {
    const extra = definitions ? [customResourceDefinitions] : [];
    for (const rt of [...builtinResources, ...extra, ...custom]) this.byPath.set(key(rt.group, rt.version, rt.resource), rt);
  }

  /** The resource served at this group, version and plural; undefined when none is. */
  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byPath.get(key(group, version, resource)) ?? this.defined(group, version, resource)?.resource;
  }

  /** True for a resource a CRD serves with the status subresource. */
  hasStatus(rt: ResourceType): boolean {
    return this.defined(rt.group, rt.version, rt.resource)?.status === true;
  }

  /** True for a resource a CRD serves (its writes follow the custom-resource rules). */
  isDefined(rt: ResourceType): boolean {
    return !this.byPath.has(key(rt.group, rt.version, rt.resource)) && this.defined(rt.group, rt.version, rt.resource) !== undefined;
  }

  /** Every resource served now, the ones stored CRDs define included. */
  all(): ResourceType[] {
    const out = [...this.byPath.values()];
    if (!this.definitions) return out;
    for (const crd of this.definitions.list(customResourceDefinitions, '').items) {
      for (const served of servedBy(crd)) if (!this.byPath.has(key(served.resource.group, served.resource.version, served.resource.resource))) out.push(served.resource);
    }
    return out;
  }

  /** The CRD-defined resource at this path, if CRDs are served and one defines it. */
  private defined(group: string, version: string, resource: string): ServedCustomResource | undefined {
    if (!this.definitions || group === '') return undefined;
    let crd: unknown;
    try {
      crd = this.definitions.get(customResourceDefinitions, '', `${resource}.${group}`);
    } catch {
      return undefined;
    }
    return servedBy(crd).find((s) => s.resource.version === version && s.resource.resource === resource);
  }

  /** Named groups (not the core group) and their versions, in declaration order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const rt of this.all()) {
      if (rt.group === '') continue;
      const versions = out.get(rt.group) ?? [];
      if (!versions.includes(rt.version)) versions.push(rt.version);
      out.set(rt.group, versions);
    }
    return out;
  }
}

function key(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}
