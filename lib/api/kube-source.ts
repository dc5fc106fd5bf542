/**
 * kubeSource: the ObjectSource for a real cluster, from a client-node KubeConfig. It exists so
 * the common case is one line; sources that should share connections (all of them, usually)
 * get the same KubeClient, given explicitly or the shared one for that trust and credentials.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './kube-client.js';
import type { ResourceType } from './resource.js';
import type { ObjectSource } from './source.js';

/** Options of `kubeSource`. */
export interface KubeSourceOptions {
  /**
   * The client whose connections to use. Default: `KubeClient.shared(kc)`, one per distinct
   * trust and credentials (the whole current cluster and user) in this process. Pass
   * your own to choose pool settings or to close its connections deterministically with
   * `client.close()`.
   */
  client?: KubeClient;
}

/**
 * The ObjectSource of one resource type on the cluster `kc` points at: the one-line way to feed
 * a store or a manager from a real cluster. Nothing is sent until the source is first used.
 *
 * @param kc the kubeconfig; with no `opts.client`, its current cluster and user pick (or make)
 *   the shared client, which works from a copy taken now.
 * @param resource what the source reads, e.g. `resources.secrets`.
 * @throws Error when no client is given and `kc` has no current cluster with a usable server
 *   address (see `KubeClient`).
 */
export function kubeSource<T>(kc: KubeConfig, resource: ResourceType, opts: KubeSourceOptions = {}): ObjectSource<T> {
  return (opts.client ?? KubeClient.shared(kc)).source<T>(resource);
}
