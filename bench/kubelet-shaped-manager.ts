/**
 * The kubelet's watch-based object cache and cache-based manager (pkg/kubelet/util/manager:
 * objectCache, objectCacheItem, cacheStore, cacheBasedManager) ported to TypeScript the
 * straightforward way, line by line, as the baseline that bench/hot-path.ts measures refwatch's
 * getObject and registerPod against. Not used by refwatch itself.
 *
 * What a direct port keeps from upstream, and so costs on every call:
 *  - a generic keyed store (client-go's cache.Store with MetaNamespaceKeyFunc) per object, read
 *    through GetByKey with a "namespace/name" key string built per get;
 *  - the items map keyed by objectKey{namespace, name}; a JS Map cannot key by a struct, so the
 *    port builds a key string per call (and one with the UID for registered pods);
 *  - Go's multiple return values as a tuple (GetByKey's item and exists);
 *  - the sync wait as wait.PollImmediate: a condition closure checked at once, then every 10 ms
 *    up to 1 s;
 *  - registerPod stores the pod itself and, on re-registration, recomputes the previous pod's
 *    references.
 * Reflectors are not part of the measured paths (get and register touch running ones only), so
 * an item's "reflector" here fills its store from an in-memory map once.
 */
import type { V1Pod } from '@kubernetes/client-node';

type Obj = { metadata?: { namespace?: string; name?: string }; immutable?: boolean };

/** client-go's MetaNamespaceKeyFunc. */
function metaNamespaceKeyFunc(obj: Obj): string {
  const ns = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '';
  return ns.length > 0 ? ns + '/' + name : name;
}

/** client-go's cache.NewStore(keyFunc): a threadSafeMap of key → object. */
class KeyedStore {
  private items = new Map<string, Obj>();

  constructor(private readonly keyFunc: (obj: Obj) => string) {}

  add(obj: Obj): void {
    this.items.set(this.keyFunc(obj), obj);
  }

  replace(list: Obj[]): void {
    const items = new Map<string, Obj>();
    for (const obj of list) items.set(this.keyFunc(obj), obj);
    this.items = items;
  }

  getByKey(key: string): [Obj | undefined, boolean] {
    const item = this.items.get(key);
    return [item, item !== undefined];
  }
}

/** cacheStore: the store plus the "initialized" flag a Replace sets. */
class CacheStore extends KeyedStore {
  private initialized = false;

  override replace(list: Obj[]): void {
    super.replace(list);
    this.initialized = true;
  }

  hasSynced(): boolean {
    return this.initialized;
  }
}

class ObjectCacheItem {
  readonly refMap = new Map<string, number>();
  lastAccessTime = 0;
  stopped = false;
  immutable = false;

  constructor(
    readonly store: CacheStore,
    readonly hasSynced: () => boolean,
  ) {}

  setLastAccessTime(time: number): void {
    this.lastAccessTime = time;
  }

  restartReflectorIfNeeded(): void {
    if (this.immutable || !this.stopped) return;
    this.stopped = false;
  }
}

/** wait.PollImmediate: the condition now, then every `interval` until `timeout`. */
async function pollImmediate(interval: number, timeout: number, condition: () => boolean): Promise<void> {
  if (condition()) return;
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval));
    if (condition()) return;
  }
  throw new Error('timed out waiting for the condition');
}

/** objectCache: one item (store + reflector + refcounts) per referenced object; the baseline for refwatch's WatchObjectStore. */
export class KubeletShapedObjectCache {
  private readonly items = new Map<string, ObjectCacheItem>();
  private stopped = false;

  /** `objects`: what the items' reflectors list, by "namespace/name". */
  constructor(private readonly objects: ReadonlyMap<string, Obj>) {}

  addReference(namespace: string, name: string, referencedFrom: string): void {
    const key = objectKey(namespace, name);
    let item = this.items.get(key);
    if (!item) {
      item = this.newReflector(namespace, name);
      this.items.set(key, item);
    }
    item.refMap.set(referencedFrom, (item.refMap.get(referencedFrom) ?? 0) + 1);
  }

  deleteReference(namespace: string, name: string, referencedFrom: string): void {
    const key = objectKey(namespace, name);
    const item = this.items.get(key);
    if (!item) return;
    const count = (item.refMap.get(referencedFrom) ?? 0) - 1;
    if (count === 0) item.refMap.delete(referencedFrom);
    else item.refMap.set(referencedFrom, count);
    if (item.refMap.size === 0) {
      item.stopped = true;
      this.items.delete(key);
    }
  }

  async get(namespace: string, name: string): Promise<Obj> {
    const item = this.items.get(objectKey(namespace, name));
    if (!item) throw new Error(`object "${namespace}"/"${name}" not registered`);
    item.setLastAccessTime(Date.now());
    if (!this.stopped) item.restartReflectorIfNeeded();
    await pollImmediate(10, 1_000, item.hasSynced);
    const [obj, exists] = item.store.getByKey(this.key(namespace, name));
    if (!exists) throw new Error(`secret "${name}" not found`);
    if (obj!.immutable === true) item.immutable = true;
    return obj!;
  }

  private key(namespace: string, name: string): string {
    return namespace.length > 0 ? namespace + '/' + name : name;
  }

  private newReflector(namespace: string, name: string): ObjectCacheItem {
    const store = new CacheStore(metaNamespaceKeyFunc);
    const item = new ObjectCacheItem(store, () => store.hasSynced());
    const obj = this.objects.get(this.key(namespace, name));
    // The reflector's first list, standing in for the list+watch loop.
    queueMicrotask(() => store.replace(obj ? [obj] : []));
    return item;
  }
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** cacheBasedManager: pods to references on the object cache; the baseline for refwatch's CacheBasedManager. */
export class KubeletShapedManager {
  private readonly registeredPods = new Map<string, V1Pod>();

  constructor(
    private readonly objectStore: KubeletShapedObjectCache,
    private readonly getReferencedObjects: (pod: V1Pod) => Set<string>,
  ) {}

  getObject(namespace: string, name: string): Promise<Obj> {
    return this.objectStore.get(namespace, name);
  }

  registerPod(pod: V1Pod): void {
    const names = this.getReferencedObjects(pod);
    const meta = pod.metadata!;
    const key = podKey(meta.namespace!, meta.name!, meta.uid!);
    const prev = this.registeredPods.get(key);
    this.registeredPods.set(key, pod);
    if (!prev) {
      for (const name of names) this.objectStore.addReference(meta.namespace!, name, meta.uid!);
      return;
    }
    const prevNames = this.getReferencedObjects(prev);
    for (const name of names) if (!prevNames.has(name)) this.objectStore.addReference(meta.namespace!, name, meta.uid!);
    for (const name of prevNames) if (!names.has(name)) this.objectStore.deleteReference(meta.namespace!, name, meta.uid!);
  }

  unregisterPod(pod: V1Pod): void {
    const meta = pod.metadata!;
    const key = podKey(meta.namespace!, meta.name!, meta.uid!);
    const prev = this.registeredPods.get(key);
    this.registeredPods.delete(key);
    if (!prev) return;
    for (const name of this.getReferencedObjects(prev)) this.objectStore.deleteReference(prev.metadata!.namespace!, name, prev.metadata!.uid!);
  }
}

function podKey(namespace: string, name: string, uid: string): string {
  return `${namespace}/${name}/${uid}`;
}
