/**
 * Which objects the sandbox cache holds and how each informer is filtered (upstream's
 * BuildCacheConfig, shared by production and tests): the four agent kinds limited to the
 * sandbox namespace and label selector when set; Secrets and ConfigMaps only with a system
 * namespace, limited to it; PersistentVolumes always, unfiltered. The Provider itself reads
 * only the agent kinds; the other entries are for the rest of a sandbox manager, which can
 * build its informers from the same table.
 */
import type { ResourceType } from '../../lib/index.js';
import { resources } from '../../lib/index.js';
import { sandboxResources } from './types.js';

export const persistentVolumes: ResourceType = { group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false };

export interface CacheOptions {
  /** Only this namespace's agent objects; "" or absent: every namespace. */
  sandboxNamespace?: string;
  /** Only agent objects matching this label selector. */
  sandboxLabelSelector?: string;
  /** Cache Secrets and ConfigMaps of this namespace (and only when set). */
  systemNamespace?: string;
}

/** How one kind's informer is filtered. Objects are never copied (the Informer's freeze default applies to all). */
export interface InformerFilter {
  resource: ResourceType;
  namespace?: string;
  labelSelector?: string;
}

/**
 * The informer filters for `opts`, agent kinds first.
 * @throws Error "failed to parse sandbox label selector ..." for a selector that does not parse.
 */
export function buildCacheConfig(opts: CacheOptions = {}): InformerFilter[] {
  if (opts.sandboxLabelSelector) {
    const problem = labelSelectorProblem(opts.sandboxLabelSelector);
    if (problem) throw new Error(`failed to parse sandbox label selector ${JSON.stringify(opts.sandboxLabelSelector)}: ${problem}`);
  }
  const agent = (resource: ResourceType): InformerFilter => {
    const filter: InformerFilter = { resource };
    if (opts.sandboxNamespace) filter.namespace = opts.sandboxNamespace;
    if (opts.sandboxLabelSelector) filter.labelSelector = opts.sandboxLabelSelector;
    return filter;
  };
  const out = Object.values(sandboxResources).map(agent);
  if (opts.systemNamespace) {
    out.push({ resource: resources.secrets, namespace: opts.systemNamespace }, { resource: resources.configMaps, namespace: opts.systemNamespace });
  }
  out.push({ resource: persistentVolumes });
  return out;
}

/** apimachinery's label key: an optional DNS-subdomain prefix and a name of up to 63 characters. */
const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Why a label selector would not parse (labels.Parse's grammar: `k`, `!k`, `k=v`, `k==v`,
 * `k!=v`, `k in (a,b)`, `k notin (a,b)`, comma-separated), or undefined when it parses.
 */
export function labelSelectorProblem(selector: string): string | undefined {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return 'unbalanced parenthesis';
    else if (ch === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return 'unbalanced parenthesis';
  terms.push(selector.slice(start));
  for (const raw of terms) {
    const term = raw.trim();
    let m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (m) {
      if (!KEY.test(m[1])) return `invalid label key ${JSON.stringify(m[1])}`;
      const values = m[3].split(',').map((v) => v.trim());
      if (values.some((v) => !VALUE.test(v))) return `invalid label value in ${JSON.stringify(term)}`;
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      if (!KEY.test(m[1])) return `invalid label key ${JSON.stringify(m[1])}`;
      if (!VALUE.test(m[3])) return `invalid label value ${JSON.stringify(m[3])}`;
      continue;
    }
    m = /^!?\s*(\S+)$/.exec(term);
    if (m && KEY.test(m[1])) continue;
    return `unable to parse requirement ${JSON.stringify(term)}`;
  }
  return undefined;
}
