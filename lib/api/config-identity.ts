/**
 * What makes two KubeConfigs the same client: everything that decides whom we trust and who we
 * are. `KubeClient.shared` keys its clients by this, so a second kubeconfig whose cluster and
 * user merely have the same names (every other one calls its user "default") never gets the
 * first one's verified connections or credentials.
 *
 * The identity is a digest of the whole current cluster and user objects (server, CA data or
 * file, insecure-skip-tls-verify, tls-server-name, proxy-url, token, client certificate and
 * key, username and password, exec plugin, auth-provider, impersonation: every field, also
 * those client-node may add later; the context only points at them, and its namespace decides
 * nothing a client sends), plus the code that turns them into credentials when it is
 * not client-node's own (a KubeConfig subclass, authenticators added with `addAuthenticator`,
 * methods replaced on the object), by object identity. Two kubeconfigs loaded from the same
 * file share; an exec plugin or a token file is identified by its configuration, not by what
 * it outputs, so a rotating credential stays in one client, which asks for it again (KubeAuth).
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

/** Where client-node 1.x keeps authenticators added with `addAuthenticator`; private, so read defensively. */
interface KubeConfigInternals {
  authenticators?: unknown;
  custom_authenticators?: unknown;
}

/** Own properties of a KubeConfig that hold its data or client-node's built-in authenticators. */
const DATA_FIELDS = new Set(['clusters', 'users', 'contexts', 'currentContext', 'authenticators', 'custom_authenticators']);

/** Deeper than this a kubeconfig value is not described further (a real one is five levels deep). */
const MAX_DEPTH = 32;

/** A sha256 hex digest of the current context's trust and credentials; equal for equal configurations. */
export function kubeConfigIdentity(kc: KubeConfig): string {
  const context = kc.getContextObject(kc.getCurrentContext());
  const parts = {
    cluster: context ? kc.getCluster(context.cluster) : null,
    user: context ? kc.getUser(context.user) : null,
    code: customCode(kc).map(serialOf),
  };
  return createHash('sha256')
    .update(canonicalJson(parts, 0, new Set()))
    .digest('hex');
}

/**
 * A KubeConfig that holds deep copies of `kc`'s current context, cluster and user, and `kc`'s
 * own code (class, added authenticators, replaced methods), with fresh built-in authenticators
 * (client-node caches exec credentials in them). A shared client works from this copy, so
 * changing or re-pointing `kc` later cannot change what a client already keyed by its old
 * identity trusts or sends. Returns `kc` itself when it has no current cluster (KubeClient then
 * says so).
 */
export function snapshotKubeConfig(kc: KubeConfig): KubeConfig {
  const context = kc.getContextObject(kc.getCurrentContext());
  const cluster = context ? kc.getCluster(context.cluster) : null;
  if (!context || !cluster) return kc;
  const KubeConfigClass = clientNodeClass(kc);
  if (!KubeConfigClass) return kc;
  const user = kc.getUser(context.user);
  const copy = Object.create(Object.getPrototypeOf(kc) as object) as KubeConfig;
  for (const key of Reflect.ownKeys(kc)) {
    if (typeof key === 'string' && DATA_FIELDS.has(key)) continue;
    Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(kc, key)!);
  }
  const builtIns = (new KubeConfigClass() as unknown as KubeConfigInternals).authenticators;
  if (builtIns !== undefined) (copy as unknown as KubeConfigInternals).authenticators = builtIns;
  const customs = (kc as unknown as KubeConfigInternals).custom_authenticators;
  if (Array.isArray(customs)) (copy as unknown as KubeConfigInternals).custom_authenticators = [...customs];
  KubeConfigClass.prototype.loadFromOptions.call(copy, {
    clusters: [copyData(cluster, 0)],
    users: user ? [copyData(user, 0)] : [],
    contexts: [copyData(context, 0)],
    currentContext: context.name,
  });
  return copy;
}

/**
 * client-node's own KubeConfig class, found from the instance rather than imported: refwatch
 * never loads client-node at run time (it is a peer dependency, and the user's copy is the one
 * that counts). It is the root of the instance's class chain; undefined for an object that is
 * not a KubeConfig at all.
 */
function clientNodeClass(kc: KubeConfig): (new () => KubeConfig) | undefined {
  let proto = Object.getPrototypeOf(kc) as object | null;
  while (proto !== null) {
    const parent = Object.getPrototypeOf(proto) as object | null;
    if (parent === Object.prototype || parent === null) break;
    proto = parent;
  }
  const ctor = (proto as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor !== 'function' || typeof (ctor.prototype as Partial<KubeConfig>).loadFromOptions !== 'function') return undefined;
  return ctor as new () => KubeConfig;
}

/** A deep copy of plain data (objects, arrays, primitives); anything else is kept as it is, by reference. */
function copyData<T>(value: T, depth: number): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => copyData(v, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = copyData(v, depth + 1);
  return out as T;
}

/** The objects whose behaviour, not data, decides the credentials: anything not client-node's own. */
function customCode(kc: KubeConfig): object[] {
  const code: object[] = [];
  const proto = Object.getPrototypeOf(kc) as object;
  if (proto !== clientNodeClass(kc)?.prototype) code.push(proto);
  const customs = (kc as unknown as KubeConfigInternals).custom_authenticators;
  if (Array.isArray(customs)) for (const a of customs) if (a !== null && typeof a === 'object') code.push(a);
  for (const key of Reflect.ownKeys(kc)) {
    if (typeof key === 'string' && DATA_FIELDS.has(key)) continue;
    const value = Object.getOwnPropertyDescriptor(kc, key)!.value as unknown;
    if (typeof value === 'function') code.push(value);
  }
  return code;
}

const serials = new WeakMap<object, number>();
let nextSerial = 0;

/** A number per object for the life of the process: the identity of code, which has no content to compare. */
function serialOf(obj: object): number {
  let serial = serials.get(obj);
  if (serial === undefined) serials.set(obj, (serial = ++nextSerial));
  return serial;
}

/**
 * JSON with object keys sorted and undefined members left out, so equal configurations give
 * equal text whatever order their fields were set in. Values that are not plain data
 * (functions, class instances, cycles) are written as their object serial: equal only to
 * themselves.
 */
function canonicalJson(value: unknown, depth: number, seen: Set<object>): string {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (value === undefined) return 'null';
  if (typeof value === 'bigint' || typeof value === 'symbol') return JSON.stringify({ $value: String(value) });
  const obj = value as object;
  const proto = Object.getPrototypeOf(obj) as unknown;
  const plain = Array.isArray(obj) || proto === Object.prototype || proto === null;
  if (typeof value === 'function' || !plain || seen.has(obj) || depth > MAX_DEPTH) return JSON.stringify({ $object: serialOf(obj) });
  seen.add(obj);
  const text = Array.isArray(obj)
    ? `[${obj.map((v: unknown) => canonicalJson(v, depth + 1, seen)).join(',')}]`
    : `{${Object.keys(obj)
        .filter((k) => (obj as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((obj as Record<string, unknown>)[k], depth + 1, seen)}`)
        .join(',')}}`;
  seen.delete(obj);
  return text;
}
