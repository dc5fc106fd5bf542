/**
 * The pods bound to one node, kept fresh by one reflector: what a node agent's desired state is
 * read from. `NodePodLister` is the narrow interface PodDesiredState needs (list, get, synced),
 * so anything that keeps such pods can stand behind it: this file's NodePodReflector (a Reflector
 * with `fieldSelector=spec.nodeName=<node>` filling a plain map), or an indexed Informer with the
 * same field selector, which has exactly these three methods.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { objectKey } from '../api/object.js';
import type { ObjectSource } from '../api/source.js';
import { listWatchFor } from '../cache/list-watch.js';
import { Reflector } from '../cache/reflector.js';
import type { ReflectorSink } from '../cache/sink.js';
import { raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';

/**
 * Contract: `list` and `get` answer from memory and never block; they may lag the API server
 * by one watch event. `synced` resolves once the first full list has been stored (and at once
 * afterwards); before that `list` is empty and means nothing.
 */
export interface NodePodLister {
  /** The node's pods, from memory; empty and meaningless before synced(). */
  list(): V1Pod[];
  /** One of the node's pods, from memory; undefined when it is not there. */
  get(namespace: string, name: string): V1Pod | undefined;
  /** Resolves once the first full list is stored; rejects when `signal` aborts first. */
  synced(signal?: AbortSignal): Promise<void>;
}

/**
 * A node name as Kubernetes allows it (a DNS-1123 subdomain). Checked because it goes into a
 * field selector: a name with `,` or `=` in it would add terms to the selector.
 */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NODE_NAME_LENGTH = 253;

/** Throws a TypeError unless `nodeName` is a valid Kubernetes node name. */
export function checkNodeName(nodeName: string): void {
  if (typeof nodeName !== 'string' || nodeName.length > MAX_NODE_NAME_LENGTH || !NODE_NAME.test(nodeName)) {
    throw new TypeError(`${JSON.stringify(String(nodeName).slice(0, 64))} is not a valid node name (a DNS-1123 subdomain)`);
  }
}

/** Stopped before its first list: synced() callers are told instead of waiting forever. */
export class NodePodsClosedError extends Error {
  /** @param nodeName the node whose lister was closed. */
  constructor(nodeName: string) {
    super(`pods of node ${nodeName}: closed before the first list`);
    this.name = 'NodePodsClosedError';
  }
}

/** Which pods to keep, from where. */
export interface NodePodReflectorOptions {
  /** Pods, all namespaces (a KubeClient source or an in-memory one). */
  source: ObjectSource<V1Pod>;
  /** The node whose pods to keep; a DNS-1123 subdomain (TypeError otherwise). */
  nodeName: string;
  /** Drives the reflector's backoff and watch timeouts. Default: the wall clock. */
  clock?: Clock;
  /** Where the reflector logs (failed lists and watches, skipped events) and a change listener that threw (at error). Any LoggerLike; default: none. */
  logger?: LoggerLike;
}

/** Stores the reflector's pods by namespace/name and tells listeners about every change. */
class PodMap implements ReflectorSink<V1Pod> {
  readonly pods = new Map<string, V1Pod>();
  readonly listeners = new Set<() => void>();
  hasSynced = false;
  onSynced: (() => void) | undefined;

  constructor(private readonly logger: NormalizedLogger) {}

  replace(items: V1Pod[]): void {
    this.pods.clear();
    for (const pod of items) this.pods.set(keyOf(pod), pod);
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.onSynced?.();
    }
    this.changed();
  }

  add(pod: V1Pod): void {
    this.pods.set(keyOf(pod), pod);
    this.changed();
  }

  update(pod: V1Pod): void {
    this.add(pod);
  }

  delete(pod: V1Pod): void {
    this.pods.delete(keyOf(pod));
    this.changed();
  }

  /** A listener that throws is logged; it must not break the reflector that called us. */
  private changed(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error('node pods: a change listener threw', { error: errorMessage(err) });
      }
    }
  }
}

/**
 * The pods bound to one node, kept fresh by one reflector with `fieldSelector=spec.nodeName=<node>`
 * filling a plain map: the default lister of PodDesiredState. start() starts it, close() or `await
 * using` stops it.
 */
export class NodePodReflector implements NodePodLister, AsyncCloseable {
  /** The node whose pods it keeps. */
  readonly nodeName: string;
  private readonly map: PodMap;
  private readonly reflector: Reflector<V1Pod>;
  private readonly stopping = new AbortController();
  private readonly syncedPromise: Promise<void>;
  private running: Promise<void> | undefined;

  /**
   * Builds the reflector; nothing is listed until start().
   * @throws TypeError for a node name that is not a DNS-1123 subdomain.
   */
  constructor(opts: NodePodReflectorOptions) {
    checkNodeName(opts.nodeName);
    this.nodeName = opts.nodeName;
    const logger = toLogger(opts.logger);
    this.map = new PodMap(logger);
    this.reflector = new Reflector<V1Pod>({
      name: `pods-of-node-${opts.nodeName}`,
      listerWatcher: listWatchFor(opts.source, '', { fieldSelector: `spec.nodeName=${opts.nodeName}` }),
      sink: this.map,
      clock: opts.clock ?? realClock,
      logger,
    });
    this.syncedPromise = new Promise<void>((resolve, reject) => {
      this.map.onSynced = resolve;
      this.stopping.signal.addEventListener('abort', () => reject(new NodePodsClosedError(opts.nodeName)), { once: true });
    });
    this.syncedPromise.catch(() => {});
  }

  /** Starts listing and watching; a second call does nothing, as does one after close(). */
  start(): void {
    if (this.running || this.stopping.signal.aborted) return;
    this.running = this.reflector.run(this.stopping.signal);
  }

  /** Whether the first list has been stored. */
  get hasSynced(): boolean {
    return this.map.hasSynced;
  }

  /** Resolves after the first list; rejects when `signal` aborts first, or with NodePodsClosedError when closed first. */
  synced(signal?: AbortSignal): Promise<void> {
    if (this.map.hasSynced) return Promise.resolve();
    return signal ? raceAbort(this.syncedPromise, signal) : this.syncedPromise;
  }

  /** The node's pods, as stored objects: do not modify them. */
  list(): V1Pod[] {
    return [...this.map.pods.values()];
  }

  /** The stored pod `namespace/name`, if this node has it; do not modify it. */
  get(namespace: string, name: string): V1Pod | undefined {
    return this.map.pods.get(objectKey(namespace, name));
  }

  /** Calls `listener` after every change to the stored pods (a list, an add, an update, a delete); returns its unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.map.listeners.add(listener);
    return () => void this.map.listeners.delete(listener);
  }

  /** Stops the reflector and waits for it; listeners are dropped. Idempotent. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.map.listeners.clear();
    await this.running;
  }

  /** `await using` support: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function keyOf(pod: V1Pod): string {
  return objectKey(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
}
