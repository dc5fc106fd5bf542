/**
 * PodDesiredState is the DesiredState of a Kubernetes node: the pods bound to it, as refwatch
 * keeps them fresh, each seen as an owner of runtime containers. A pod's phase (and its Ready
 * condition) gives the owner's status, its latest condition transition the `updatedAt` the
 * grace window counts from, its container statuses the container ids it accounts for. The
 * authoritative re-fetch the watchdog makes before reaping is a GET of the pod through the same
 * client, so a lagging watch can never be the only witness against a running pod.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../api/errors.js';
import type { ObjectSource } from '../api/source.js';
import { raceAbort } from '../util/abort.js';
import type { Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { toLogger, type LoggerLike } from '../util/logger.js';
import type { DesiredState, Owner, OwnerStatus } from './desired-state.js';
import { checkNodeName, NodePodReflector, type NodePodLister } from './node-pods.js';
import type { RuntimeCallOptions } from './runtime.js';

/** Where the node's pods come from, and how a pod maps to its containers. */
export interface PodDesiredStateOptions {
  /** Pods, all namespaces; the re-fetch GETs through it (and the default lister watches through it). */
  source: ObjectSource<V1Pod>;
  /** This node's name; pods bound elsewhere are not this node's owners. A DNS-1123 subdomain (TypeError otherwise). */
  nodeName: string;
  /**
   * Where the node's pods are read from. Default: a NodePodReflector over `source`, which
   * start() starts and close() stops. Give an indexed Informer (fieldSelector
   * `spec.nodeName=<node>`) to share one with other consumers; its lifecycle stays yours.
   */
  pods?: NodePodLister;
  /**
   * The runtime container ids a pod accounts for. Default podContainerIds: the ids in its
   * container statuses, without the `containerd://` prefix, as the kubelet publishes them.
   * An agent that names containers itself (say `<pod uid>-<container name>`) passes its rule.
   */
  containerIds?: (pod: V1Pod) => string[];
  /** For the default lister's reflector. */
  clock?: Clock;
  /** For the default lister's reflector. Any LoggerLike; default: none. */
  logger?: LoggerLike;
}

/** A DNS-1123 label (a namespace) and subdomain (a pod name): what a GET path may carry. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The DesiredState of a Kubernetes node: its pods as owners (phase and Ready give the status, the last
 * condition transition `updatedAt`, the container statuses the container ids), with the re-fetch
 * before a reap as a GET through the same source. start() starts the default lister, close() or `await
 * using` stops it.
 */
export class PodDesiredState implements DesiredState, AsyncCloseable {
  /** The node whose pods are its owners. */
  readonly nodeName: string;
  private readonly source: ObjectSource<V1Pod>;
  private readonly pods: NodePodLister;
  private readonly owned: NodePodReflector | undefined;
  private readonly containerIds: (pod: V1Pod) => string[];

  /**
   * Builds the desired state; the default lister lists nothing until start().
   * @throws TypeError for a node name that is not a DNS-1123 subdomain.
   */
  constructor(opts: PodDesiredStateOptions) {
    checkNodeName(opts.nodeName);
    this.nodeName = opts.nodeName;
    this.source = opts.source;
    this.containerIds = opts.containerIds ?? podContainerIds;
    if (opts.pods) {
      this.pods = opts.pods;
    } else {
      this.owned = new NodePodReflector({ source: opts.source, nodeName: opts.nodeName, clock: opts.clock, logger: toLogger(opts.logger) });
      this.pods = this.owned;
    }
  }

  /** Starts the default lister (nothing to do for an injected one). */
  start(): void {
    this.owned?.start();
  }

  /** Stops the default lister. Idempotent. */
  async close(): Promise<void> {
    await this.owned?.close();
  }

  /** `await using` support: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The node's pods as owners, once the lister has synced (never an unsynced, empty list). */
  async list(opts: RuntimeCallOptions = {}): Promise<Owner[]> {
    await this.pods.synced(opts.signal);
    return this.pods.list().map((pod) => podOwner(pod, this.containerIds));
  }

  /**
   * A GET of the pod `namespace/name`: undefined when the API server says it does not exist or
   * it is bound to another node, and for an id that cannot name a pod (no request is made).
   * Any other failure rejects.
   */
  async get(id: string, opts: RuntimeCallOptions = {}): Promise<Owner | undefined> {
    const slash = typeof id === 'string' ? id.indexOf('/') : -1;
    if (slash < 0) return undefined;
    const namespace = id.slice(0, slash);
    const name = id.slice(slash + 1);
    if (!DNS_LABEL.test(namespace) || namespace.length > 63 || !DNS_SUBDOMAIN.test(name) || name.length > 253) return undefined;
    let pod: V1Pod;
    try {
      const request = this.source.get(namespace, name, { signal: opts.signal });
      pod = await (opts.signal ? raceAbort(request, opts.signal) : request);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (pod.spec?.nodeName !== this.nodeName) return undefined;
    return podOwner(pod, this.containerIds);
  }
}

/** The owner id of a pod, `namespace/name`: what its containers' owner label carries. */
export function podOwnerId(pod: V1Pod): string {
  return `${stringOr(pod?.metadata?.namespace)}/${stringOr(pod?.metadata?.name)}`;
}

/** A pod as an Owner. Never throws: fields of the wrong type read as absent. */
export function podOwner(pod: V1Pod, containerIds: (pod: V1Pod) => string[] = podContainerIds): Owner {
  return {
    id: podOwnerId(pod),
    status: podOwnerStatus(pod),
    updatedAt: podUpdatedAt(pod),
    containers: containerIds(pod),
    images: podImages(pod),
  };
}

/**
 * Pending → PENDING; Running → RUNNING when the Ready condition is True, else NOT_READY;
 * Succeeded and Failed → DEAD; Unknown (the node lost touch) → NOT_READY, which keeps the
 * containers. A pod without a phase yet is PENDING. A terminating pod keeps its phase: its
 * containers are stopped by the kubelet, not reaped.
 */
export function podOwnerStatus(pod: V1Pod): OwnerStatus {
  switch (pod?.status?.phase) {
    case 'Running':
      return arrayOf(pod.status.conditions).some((c) => c?.type === 'Ready' && c?.status === 'True') ? 'RUNNING' : 'NOT_READY';
    case 'Succeeded':
    case 'Failed':
      return 'DEAD';
    case 'Unknown':
      return 'NOT_READY';
    default:
      return 'PENDING';
  }
}

/**
 * Epoch ms of the pod's last transition: the latest `lastTransitionTime` of its conditions,
 * else its start time, else its creation time, else 0.
 */
export function podUpdatedAt(pod: V1Pod): number {
  const transitions = arrayOf(pod?.status?.conditions)
    .map((c) => epochMs(c?.lastTransitionTime))
    .filter((t): t is number => t !== undefined);
  if (transitions.length > 0) return Math.max(...transitions);
  return epochMs(pod?.status?.startTime) ?? epochMs(pod?.metadata?.creationTimestamp) ?? 0;
}

/**
 * The runtime ids of a pod's containers (init, regular and ephemeral) from its statuses, with
 * the `<runtime>://` prefix the kubelet puts in front removed.
 */
export function podContainerIds(pod: V1Pod): string[] {
  const status = pod?.status;
  const statuses = [...arrayOf(status?.initContainerStatuses), ...arrayOf(status?.containerStatuses), ...arrayOf(status?.ephemeralContainerStatuses)];
  return statuses
    .map((s) => stringOr(s?.containerID))
    .map((id) => {
      const scheme = id.indexOf('://');
      return scheme < 0 ? id : id.slice(scheme + 3);
    })
    .filter((id) => id !== '');
}

/** The images of a pod's containers, as containerd names them (`nginx` is `docker.io/library/nginx:latest`). */
export function podImages(pod: V1Pod): string[] {
  const spec = pod?.spec;
  const containers = [...arrayOf(spec?.initContainers), ...arrayOf(spec?.containers), ...arrayOf(spec?.ephemeralContainers)];
  return [
    ...new Set(
      containers
        .map((c) => stringOr(c?.image))
        .filter((i) => i !== '')
        .map(normalizeImageName),
    ),
  ];
}

/**
 * Docker's reference normalisation, which containerd's image names follow: a name without a
 * registry is on docker.io, a single-component docker.io name is under `library/`, and a name
 * with neither tag nor digest is `:latest`.
 */
export function normalizeImageName(image: string): string {
  let name = image;
  const first = name.split('/')[0];
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${name}`;
  if (/^docker\.io\/[^/]+$/.test(name.replace(/[:@].*$/, ''))) name = name.replace(/^docker\.io\//, 'docker.io/library/');
  const lastComponent = name.slice(name.lastIndexOf('/') + 1);
  if (!lastComponent.includes(':') && !lastComponent.includes('@')) name = `${name}:latest`;
  return name;
}

/** `value` if it is an array, else empty: a malformed pod reads as one without those entries. */
function arrayOf<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

function stringOr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function epochMs(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
