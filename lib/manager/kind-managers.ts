/**
 * SecretManager and ConfigMapManager: the kubelet's secret.Manager and configmap.Manager. They
 * add the typed getter and the kind's own rules (which pod fields reference it, what
 * "immutable" means) to a strategy manager.
 */
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { isDns1123Label, isDns1123Subdomain, type NameRules } from '../api/names.js';
import type { ObjectSource } from '../api/source.js';
import { UnexpectedObjectError } from './errors.js';
import { podConfigMapNames, podSecretNames } from './pod-references.js';
import { createObjectManager, type ObjectManagerOptions, type StrategyManager } from './strategy.js';

export type KindManagerOptions<T> = Omit<ObjectManagerOptions<T>, 'getReferencedObjects' | 'isImmutable' | 'source' | 'nameRules'> & {
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

abstract class KindManager<T> {
  /** The underlying manager: getObject, and the Watch store when the strategy is Watch. */
  readonly manager: StrategyManager<T>;

  protected constructor(
    manager: StrategyManager<T>,
    private readonly kind: string,
  ) {
    this.manager = manager;
  }

  registerPod(pod: V1Pod): void {
    this.manager.registerPod(pod);
  }

  unregisterPod(pod: V1Pod): void {
    this.manager.unregisterPod(pod);
  }

  close(): Promise<void> {
    return this.manager.close();
  }

  protected async getTyped(namespace: string, name: string): Promise<T> {
    const obj: unknown = await this.manager.getObject(namespace, name);
    if (obj === null || typeof obj !== 'object') throw new UnexpectedObjectError(String(obj));
    const kind = (obj as { kind?: unknown }).kind;
    // Objects inside lists carry no kind; only a wrong one is an error.
    if (kind !== undefined && kind !== this.kind) throw new UnexpectedObjectError(`kind ${String(kind)}`);
    return obj as T;
  }
}

export class SecretManager extends KindManager<V1Secret> {
  constructor(opts: KindManagerOptions<V1Secret>) {
    super(
      createObjectManager({ ...opts, getReferencedObjects: podSecretNames, isImmutable: isImmutableSecretOrConfigMap, nameRules: kindNameRules('secret name') }),
      'Secret',
    );
  }

  getSecret(namespace: string, name: string): Promise<V1Secret> {
    return this.getTyped(namespace, name);
  }
}

export class ConfigMapManager extends KindManager<V1ConfigMap> {
  constructor(opts: KindManagerOptions<V1ConfigMap>) {
    super(
      createObjectManager({ ...opts, getReferencedObjects: podConfigMapNames, isImmutable: isImmutableSecretOrConfigMap, nameRules: kindNameRules('configmap name') }),
      'ConfigMap',
    );
  }

  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap> {
    return this.getTyped(namespace, name);
  }
}
