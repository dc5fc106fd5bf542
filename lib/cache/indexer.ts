/**
 * Indexer is the multi-object store behind an Informer: client-go's ThreadSafeStore with its
 * Indexer, objects by "namespace/name" plus named indexes from index value to the keys of the
 * objects that produce it. Lookups by index or namespace cost O(matches), not a scan: every
 * add, update, delete and replace keeps index -> value -> Set of keys current.
 *
 * Unlike client-go, which recomputes the old object's index values on update, the values an
 * object was indexed under are remembered with it. Index functions that read the clock (a
 * sandbox whose shutdown time passes) then cannot leave a key behind under a value they no
 * longer compute; the price is one small array per indexed object.
 */
import { metaOf, objectKey, resourceVersionOf } from '../api/object.js';

/** Computes the values an object is indexed under; an empty array puts it in no bucket. */
export type IndexFunc<T> = (obj: T) => string[];

/** What one add/update/delete did, for the caller to turn into events. */
export interface StoreChange<T> {
  /** What happened to the key. */
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object as stored now (for DELETED, the one removed). */
  object: T;
  /** The stored object this one replaced or removed. */
  previous?: T;
}

/** Thrown by index lookups that name an index the store was not built with. */
export class IndexNotFoundError extends Error {
  /** @param index the index that was asked for. */
  constructor(
    /** The unknown index name, kept for callers to branch on. */
    readonly index: string,
  ) {
    super(`index with name ${index} does not exist`);
    this.name = 'IndexNotFoundError';
  }
}

/**
 * Per-object index values, by index position: undefined for none, a string for the common
 * single value, an array otherwise. Objects with no value in any index keep no entry.
 */
type Indexed = (string | string[] | undefined)[];

/**
 * The Informer's store: objects by namespace/name, with the namespace index and custom indexes
 * kept up to date on every change (client-go's threadSafeMap with indexers).
 */
export class Indexer<T> {
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly names: string[];
  private readonly funcs: IndexFunc<T>[];
  private readonly indices: Map<string, Set<string>>[];
  private readonly indexedValues = new Map<string, Indexed>();

  /**
   * @param indexers index name -> function, fixed for the store's life (client-go refuses new
   *   indexers once items exist; here they can only be given up front).
   * @param onIndexError called when an index function throws for an object; the object is then
   *   stored without values in that index instead of being lost.
   */
  constructor(
    indexers: Record<string, IndexFunc<T>> = {},
    private readonly onIndexError: (index: string, key: string, err: unknown) => void = () => {},
  ) {
    this.names = Object.keys(indexers);
    this.funcs = this.names.map((n) => indexers[n]);
    this.indices = this.names.map(() => new Map());
  }

  /** Objects stored. */
  get size(): number {
    return this.items.size;
  }

  /** Index names, in registration order. */
  get indexNames(): readonly string[] {
    return this.names;
  }

  /** The object under `key` ("ns/name", or "name" for cluster-scoped ones). */
  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Adds or replaces the object under its "namespace/name" key. */
  set(obj: T): StoreChange<T> {
    const key = keyOf(obj);
    const previous = this.items.get(key);
    if (previous !== undefined) this.unindex(key, previous);
    this.items.set(key, obj);
    this.index(key, obj);
    return previous === undefined ? { type: 'ADDED', object: obj } : { type: 'MODIFIED', object: obj, previous };
  }

  /** Removes the object with this one's key; undefined when there was none. */
  delete(obj: T): StoreChange<T> | undefined {
    const key = keyOf(obj);
    const previous = this.items.get(key);
    if (previous === undefined) return undefined;
    this.unindex(key, previous);
    this.items.delete(key);
    return { type: 'DELETED', object: obj, previous };
  }

  /**
   * Makes the contents exactly `items` (a relist) and returns what that changed: objects gone
   * (DELETED, with the last stored state as both object and previous), new ones (ADDED) and
   * ones at a different resourceVersion (MODIFIED). An object at the same resourceVersion keeps
   * the stored reference, so readers holding it see no churn.
   */
  replace(items: Iterable<T>): StoreChange<T>[] {
    const incoming = new Map<string, T>();
    for (const obj of items) incoming.set(keyOf(obj), obj);
    const changes: StoreChange<T>[] = [];
    for (const [key, old] of this.items) {
      if (incoming.has(key)) continue;
      this.unindex(key, old);
      this.items.delete(key);
      changes.push({ type: 'DELETED', object: old, previous: old });
    }
    for (const obj of incoming.values()) {
      const old = this.items.get(keyOf(obj));
      if (old !== undefined && sameVersion(old, obj)) continue;
      changes.push(this.set(obj));
    }
    return changes;
  }

  /** Every stored object, in insertion order. */
  values(): IterableIterator<T> {
    return this.items.values();
  }

  /**
   * Keys of the objects under `value` in `index`, optionally only in `namespace` ("" = all).
   * O(min(matches in the index, objects in the namespace)).
   */
  keysFor(opts: { namespace?: string; index?: { name: string; value: string } }): Iterable<string> {
    const ns = opts.namespace ?? '';
    const inNamespace = ns === '' ? undefined : (this.byNamespace.get(ns) ?? EMPTY);
    if (!opts.index) return inNamespace ?? this.items.keys();
    const position = this.names.indexOf(opts.index.name);
    if (position < 0) throw new IndexNotFoundError(opts.index.name);
    const matches = this.indices[position].get(opts.index.value) ?? EMPTY;
    if (!inNamespace) return matches;
    const [small, large] = matches.size <= inNamespace.size ? [matches, inNamespace] : [inNamespace, matches];
    return filterKeys(small, large);
  }

  /** Values in use in one index (client-go's ListIndexFuncValues). */
  indexValues(index: string): string[] {
    const position = this.names.indexOf(index);
    if (position < 0) throw new IndexNotFoundError(index);
    return [...this.indices[position].keys()];
  }

  private index(key: string, obj: T): void {
    const ns = metaOf(obj)?.namespace ?? '';
    let keys = this.byNamespace.get(ns);
    if (!keys) this.byNamespace.set(ns, (keys = new Set()));
    keys.add(key);
    if (this.funcs.length === 0) return;
    let indexed: Indexed | undefined;
    for (let i = 0; i < this.funcs.length; i++) {
      const values = this.compute(i, key, obj);
      if (values.length === 0) continue;
      indexed ??= new Array(this.funcs.length);
      indexed[i] = values.length === 1 ? values[0] : values;
      for (const value of values) {
        const bucket = this.indices[i].get(value);
        if (bucket) bucket.add(key);
        else this.indices[i].set(value, new Set([key]));
      }
    }
    if (indexed) this.indexedValues.set(key, indexed);
  }

  private unindex(key: string, obj: T): void {
    const ns = metaOf(obj)?.namespace ?? '';
    const keys = this.byNamespace.get(ns);
    if (keys?.delete(key) && keys.size === 0) this.byNamespace.delete(ns);
    const indexed = this.indexedValues.get(key);
    if (!indexed) return;
    this.indexedValues.delete(key);
    for (let i = 0; i < indexed.length; i++) {
      const entry = indexed[i];
      if (entry === undefined) continue;
      for (const value of typeof entry === 'string' ? [entry] : entry) {
        const bucket = this.indices[i].get(value);
        // An emptied bucket is dropped so that values no object has any more cost nothing.
        if (bucket?.delete(key) && bucket.size === 0) this.indices[i].delete(value);
      }
    }
  }

  private compute(i: number, key: string, obj: T): string[] {
    try {
      const values = this.funcs[i](obj);
      if (!Array.isArray(values)) return [];
      const strings = values.filter((v): v is string => typeof v === 'string');
      return strings.length > 1 ? [...new Set(strings)] : strings;
    } catch (err) {
      this.onIndexError(this.names[i], key, err);
      return [];
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function* filterKeys(small: ReadonlySet<string>, large: ReadonlySet<string>): Generator<string> {
  for (const key of small) if (large.has(key)) yield key;
}

/** client-go's MetaNamespaceKeyFunc over refwatch's object shape. */
export function keyOf(obj: unknown): string {
  const meta = metaOf(obj);
  return objectKey(meta?.namespace ?? '', meta?.name ?? '');
}

/** Same object version: same uid and a non-empty, equal resourceVersion. */
function sameVersion(a: unknown, b: unknown): boolean {
  const rv = resourceVersionOf(a);
  return rv !== undefined && rv !== '' && rv === resourceVersionOf(b) && metaOf(a)?.uid === metaOf(b)?.uid;
}
