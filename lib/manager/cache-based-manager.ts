/**
 * CacheBasedManager is the kubelet's cacheBasedManager: it remembers which objects each
 * registered pod references and turns pod registrations into Store references. Both stores
 * (TTL and watch) sit behind it, so the strategy is a constructor argument, not a code path.
 * It is also where pods from outside are checked: a namespace or a referenced name that cannot
 * be a Kubernetes name is refused here, before the store could turn it into a request.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { checkNamespace, checkObjectName, isDns1123Label, isValidPathSegmentName, type NameRules } from '../api/names.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { thrownKind, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import type { Manager, GetObjectOptions, Store } from './interfaces.js';

/** The names of the objects of one kind that a pod references, e.g. `podSecretNames`. */
export type ReferencedObjects = (pod: V1Pod) => Set<string>;

/** The optional parts of a CacheBasedManager. */
export interface CacheBasedManagerOptions {
  /** Where malformed pods and refused references are reported. Any LoggerLike; default: nowhere. */
  logger?: LoggerLike;
  /**
   * Which namespaces and referenced names are accepted. A pod whose namespace is refused is
   * ignored; a refused name is left out of the registration (the pod keeps its other
   * references) and reported once; `getObject` of either rejects with InvalidNameError, all
   * without a request. Default: namespaces are DNS-1123 labels (as every namespace is), names
   * valid path segments (the one rule every resource shares; RBAC names hold `:`, for one). The
   * secret and configmap managers require DNS-1123 subdomains, as the apiserver does for them.
   */
  nameRules?: NameRules;
}

/** The rules when none are given: see CacheBasedManagerOptions.nameRules. */
export const DEFAULT_NAME_RULES: Readonly<Required<NameRules>> = { namespace: isDns1123Label, name: isValidPathSegmentName, what: 'resource name' };

interface PodIdentity {
  key: string;
  namespace: string;
  name: string;
  uid: string;
}

interface Registration {
  namespace: string;
  uid: string;
  /** The names referenced at the last registration; kept instead of the pod itself, so a caller mutating its pod object later cannot change what unregister releases. */
  names: Set<string>;
  /** Referenced names that were refused, so each is reported once, not on every re-registration. */
  refused: Set<string>;
}

/**
 * A Manager over any Store: pod registrations become the store's references, checked and
 * diffed as the file header says. The Watch and Cache strategies are this over their store.
 */
export class CacheBasedManager<T> implements Manager<T>, AsyncCloseable {
  /**
   * Registered pods by namespace, name and UID. The UID is part of the key because a pod
   * deleted and re-created under the same name can be registered and unregistered in an
   * interleaved order (kubernetes#107831).
   */
  private readonly registered = new Map<string, Registration>();
  private readonly logger: NormalizedLogger;
  private readonly nameRules: Required<NameRules>;

  /**
   * @param objectStore where the referenced objects are kept; closed by close().
   * @param getReferencedObjects which names of the store's kind a pod references.
   */
  constructor(
    private readonly objectStore: Store<T>,
    private readonly getReferencedObjects: ReferencedObjects,
    opts: CacheBasedManagerOptions = {},
  ) {
    this.logger = toLogger(opts.logger);
    this.nameRules = { ...DEFAULT_NAME_RULES, ...opts.nameRules };
  }

  /** As Manager.getObject; an invalid namespace or name rejects with InvalidNameError. */
  async getObject(namespace: string, name: string, opts?: GetObjectOptions): Promise<T> {
    const invalid = checkObjectName(namespace, name, this.nameRules);
    if (invalid) throw invalid;
    return this.objectStore.get(namespace, name, opts);
  }

  /** As Manager.registerPod. */
  registerPod(pod: V1Pod): void {
    const id = this.identify(pod, 'register');
    if (!id) return;
    const invalidNamespace = checkNamespace(id.namespace, this.nameRules.namespace);
    if (invalidNamespace) {
      this.logger.warn('ignoring pod: its namespace is not a valid namespace name', { pod: id.name, error: invalidNamespace.message });
      return;
    }
    const referenced = this.referencedNames(pod, id);
    if (!referenced) return;
    const previous = this.registered.get(id.key);
    const { names, refused } = this.accepted(referenced, id, previous);
    this.registered.set(id.key, { namespace: id.namespace, uid: id.uid, names, refused });
    // Add before delete, so an object referenced by both versions never drops to zero
    // references (which would stop its watch or invalidate its cache for nothing).
    for (const name of names) {
      if (!previous?.names.has(name)) this.objectStore.addReference(id.namespace, name, id.uid);
    }
    if (!previous) return;
    for (const name of previous.names) {
      if (!names.has(name)) this.objectStore.deleteReference(id.namespace, name, id.uid);
    }
  }

  /** As Manager.unregisterPod. */
  unregisterPod(pod: V1Pod): void {
    const id = this.identify(pod, 'unregister');
    if (!id) return;
    const previous = this.registered.get(id.key);
    if (!previous) return;
    this.registered.delete(id.key);
    for (const name of previous.names) this.objectStore.deleteReference(previous.namespace, name, previous.uid);
  }

  /** Pods currently registered. */
  get registeredPodCount(): number {
    return this.registered.size;
  }

  /** Closes the store. Idempotent, as the store's close() is. */
  async close(): Promise<void> {
    await this.objectStore.close?.();
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The pod's namespace, name and UID, read once each. Pods come from outside: a getter that
   * throws, a revoked proxy or a value of the wrong type is reported (never with the pod's
   * contents or the thrown message, which may quote them) and the pod is ignored.
   */
  private identify(pod: V1Pod, action: string): PodIdentity | undefined {
    let namespace: unknown;
    let name: unknown;
    let uid: unknown;
    try {
      const meta = pod !== null && typeof pod === 'object' ? (pod as { metadata?: unknown }).metadata : undefined;
      const m = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>) : {};
      namespace = m.namespace;
      name = m.name;
      uid = m.uid;
    } catch (err) {
      this.logger.warn(`cannot ${action} pod: its metadata could not be read`, { error: thrownKind(err) });
      return undefined;
    }
    if (typeof namespace !== 'string' || namespace === '' || typeof name !== 'string' || name === '') {
      this.logger.warn(`cannot ${action} pod without metadata.namespace and metadata.name`, {
        namespace: typeof namespace === 'string' ? namespace : undefined,
        pod: typeof name === 'string' ? name : undefined,
      });
      return undefined;
    }
    const podUid = typeof uid === 'string' ? uid : '';
    return { key: JSON.stringify([namespace, name, podUid]), namespace, name, uid: podUid };
  }

  /** Splits the referenced names into those the rules accept and those they refuse; reports newly refused ones. */
  private accepted(referenced: Set<string>, id: PodIdentity, previous: Registration | undefined): { names: Set<string>; refused: Set<string> } {
    const names = new Set<string>();
    const refused = new Set<string>();
    for (const name of referenced) {
      const invalid = checkObjectName('', name, this.nameRules);
      if (!invalid) {
        names.add(name);
        continue;
      }
      refused.add(name);
      if (!previous?.refused.has(name)) {
        this.logger.warn(`ignoring reference: not a valid ${this.nameRules.what}`, { namespace: id.namespace, pod: id.name, error: invalid.message });
      }
    }
    return { names, refused };
  }

  /**
   * The names the pod references, copied into a set of our own (a visitor may reuse its set),
   * non-strings and empty names dropped; undefined (reported) when reading them failed.
   */
  private referencedNames(pod: V1Pod, id: PodIdentity): Set<string> | undefined {
    try {
      const names = new Set<string>();
      for (const name of this.getReferencedObjects(pod)) if (typeof name === 'string' && name !== '') names.add(name);
      return names;
    } catch (err) {
      this.logger.warn('ignoring pod: its references could not be read', { namespace: id.namespace, pod: id.name, error: thrownKind(err) });
      return undefined;
    }
  }
}
