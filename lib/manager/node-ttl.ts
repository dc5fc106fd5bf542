/**
 * ttlFromNode reads the TTL for the Cache strategy from the node object, as the kubelet does:
 * kube-controller-manager's TTL controller writes `node.alpha.kubernetes.io/ttl` (seconds) on
 * every node, from 0 s on small clusters up to 600 s on very large ones, so the GET load of
 * TTL-cached secrets and configmaps stays bounded as the cluster grows.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { GetTtlFunc } from './ttl-object-store.js';

/** The annotation the TTL controller writes on each node: the TTL in seconds, as a decimal string. */
export const NODE_TTL_ANNOTATION = 'node.alpha.kubernetes.io/ttl';

/**
 * `[seconds × 1000, true]` when the node carries a valid annotation ("0" is a valid zero TTL);
 * `[0, false]` when the node cannot be read, has no annotations, or the value is not an
 * integer.
 */
export function ttlFromNode(getNode: () => Promise<V1Node | undefined | null>): GetTtlFunc {
  return async () => {
    let node: V1Node | undefined | null;
    try {
      node = await getNode();
    } catch {
      return [0, false];
    }
    const value = node?.metadata?.annotations?.[NODE_TTL_ANNOTATION];
    // strconv.Atoi: optional sign, decimal digits only, within int64.
    if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value)) return [0, false];
    const seconds = BigInt(value);
    if (seconds < -(2n ** 63n) || seconds >= 2n ** 63n) return [0, false];
    // Go would overflow multiplying by a second; a TTL that cannot be held in ms is no TTL.
    const ms = Number(seconds) * 1000;
    return Number.isSafeInteger(ms) ? [ms, true] : [0, false];
  };
}
