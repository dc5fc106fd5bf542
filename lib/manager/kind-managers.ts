/**
 * SecretManager and ConfigMapManager: the kubelet's secret.Manager and configmap.Manager. They
 * add the typed getter and the kind's own rules (which pod fields reference it, what
 * "immutable" means) to a strategy manager. Each class declares the calls whose meaning
 * depends on the kind, so an editor shows `SecretManager.registerPod` and its documentation;
 * what is the same for both (unregisterPod, changes, close) lives in the shared base.
 *
 * Both are generic in their strategy, as StrategyManager is: `new SecretManager({ source })` is a
 * `SecretManager<'Watch'>` with `changes()`; `strategy: 'Cache'` gives `SecretManager<'Cache'>`,
 * on which `changes()` does not compile.
 */
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import { isDns1123Label, isDns1123Subdomain, type NameRules } from '../api/names.js';
import type { ObjectSource } from '../api/source.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { UnexpectedObjectError } from './errors.js';
import type { GetObjectOptions } from './interfaces.js';
import { podConfigMapNames, podSecretNames } from './pod-references.js';
import { createObjectManager, type ChangeDetectionStrategy, type ObjectManagerOptions, type StrategyManager } from './strategy.js';

/** Options of SecretManager and ConfigMapManager: ObjectManagerOptions without the kind's own rules. */
export type KindManagerOptions<T, S extends ChangeDetectionStrategy = ChangeDetectionStrategy> = Omit<
  ObjectManagerOptions<T, S>,
  'getReferencedObjects' | 'isImmutable' | 'source' | 'nameRules'
> & {
  /** Where the objects are read, e.g. `client.source(resources.secrets)`. */
  source: ObjectSource<T>;
};

/**
 * Secret and ConfigMap names are DNS-1123 subdomains (ValidateSecretName,
 * ValidateConfigMapName), so a reference that is not one names nothing the API server could
 * hold, and is refused without asking it.
 */
function kindNameRules(what: string): NameRules {
  return { namespace: isDns1123Label, name: isDns1123Subdomain, what };
}

/** Secrets and ConfigMaps are immutable when `immutable: true` (KEP-1412). */
export function isImmutableSecretOrConfigMap(obj: { immutable?: boolean } | undefined): boolean {
  return obj?.immutable === true;
}

/** `obj` as the kind's type; objects inside lists carry no kind, so only a wrong one is an error. */
function ofKind<T>(obj: unknown, kind: string): T {
  if (obj === null || typeof obj !== 'object') throw new UnexpectedObjectError(String(obj));
  const actual = (obj as { kind?: unknown }).kind;
  if (actual !== undefined && actual !== kind) throw new UnexpectedObjectError(`kind ${String(actual)}`);
  return obj as T;
}

/**
 * What the two kind managers share and is the same for both kinds: the strategy manager
 * underneath, releasing a pod, watching for changes, closing. The kind classes declare the calls whose meaning differs
 * by kind (reading, registering), so those show their own documentation on hover.
 */
export abstract class KindManager<T, S extends ChangeDetectionStrategy> implements AsyncCloseable {
  /** @param manager the strategy manager built with the kind's rules. */
  protected constructor(
    /** The strategy manager underneath: its `store`, `stats()` and `changes()`. */
    readonly manager: StrategyManager<T, S>,
  ) {}

  /** The strategy this manager was built with. */
  get strategy(): S {
    return this.manager.strategy;
  }

  /** Releases the objects registered for this pod (same namespace, name and UID). Never throws. */
  unregisterPod(pod: V1Pod): void {
    this.manager.unregisterPod(pod);
  }

  /**
   * The object now (undefined while it does not exist) and on every change, until its last
   * reference goes or the manager closes. Watch only: does not compile for Cache or Get.
   */
  changes(this: KindManager<T, 'Watch'>, namespace: string, name: string): Observable<T | undefined> {
    return this.manager.changes(namespace, name);
  }

  /** Whether the strategy is Watch; narrows a manager whose strategy was chosen at run time, so `changes()` compiles. */
  isWatching(): this is KindManager<T, 'Watch'> {
    return this.manager.isWatching();
  }

  /** Stops every watch and timer; later reads fail with StoreClosedError. Idempotent. */
  close(): Promise<void> {
    return this.manager.close();
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The kubelet's secret manager: the Secrets that registered pods reference, kept by strategy `S`. */
export class SecretManager<S extends ChangeDetectionStrategy = 'Watch'> extends KindManager<V1Secret, S> {
  /** Builds the manager; nothing is requested before a pod is registered (or, for Get, read). */
  constructor(opts: KindManagerOptions<V1Secret, S>) {
    super(createObjectManager<V1Secret, S>({ ...opts, getReferencedObjects: podSecretNames, isImmutable: isImmutableSecretOrConfigMap, nameRules: kindNameRules('secret name') }));
  }

  /**
   * The Secret, when a registered pod references it (any readable one under Get). Rejects as
   * Manager.getObject describes, and with UnexpectedObjectError when the answer is not a Secret.
   */
  async getSecret(namespace: string, name: string, opts?: GetObjectOptions): Promise<V1Secret> {
    return ofKind(await this.manager.getObject(namespace, name, opts), 'Secret');
  }

  /**
   * Registers every Secret the pod references (image pull secrets, volumes, projected volumes,
   * env and envFrom of every container): cheap, idempotent, never throws, as Manager.registerPod.
   */
  registerPod(pod: V1Pod): void {
    this.manager.registerPod(pod);
  }
}

/** The kubelet's configmap manager: the ConfigMaps that registered pods reference, kept by strategy `S`. */
export class ConfigMapManager<S extends ChangeDetectionStrategy = 'Watch'> extends KindManager<V1ConfigMap, S> {
  /** Builds the manager; nothing is requested before a pod is registered (or, for Get, read). */
  constructor(opts: KindManagerOptions<V1ConfigMap, S>) {
    super(
      createObjectManager<V1ConfigMap, S>({
        ...opts,
        getReferencedObjects: podConfigMapNames,
        isImmutable: isImmutableSecretOrConfigMap,
        nameRules: kindNameRules('configmap name'),
      }),
    );
  }

  /**
   * The ConfigMap, when a registered pod references it (any readable one under Get). Rejects as
   * Manager.getObject describes, and with UnexpectedObjectError when the answer is not a ConfigMap.
   */
  async getConfigMap(namespace: string, name: string, opts?: GetObjectOptions): Promise<V1ConfigMap> {
    return ofKind(await this.manager.getObject(namespace, name, opts), 'ConfigMap');
  }

  /**
   * Registers every ConfigMap the pod references (volumes, projected volumes, env and envFrom of
   * every container): cheap, idempotent, never throws, as Manager.registerPod.
   */
  registerPod(pod: V1Pod): void {
    this.manager.registerPod(pod);
  }
}
