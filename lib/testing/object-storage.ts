/**
 * ObjectStorage is the state behind the in-memory source and the embedded API server: objects
 * per resource, one global resourceVersion counter, an event history that watches replay from
 * and that can be compacted (so watches and continue tokens from before it get 410), and the
 * server-side rules refwatch meets in practice (conflicts, immutable Secrets and ConfigMaps,
 * "too large resource version"). It is what etcd plus the watch cache look like from a client.
 */
import { StatusError, newExpired } from '../api/errors.js';
import { metaOf, objectKey, type KubeObject, type ObjectList } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/resource.js';
import type { ListOptions, WatchEvent, WatchOptions } from '../api/source.js';
import { INITIAL_EVENTS_END_ANNOTATION } from '../cache/watch-list.js';
import { parseFieldSelector, parseLabelSelector, type Matcher } from './selectors.js';

type MutationType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEntry {
  rv: number;
  type: MutationType;
  bucket: string;
  key: string;
  object: KubeObject;
  /** The object before this change (for MODIFIED and DELETED): lets a snapshot be rebuilt. */
  previous?: KubeObject;
}

interface Subscription {
  bucket: string;
  namespace: string;
  match: Matcher;
  listener: (event: WatchEvent<KubeObject>) => void;
}

/** How much history an ObjectStorage keeps and where its resourceVersions start. */
export interface ObjectStorageOptions {
  /**
   * Events kept for watch replay and snapshots; older ones are compacted away, as etcd does.
   * Default 10 000.
   */
  historyLimit?: number;
  /** First resourceVersion handed out. Default 1000, so tests never confuse an RV with a count. */
  initialResourceVersion?: number;
}

/** Annotation on the BOOKMARK that ends a WatchList's initial events (the reflector's own constant). */
export const INITIAL_EVENTS_END = INITIAL_EVENTS_END_ANNOTATION;

/**
 * The state behind a MemorySource and the embedded API server: objects by resource and key, one resourceVersion sequence,
 * and the event history watches replay from, compacted as etcd compacts.
 */
export class ObjectStorage {
  private rv: number;
  /** Every change with an RV above this one is in `history`. */
  private compactedRV: number;
  private readonly historyLimit: number;
  private history: HistoryEntry[] = [];
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  private readonly subscriptions = new Set<Subscription>();
  private uidCounter = 0;

  /** Empty storage; the first write gets `initialResourceVersion` + 1. */
  constructor(opts: ObjectStorageOptions = {}) {
    this.rv = opts.initialResourceVersion ?? 1000;
    this.compactedRV = this.rv;
    this.historyLimit = opts.historyLimit ?? 10_000;
  }

  /** The newest resourceVersion (of any resource). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Open watch subscriptions, across all resources. */
  get watchCount(): number {
    return this.subscriptions.size;
  }

  /** A copy of one object; throws a 404 StatusError when absent. */
  get(rt: ResourceType, namespace: string, name: string): KubeObject {
    const obj = this.bucket(rt).get(objectKey(scope(rt, namespace), name));
    if (!obj) throw notFound(rt, name);
    return structuredClone(obj);
  }

  /** One page of copies, filtered by the selectors, at the snapshot the options ask for (410 Gone when compacted away). */
  list(rt: ResourceType, namespace: string, opts: ListOptions = {}): ObjectList<KubeObject> {
    const fieldMatch = parseFieldSelector(opts.fieldSelector);
    const labelMatch = parseLabelSelector(opts.labelSelector);
    let snapshotRV = this.rv;
    let after: string | undefined;
    if (opts.continue) {
      ({ rv: snapshotRV, key: after } = decodeContinue(opts.continue));
    } else if (opts.resourceVersion && opts.resourceVersion !== '0') {
      const wanted = Number(opts.resourceVersion);
      if (!Number.isSafeInteger(wanted)) throw new StatusError(400, 'BadRequest', `invalid resourceVersion ${JSON.stringify(opts.resourceVersion)}`);
      if (wanted > this.rv) throw tooLargeResourceVersion(wanted, this.rv);
      if (opts.resourceVersionMatch === 'Exact') snapshotRV = wanted;
    }
    const state = this.stateAt(rt, snapshotRV, !!opts.continue);
    const ns = rt.namespaced ? namespace : '';
    const keys = [...state.keys()].sort();
    const items: KubeObject[] = [];
    // The watch cache serves RV "0" whole; paging applies to everything else.
    const limit = opts.resourceVersion === '0' && !opts.continue ? 0 : (opts.limit ?? 0);
    let lastKey = '';
    let nextKey: string | undefined;
    for (const key of keys) {
      if (after !== undefined && key <= after) continue;
      const obj = state.get(key)!;
      if (ns !== '' && metaOf(obj)?.namespace !== ns) continue;
      if (!fieldMatch(obj) || !labelMatch(obj)) continue;
      if (limit > 0 && items.length === limit) {
        nextKey = lastKey;
        break;
      }
      items.push(structuredClone(obj));
      lastKey = key;
    }
    const metadata: ObjectList<KubeObject>['metadata'] = { resourceVersion: String(snapshotRV) };
    if (nextKey !== undefined) metadata.continue = encodeContinue(snapshotRV, nextKey);
    return { apiVersion: apiVersionOf(rt), kind: `${rt.kind}List`, metadata, items };
  }

  /** Stores a new object with a fresh uid and resourceVersion; 409 AlreadyExists when the name is taken, 422 without a name. */
  create(rt: ResourceType, obj: KubeObject, namespace = metaOf(obj)?.namespace ?? ''): KubeObject {
    const name = metaOf(obj)?.name;
    if (typeof name !== 'string' || name === '') throw new StatusError(422, 'Invalid', `${rt.kind} "" is invalid: metadata.name: Required value: name is required`);
    const ns = scope(rt, namespace);
    if (rt.namespaced && ns === '') throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    const key = objectKey(ns, name);
    if (this.bucket(rt).has(key)) {
      throw new StatusError(409, 'AlreadyExists', `${qualifiedResource(rt)} "${name}" already exists`, { name, kind: rt.resource });
    }
    const stored = structuredClone(obj);
    stored.apiVersion = apiVersionOf(rt);
    stored.kind = rt.kind;
    stored.metadata = { ...stored.metadata, name, uid: `uid-${++this.uidCounter}`, creationTimestamp: new Date(0).toISOString() } as KubeObject['metadata'];
    if (rt.namespaced) stored.metadata!.namespace = ns;
    else delete stored.metadata!.namespace;
    return this.commit(rt, 'ADDED', key, stored, undefined);
  }

  /** Replaces an object; a non-empty metadata.resourceVersion must match (optimistic lock). */
  update(rt: ResourceType, obj: KubeObject, namespace = metaOf(obj)?.namespace ?? ''): KubeObject {
    const name = metaOf(obj)?.name ?? '';
    const ns = scope(rt, namespace);
    const key = objectKey(ns, name);
    const old = this.bucket(rt).get(key);
    if (!old) throw notFound(rt, name);
    const wantRV = metaOf(obj)?.resourceVersion;
    if (wantRV && wantRV !== old.metadata?.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: rt.resource },
      );
    }
    const stored = structuredClone(obj);
    stored.apiVersion = apiVersionOf(rt);
    stored.kind = rt.kind;
    stored.metadata = {
      ...stored.metadata,
      name,
      uid: old.metadata?.uid,
      creationTimestamp: (old.metadata as { creationTimestamp?: string }).creationTimestamp,
    } as KubeObject['metadata'];
    if (rt.namespaced) stored.metadata!.namespace = ns;
    checkImmutable(rt, old, stored);
    return this.commit(rt, 'MODIFIED', key, stored, old);
  }

  /** JSON merge patch (RFC 7386), as `kubectl patch --type merge` sends it. */
  patch(rt: ResourceType, namespace: string, name: string, patch: unknown): KubeObject {
    const old = this.bucket(rt).get(objectKey(scope(rt, namespace), name));
    if (!old) throw notFound(rt, name);
    const merged = mergePatch(structuredClone(old), patch) as KubeObject;
    const meta = { ...merged.metadata, name, resourceVersion: metaOf(patch)?.resourceVersion ?? old.metadata?.resourceVersion };
    return this.update(rt, { ...merged, metadata: meta }, namespace);
  }

  /** Removes an object and returns its last state; 404 when absent. */
  delete(rt: ResourceType, namespace: string, name: string): KubeObject {
    const key = objectKey(scope(rt, namespace), name);
    const old = this.bucket(rt).get(key);
    if (!old) throw notFound(rt, name);
    const gone = structuredClone(old);
    return this.commit(rt, 'DELETED', key, gone, old);
  }

  /**
   * Watches one resource. Without a resourceVersion (or with "0") the current matching objects
   * come first as ADDED events; from a resourceVersion, every later change is replayed; with
   * sendInitialEvents, the current state is followed by a BOOKMARK annotated
   * k8s.io/initial-events-end. An RV older than the compaction point yields one ERROR event
   * (410 Expired) and no subscription, as kube-apiserver answers it.
   * @returns a function that ends the subscription.
   */
  watch(rt: ResourceType, namespace: string, opts: WatchOptions, listener: (event: WatchEvent<KubeObject>) => void): () => void {
    const ns = rt.namespaced ? namespace : '';
    const fieldMatch = parseFieldSelector(opts.fieldSelector);
    const labelMatch = parseLabelSelector(opts.labelSelector);
    const match: Matcher = (obj) => (ns === '' || metaOf(obj)?.namespace === ns) && fieldMatch(obj) && labelMatch(obj);
    const bucket = bucketName(rt);
    const rv = opts.resourceVersion;
    const initial: WatchEvent<KubeObject>[] = [];
    if (opts.sendInitialEvents || !rv || rv === '0') {
      for (const obj of this.bucket(rt).values()) if (match(obj)) initial.push({ type: 'ADDED', object: structuredClone(obj) });
      if (opts.sendInitialEvents) {
        initial.push({ type: 'BOOKMARK', object: this.bookmarkObject(rt, { [INITIAL_EVENTS_END]: 'true' }) });
      }
    } else {
      const from = Number(rv);
      if (!Number.isSafeInteger(from)) throw new StatusError(400, 'BadRequest', `invalid resourceVersion ${JSON.stringify(rv)}`);
      if (from < this.compactedRV) {
        listener({ type: 'ERROR', object: newExpired(`too old resource version: ${from} (${this.compactedRV + 1})`).toStatus() });
        return () => {};
      }
      for (const entry of this.history) {
        if (entry.rv <= from || entry.bucket !== bucket) continue;
        const event = this.eventFor(entry, match);
        if (event) initial.push(event);
      }
    }
    const sub: Subscription = { bucket, namespace: ns, match, listener };
    this.subscriptions.add(sub);
    for (const event of initial) listener(event);
    return () => void this.subscriptions.delete(sub);
  }

  /** A BOOKMARK object carrying the current resourceVersion. */
  bookmarkObject(rt: ResourceType, annotations?: Record<string, string>): KubeObject {
    const metadata: KubeObject['metadata'] = { resourceVersion: String(this.rv) };
    if (annotations) metadata.annotations = annotations;
    return { apiVersion: apiVersionOf(rt), kind: rt.kind, metadata };
  }

  /** Drops all history: watches and continue tokens from before now get 410 Expired. */
  compact(): void {
    this.history = [];
    this.compactedRV = this.rv;
  }

  private commit(rt: ResourceType, type: MutationType, key: string, obj: KubeObject, previous: KubeObject | undefined): KubeObject {
    const rv = ++this.rv;
    obj.metadata = { ...obj.metadata, resourceVersion: String(rv) };
    const bucket = this.bucket(rt);
    if (type === 'DELETED') bucket.delete(key);
    else bucket.set(key, obj);
    const entry: HistoryEntry = { rv, type, bucket: bucketName(rt), key, object: obj, previous };
    this.history.push(entry);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRV = dropped[dropped.length - 1].rv;
    }
    for (const sub of [...this.subscriptions]) {
      if (sub.bucket !== entry.bucket || !this.subscriptions.has(sub)) continue;
      const event = this.eventFor(entry, sub.match);
      if (event) sub.listener(event);
    }
    return structuredClone(obj);
  }

  /** What a watcher with this filter sees of a change: objects entering or leaving it too. */
  private eventFor(entry: HistoryEntry, match: Matcher): WatchEvent<KubeObject> | undefined {
    const now = match(entry.object);
    if (entry.type !== 'MODIFIED') return now ? { type: entry.type, object: structuredClone(entry.object) } : undefined;
    const before = entry.previous !== undefined && match(entry.previous);
    if (now && before) return { type: 'MODIFIED', object: structuredClone(entry.object) };
    if (now) return { type: 'ADDED', object: structuredClone(entry.object) };
    if (before) return { type: 'DELETED', object: structuredClone(entry.object) };
    return undefined;
  }

  /** The objects of one resource as they were at `rv`, rebuilt from history. */
  private stateAt(rt: ResourceType, rv: number, forContinue: boolean): Map<string, KubeObject> {
    const current = this.bucket(rt);
    if (rv >= this.rv) return current;
    if (rv < this.compactedRV) {
      throw forContinue
        ? newExpired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
        : newExpired(`too old resource version: ${rv} (${this.compactedRV + 1})`);
    }
    const state = new Map(current);
    const bucket = bucketName(rt);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const entry = this.history[i];
      if (entry.bucket !== bucket) continue;
      if (entry.type === 'ADDED') state.delete(entry.key);
      else state.set(entry.key, entry.previous!);
    }
    return state;
  }

  private bucket(rt: ResourceType): Map<string, KubeObject> {
    const name = bucketName(rt);
    let bucket = this.buckets.get(name);
    if (!bucket) this.buckets.set(name, (bucket = new Map()));
    return bucket;
  }
}

function bucketName(rt: ResourceType): string {
  return `${rt.group}/${rt.resource}`;
}

function scope(rt: ResourceType, namespace: string): string {
  return rt.namespaced ? namespace : '';
}

/** "secrets", or "containerprofiles.spdx.softwarecomposition.kubescape.io": the server's wording. */
function qualifiedResource(rt: ResourceType): string {
  return rt.group === '' ? rt.resource : `${rt.resource}.${rt.group}`;
}

function notFound(rt: ResourceType, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(rt)} "${name}" not found`, { name, group: rt.group, kind: rt.resource });
}

function tooLargeResourceVersion(wanted: number, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** kube-apiserver's rule for Secrets and ConfigMaps marked `immutable: true`. */
function checkImmutable(rt: ResourceType, old: KubeObject, updated: KubeObject): void {
  if (rt.group !== '' || (rt.resource !== 'secrets' && rt.resource !== 'configmaps')) return;
  const before = old as KubeObject & { immutable?: boolean; data?: unknown; binaryData?: unknown };
  const after = updated as typeof before;
  if (before.immutable !== true) return;
  const name = metaOf(old)?.name ?? '';
  const invalid = (field: string) =>
    new StatusError(422, 'Invalid', `${rt.kind} "${name}" is invalid: ${field}: Forbidden: field is immutable when \`immutable\` is set`, {
      name,
      kind: rt.kind,
      causes: [{ reason: 'FieldValueForbidden', field }],
    });
  if (after.immutable !== true) throw invalid('immutable');
  if (JSON.stringify(before.data ?? {}) !== JSON.stringify(after.data ?? {})) throw invalid('data');
  if (JSON.stringify(before.binaryData ?? {}) !== JSON.stringify(after.binaryData ?? {})) throw invalid('binaryData');
}

/** JSON merge patch (RFC 7386) of `patch` onto `target`; `target` is not changed. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function encodeContinue(rv: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 'refwatch/1', rv, key })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; key: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: unknown; key?: unknown };
    if (parsed.v === 'refwatch/1' && typeof parsed.rv === 'number' && typeof parsed.key === 'string') return { rv: parsed.rv, key: parsed.key };
  } catch {
    // fall through to the error below
  }
  throw new StatusError(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}
