/**
 * The resources the embedded API server serves: refwatch's built-ins (Secrets, ConfigMaps,
 * Pods, Nodes, Namespaces) and any custom resources a test declares. Routing
 * and discovery both read it, so a resource is served exactly when it is advertised.
 */
import { resources, type ResourceType } from '../../api/resource.js';

export const builtinResources: readonly ResourceType[] = [resources.secrets, resources.configMaps, resources.pods, resources.nodes, resources.namespaces];

export class ResourceCatalog {
  private readonly byPath = new Map<string, ResourceType>();

  /** @param custom served besides the built-ins; one with the same group, version and plural replaces a built-in. */
  constructor(custom: readonly ResourceType[] = []) {
    for (const rt of [...builtinResources, ...custom]) this.byPath.set(key(rt.group, rt.version, rt.resource), rt);
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byPath.get(key(group, version, resource));
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }

  /** Named groups (not the core group) and their versions, in declaration order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const rt of this.byPath.values()) {
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
