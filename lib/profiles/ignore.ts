/**
 * Which containers the profile cache never profiles: node-agent's `IgnoreContainer` rules
 * (pkg/config), applied to add events only, so an entry added before its pod's labels matched
 * is still removed by its remove event. Host containers are never ignored.
 */
import type { ContainerInfo } from './container-events.js';

/** The ID the runtime watcher gives the host itself (armoapi-go `armotypes.HostContainerID`). */
export const HOST_CONTAINER_ID = 'host';
/** The namespace a host container is filed under. */
export const HOST_NAMESPACE = 'host';

/**
 * node-agent's `IgnoreContainer` configuration: which add events the cache drops. Every field is
 * optional; with none set only containers without a namespace are ignored (see ignoreContainer).
 */
export interface IgnoreRules {
  /** The agent's own namespace (upstream's `NAMESPACE_NAME`); its containers are never profiled. Default "". */
  namespaceName?: string;
  /** When non-empty, only these namespaces are profiled and `excludeNamespaces` is not consulted. */
  includeNamespaces?: readonly string[];
  /** Namespaces never profiled; ignored when `includeNamespaces` is non-empty. */
  excludeNamespaces?: readonly string[];
  /** Pod label key to values; a pod whose label equals one of the values (case-insensitively) is not profiled. */
  excludeLabels?: Readonly<Record<string, readonly string[]>>;
  /** Upstream's `MULTIPLY=true`: also ignore pods whose name starts with `node-agent`. */
  multiply?: boolean;
}

/**
 * Whether the container is the host itself (pid 1, or the watcher's `host` ID); host containers are
 * never ignored and are filed under namespace "host".
 */
export function isHostContainer(container: Pick<ContainerInfo, 'pid' | 'containerID'>): boolean {
  return container.pid === 1 || container.containerID === HOST_CONTAINER_ID;
}

/** Upstream's `SkipNamespace`: an include list wins over an exclude list. */
export function skipNamespace(rules: IgnoreRules, namespace: string): boolean {
  if (rules.includeNamespaces && rules.includeNamespaces.length > 0) return !rules.includeNamespaces.includes(namespace);
  return (rules.excludeNamespaces ?? []).includes(namespace);
}

/**
 * The rules in upstream's order. Note the first: with no agent namespace configured, containers
 * with an empty namespace (those not run by Kubernetes) are ignored, exactly as upstream does.
 */
export function ignoreContainer(rules: IgnoreRules, namespace: string, podName: string, podLabels: Readonly<Record<string, string>> = {}): boolean {
  if (namespace === (rules.namespaceName ?? '')) return true;
  if (rules.multiply && podName.startsWith('node-agent')) return true;
  if (skipNamespace(rules, namespace)) return true;
  for (const [key, values] of Object.entries(rules.excludeLabels ?? {})) {
    const value = podLabels[key];
    if (value === undefined) continue;
    if (values.some((v) => v.toLowerCase() === value.toLowerCase())) return true;
  }
  return false;
}
