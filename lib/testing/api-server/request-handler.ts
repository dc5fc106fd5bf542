/**
 * The API logic of the embedded server: from an HTTP request to an ObjectStorage call and its
 * answer, with kube-apiserver's verbs, status codes and Status bodies. Every request that
 * reaches a resource path is authenticated, may meet an injected fault, and is recorded in the
 * request log; every failure, including malformed input, becomes a Status response, never an
 * exception that escapes into the HTTP server.
 */
import { StatusError } from '../../api/errors.js';
import { oneTermEqualSelector } from '../../api/fields.js';
import type { KubeObject } from '../../api/object.js';
import { apiVersionOf, type ResourceType } from '../../api/resource.js';
import type { Clock } from '../../util/clock.js';
import { mergePatch, type ObjectStorage } from '../object-storage.js';
import type { RequestLog, RequestRecord, Verb } from './accounting.js';
import type { ResourceCatalog } from './catalog.js';
import { admitDefinition, customResourceDefinitions, prepareCreate, prepareStatusUpdate, prepareUpdate } from './custom-resources.js';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.js';
import { Exchange, type ServerRequest, type ServerResponseLike } from './exchange.js';
import type { FaultPlan } from './faults.js';
import { isWatch, listOptions, queryBool, watchOptions } from './query.js';
import { parsePath, type ResourcePath, type Route } from './router.js';
import { ServedWatch } from './served-watch.js';

/**
 * kube-apiserver's limit on a request body (DefaultMaxRequestSizeBytes, 3 MiB): etcd refuses
 * larger values anyway, so a client that sends more has a bug a test should see.
 */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * What the handler works with, all owned by the server: the handler keeps no state of its own
 * beyond this, so a restart (which closes and reopens only the listener) keeps every object and counter.
 */
export interface HandlerContext {
  /** The served objects and their resourceVersion counter; every verb ends up here. */
  storage: ObjectStorage;
  /** Which group/version/resource paths exist, for routing and discovery documents. */
  catalog: ResourceCatalog;
  /** The server's clock: list delays and watch timeouts and bookmarks run on it. */
  clock: Clock;
  /** The armed faults, consulted on every resource request before storage is touched. */
  plan: FaultPlan;
  /** Where each resource request is recorded with the status it got (0 if the client left first). */
  log: RequestLog;
  /** Open watch streams; the handler adds them, each removes itself when it ends. */
  watches: Set<ServedWatch>;
  /** Milliseconds between BOOKMARKs on watches that allow them (the server's `bookmarkInterval`). */
  bookmarkIntervalMs: number;
  /** Bearer token → user; undefined means no authentication. */
  tokens?: Record<string, string>;
  /** "host:port" as clients reach the server, for `/api`. */
  serverAddress: () => string;
  /** Aborts when the server stops: delayed lists give up. */
  lifetime: AbortSignal;
}

/**
 * Turns HTTP requests into storage calls and kube-apiserver-shaped answers. One instance serves
 * both protocols for the server's whole life; every failure becomes a Status response.
 */
export class RequestHandler {
  /** @param ctx the server's state and settings, shared, not copied: faults armed later apply from the next request. */
  constructor(private readonly ctx: HandlerContext) {}

  /**
   * The 'request' listener for both protocols. An arrow property, so it can be passed as is; it
   * returns at once, and any failure, thrown or rejected, is answered as a Status response.
   */
  readonly handle = (req: ServerRequest, res: ServerResponseLike): void => {
    const exchange = new Exchange(req, res);
    this.serve(exchange).catch((err: unknown) => exchange.sendError(asStatusError(err)));
  };

  private async serve(ex: Exchange): Promise<void> {
    let url: URL;
    try {
      url = new URL(ex.req.url ?? '/', 'http://embedded.invalid');
    } catch {
      throw new StatusError(400, 'BadRequest', 'the request URL is malformed');
    }
    const route = parsePath(url.pathname);
    if (route?.kind === 'objects') return this.serveObjects(ex, route.path, url.searchParams);
    this.authenticate(ex, route?.kind === 'health' || route?.kind === 'version');
    const document = route && this.document(route);
    if (typeof document === 'string') return ex.sendRaw(200, document, { 'content-type': 'text/plain; charset=utf-8' });
    if (document === undefined) throw pathNotFound();
    ex.sendJson(200, document);
  }

  /** Answers for the non-resource paths; undefined when there is nothing at that path. */
  private document(route: Exclude<Route, { kind: 'objects' }>): object | string | undefined {
    const { catalog } = this.ctx;
    switch (route.kind) {
      case 'health':
        return 'ok';
      case 'version':
        return versionInfo();
      case 'coreVersions':
        return coreVersions(this.ctx.serverAddress());
      case 'groups':
        return groupList(catalog);
      case 'group':
        return group(catalog, route.group);
      case 'resources':
        return resourceList(catalog, route.group, route.version);
    }
  }

  private async serveObjects(ex: Exchange, path: ResourcePath, query: URLSearchParams): Promise<void> {
    const verb = verbOf(ex.method, path, query);
    if (verb) this.record(ex, verb, path, query);
    this.authenticate(ex, false);
    if (!verb) throw methodNotAllowed();
    const { catalog } = this.ctx;
    const rt = catalog.find(path.group, path.version, path.resource);
    if (!rt || (path.namespaced && !rt.namespaced)) throw pathNotFound();
    // `/status` of a custom resource whose CRD declares it; every other subresource is absent.
    const status = path.subresource === 'status';
    if (path.subresource !== undefined && !(status && catalog.hasStatus(rt) && (verb === 'get' || verb === 'update' || verb === 'patch'))) throw pathNotFound();
    if (rt.namespaced && !path.namespaced) {
      // `/api/v1/secrets` lists and watches across namespaces; nothing else lives there.
      if (path.name !== undefined) throw pathNotFound();
      if (verb !== 'list' && verb !== 'watch') throw methodNotAllowed();
    }
    const injected = this.ctx.plan.takeFailure(verb, path.resource);
    if (injected) throw injected;

    const { storage } = this.ctx;
    const ns = path.namespace;
    switch (verb) {
      case 'get':
        return ex.sendJson(200, storage.get(rt, ns, path.name!));
      case 'list':
        return this.list(ex, rt, ns, query);
      case 'watch':
        return this.watch(ex, rt, path, query);
      case 'create': {
        let obj = checkBody(rt, path, await readJson(ex), false);
        if (rt === customResourceDefinitions) obj = admitDefinition(obj);
        else if (catalog.isDefined(rt)) obj = prepareCreate(obj, catalog.hasStatus(rt));
        return ex.sendJson(201, storage.create(rt, obj, ns));
      }
      case 'update': {
        const obj = checkBody(rt, path, await readJson(ex), true);
        return ex.sendJson(200, storage.update(rt, this.customWrite(rt, ns, path.name!, obj, status), ns));
      }
      case 'patch': {
        checkPatchType(ex.header('content-type'));
        const patch = await readJson(ex);
        if (rt !== customResourceDefinitions && !catalog.isDefined(rt)) return ex.sendJson(200, storage.patch(rt, ns, path.name!, patch));
        const old = storage.get(rt, ns, path.name!);
        const merged = mergePatch(old, patch) as KubeObject;
        const rv = (patch as KubeObject).metadata?.resourceVersion ?? old.metadata?.resourceVersion;
        const obj = { ...merged, metadata: { ...merged.metadata, name: path.name!, resourceVersion: rv } };
        return ex.sendJson(200, storage.update(rt, this.customWrite(rt, ns, path.name!, obj, status), ns));
      }
      case 'delete':
        return ex.sendJson(200, storage.delete(rt, ns, path.name!));
    }
  }

  /** A replace of a CRD or a CRD-defined object, shaped by the custom-resource rules. */
  private customWrite(rt: ResourceType, ns: string, name: string, obj: KubeObject, toStatus: boolean): KubeObject {
    const { catalog, storage } = this.ctx;
    if (rt === customResourceDefinitions) return admitDefinition(obj);
    if (!catalog.isDefined(rt)) return obj;
    const old = storage.get(rt, ns, name);
    return toStatus ? prepareStatusUpdate(old, obj) : prepareUpdate(old, obj, catalog.hasStatus(rt));
  }

  private async list(ex: Exchange, rt: ResourceType, namespace: string, query: URLSearchParams): Promise<void> {
    const opts = listOptions(query);
    const delay = this.ctx.plan.listDelayMs;
    if (delay > 0 && !(await this.ctx.clock.sleep(delay, AbortSignal.any([ex.signal, this.ctx.lifetime])))) return;
    ex.sendJson(200, this.ctx.storage.list(rt, namespace, opts));
  }

  private watch(ex: Exchange, rt: ResourceType, path: ResourcePath, query: URLSearchParams): void {
    const options = watchOptions(query);
    if (options.sendInitialEvents) {
      const mode = this.ctx.plan.watchList;
      if (mode === 'refuse') throw watchListForbidden();
      if (mode === 'ignore') {
        // A server from before WatchList does not know these parameters and drops them.
        delete options.sendInitialEvents;
        delete options.resourceVersionMatch;
      }
    }
    if (path.name !== undefined) {
      // Watching one object by URL, as kube-apiserver allows: a name field selector.
      const byName = oneTermEqualSelector('metadata.name', path.name);
      options.fieldSelector = options.fieldSelector ? `${options.fieldSelector},${byName}` : byName;
    }
    const { plan, watches } = this.ctx;
    const garbageFirst = plan.takeGarbage();
    let stream: ServedWatch;
    try {
      stream = ServedWatch.open({
        exchange: ex,
        storage: this.ctx.storage,
        resource: rt,
        namespace: path.namespace,
        options,
        clock: this.ctx.clock,
        bookmarkIntervalMs: this.ctx.bookmarkIntervalMs,
        garbageFirst,
        onClose: (w) => watches.delete(w),
      });
    } catch (err) {
      // The watch never started: the garbage is still owed to the next one.
      if (garbageFirst) plan.armGarbage();
      throw err;
    }
    if (stream.active) watches.add(stream);
  }

  /** Logs the request once: when its head goes out, or with code 0 if the client left first. */
  private record(ex: Exchange, verb: Verb, path: ResourcePath, query: URLSearchParams): void {
    const entry: Omit<RequestRecord, 'code'> = { verb, group: path.group, resource: path.resource, namespace: path.namespace, httpVersion: ex.httpVersion };
    if (path.name !== undefined) entry.name = path.name;
    for (const key of ['fieldSelector', 'labelSelector', 'resourceVersion', 'continue'] as const) {
      const value = query.get(key);
      if (value) entry[key] = value;
    }
    const limit = Number(query.get('limit'));
    if (query.has('limit') && Number.isSafeInteger(limit)) entry.limit = limit;
    if (verb === 'watch' && queryBool(query, 'sendInitialEvents')) entry.sendInitialEvents = true;
    let recorded = false;
    ex.onHead = (code) => {
      recorded = true;
      this.ctx.log.push({ ...entry, code });
    };
    ex.signal.addEventListener('abort', () => recorded || this.ctx.log.push({ ...entry, code: 0 }), { once: true });
  }

  /**
   * Bearer-token authentication when tokens are configured. Health and version are public, as
   * kube-apiserver's system:public-info-viewer makes them, but only to anonymous requests: a
   * wrong token is refused everywhere, since authentication runs before authorization.
   */
  private authenticate(ex: Exchange, isPublic: boolean): void {
    const { tokens } = this.ctx;
    if (!tokens) return;
    const header = ex.header('authorization');
    if (header === undefined && isPublic) return;
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (token === undefined || !Object.hasOwn(tokens, token)) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
  }
}

function verbOf(method: string, path: ResourcePath, query: URLSearchParams): Verb | undefined {
  const item = path.name !== undefined;
  switch (method) {
    case 'GET':
      if (isWatch(query)) return 'watch';
      return item ? 'get' : 'list';
    case 'POST':
      return item ? undefined : 'create';
    case 'PUT':
      return item ? 'update' : undefined;
    case 'PATCH':
      return item ? 'patch' : undefined;
    case 'DELETE':
      // deletecollection is not served.
      return item ? 'delete' : undefined;
    default:
      return undefined;
  }
}

async function readJson(ex: Exchange): Promise<unknown> {
  const type = mediaType(ex.header('content-type'));
  if (ex.method !== 'PATCH' && type !== undefined && type !== 'application/json') {
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json`);
  }
  const body = await ex.readBody(MAX_BODY_BYTES);
  if (body.length === 0) throw new StatusError(400, 'BadRequest', 'the request body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the input, which may be secret data: say only what went wrong.
    throw new StatusError(400, 'BadRequest', 'the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StatusError(400, 'BadRequest', 'the request body must be a JSON object');
  }
  return parsed;
}

/** The checks kube-apiserver makes before storage sees a create or update body. */
function checkBody(rt: ResourceType, path: ResourcePath, body: unknown, isUpdate: boolean): KubeObject {
  const obj = body as KubeObject & { metadata?: unknown };
  if (obj.metadata !== undefined && (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))) {
    throw new StatusError(400, 'BadRequest', 'metadata must be an object');
  }
  const expectedVersion = apiVersionOf(rt);
  if (obj.apiVersion !== undefined && obj.apiVersion !== expectedVersion) {
    throw new StatusError(400, 'BadRequest', `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== rt.kind) {
    throw new StatusError(400, 'BadRequest', `the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`);
  }
  const meta = { ...(obj.metadata as KubeObject['metadata']) };
  if (rt.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== path.namespace) {
    throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  }
  if (isUpdate && meta.name !== path.name) {
    throw new StatusError(400, 'BadRequest', `the name of the object (${String(meta.name ?? '')}) does not match the name on the URL (${path.name})`);
  }
  const generateName = (meta as { generateName?: unknown }).generateName;
  if (!isUpdate && !meta.name && typeof generateName === 'string' && generateName !== '') {
    meta.name = `${generateName}${randomSuffix()}`;
  }
  return { ...obj, metadata: meta };
}

/** Only JSON merge patch is served; kube-apiserver's other patch types get 415. */
function checkPatchType(contentType: string | undefined): void {
  if (mediaType(contentType) !== 'application/merge-patch+json') {
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (json-patch, strategic-merge-patch and apply-patch are not served by the embedded server)',
    );
  }
}

function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(';')[0].trim().toLowerCase();
}

/** Five characters from the alphabet kube-apiserver's generateName uses (no vowels, no look-alikes). */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 5; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
}

/** kube-apiserver's answer to sendInitialEvents when its WatchList feature gate is off. */
function watchListForbidden(): StatusError {
  const detail = 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled';
  return new StatusError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: ${detail}`, {
    kind: 'ListOptions',
    group: 'meta.k8s.io',
    causes: [{ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field: 'sendInitialEvents' }],
  });
}

function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

function methodNotAllowed(): StatusError {
  return new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

function asStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}
