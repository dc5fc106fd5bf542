/**
 * KubeClient is one cluster's client: KubeConfig auth (via KubeAuth) over one shared
 * ConnectionPool, with the request rules client-go's rest client applies (429 Retry-After,
 * re-auth on 401, Status bodies turned into StatusError). Every ObjectSource made from one
 * client shares its connections, which is the point: a thousand per-object watches become a
 * handful of HTTP/2 connections.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Readable } from 'node:stream';
import { Deadline, isAbortError, raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import { errorMessage, toLogger, type Logger } from '../util/logger.js';
import { ConnectionPool, type ConnectionPoolOptions, type PoolResponse, type PoolStats } from './connection-pool.js';
import { StatusError, reasonForCode, type Status } from './errors.js';
import { kubeConfigIdentity, snapshotKubeConfig } from './config-identity.js';
import { KubeAuth } from './kube-auth.js';
import { withoutRequestData } from './redact.js';
import { collectionPath, objectPath, withQuery } from './paths.js';
import type { ResourceType } from './resource.js';
import type { GetOptions, ListOptions, ObjectSource, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from './source.js';
import type { ObjectList } from './object.js';
import { TransportError, abortError, toTransportError } from './transport-errors.js';
import { DeadlineWheel } from './deadline-wheel.js';
import { WatchStream, type WatchHost } from './watch-stream.js';

/**
 * A watch without timeoutSeconds is ended by the server after a random time between its
 * --min-request-timeout (1800 s) and twice that; 3600 s is the longest kube-apiserver keeps one
 * with the default, so our own deadline (this plus the grace) only fires on a server that forgot it.
 */
const DEFAULT_WATCH_TIMEOUT_SECONDS = 3600;

/** The pool's options, less `proxy`: the kubeconfig's proxy-url decides that. */
export interface KubeClientOptions extends Omit<ConnectionPoolOptions, 'proxy'> {
  /**
   * How many times a request answered 429 is retried after the server's Retry-After before the
   * 429 is returned. Default 10, client-go's. Watches are not retried here: their 429 goes to
   * the reflector, which waits at least Retry-After before watching again.
   */
  maxRetries?: number;
  /** Budget for one get/list/create/update/delete, in ms. Default 60 s. */
  requestTimeout?: number;
  /**
   * An HTTP/1.1 watch with no byte for this long is ended and re-established (HTTP/2 watches
   * rely on PINGs). Must exceed the server's bookmark interval (kube-apiserver: 1 minute).
   * Default 5 minutes.
   */
  watchQuietTimeout?: number;
  /** Extra time a watch is given past its timeoutSeconds before we end it ourselves. Default 30 s. */
  watchDeadlineGrace?: number;
  /** Sent as User-Agent, so the server's audit log and metrics can tell this client apart. Default "refwatch". */
  userAgent?: string;
}

/** Requests by verb, for tests, dashboards and benchmarks. */
export interface KubeClientStats extends PoolStats {
  /** Requests sent since the client was made, by verb; a retry after a 429 or a 401 is not counted again. */
  requests: Record<'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete', number>;
  /** Watch lines that were not events and were skipped. */
  malformedWatchLines: number;
  /** Requests answered 429. */
  throttled: number;
}

/** A request's verb, as `stats().requests` counts it (not the HTTP method: a list and a get are both GETs). */
type RequestVerb = keyof KubeClientStats['requests'];

interface RequestSpec {
  verb: RequestVerb;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

const shared = new Map<string, KubeClient>();

/**
 * One cluster's client: the kubeconfig's server, credentials and proxy-url over one shared
 * ConnectionPool. Every ObjectSource (`source()`, `kubeSource`) and ObjectWriter made from it
 * shares its connections, so a thousand per-object watches become a handful of HTTP/2
 * connections. Requests follow client-go's rest client: a 429 is retried after its Retry-After
 * (`maxRetries`), a 401 asks the kubeconfig for credentials again once, and a Status body
 * becomes a StatusError whose message quotes nothing that was sent. `close()` (or
 * `await using`) ends every request and watch and closes the connections.
 */
export class KubeClient {
  /** The server every request goes to, as the kubeconfig's current cluster names it (see server-address.ts). */
  readonly server: URL;
  private readonly auth: KubeAuth;
  private readonly pool: ConnectionPool;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxRetries: number;
  private readonly requestTimeout: number;
  private readonly watchQuietTimeout: number;
  private readonly watchDeadlineGrace: number;
  private readonly userAgent: string;
  private readonly counters: KubeClientStats['requests'] = { get: 0, list: 0, watch: 0, create: 0, update: 0, patch: 0, delete: 0 };
  private malformed = 0;
  private throttled = 0;
  /** Budgets of requests (and watches not yet answered) in flight, so close() can end them and their timers. */
  private readonly inFlight = new Set<Deadline>();
  /** What every watch of this client shares (see WatchHost): one object, not options and closures per watch. */
  private readonly watchHost: WatchHost;

  /**
   * Connects to nothing yet: the first request dials.
   * @param kc the kubeconfig. Its current cluster (server, proxy-url) is read now; credentials
   *   are asked of it again for requests later (at most once a second, and after a 401), so a
   *   rotated token or a re-run exec plugin is picked up. No copy is taken (`KubeClient.shared`
   *   takes one), so `kc` is read as it is at each of those times.
   * @param opts every option has a default; see KubeClientOptions.
   * @throws Error when the current context has no cluster with a server, or the server or
   *   proxy-url is not an address refwatch can use; the message quotes it and says why.
   */
  constructor(kc: KubeConfig, opts: KubeClientOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.auth = new KubeAuth(kc, this.clock);
    this.server = this.auth.server;
    this.pool = new ConnectionPool(this.server, { ...opts, proxy: this.auth.proxy });
    this.maxRetries = opts.maxRetries ?? 10;
    this.requestTimeout = opts.requestTimeout ?? 60_000;
    this.watchQuietTimeout = opts.watchQuietTimeout ?? 5 * 60_000;
    this.watchDeadlineGrace = opts.watchDeadlineGrace ?? 30_000;
    this.userAgent = opts.userAgent ?? 'refwatch';
    this.watchHost = {
      clock: this.clock,
      logger: this.logger,
      http1QuietMs: this.watchQuietTimeout,
      deadlines: new DeadlineWheel(this.clock),
      open: (path, signal) => this.openWatch(path, signal),
      onMalformed: (path, reason) => {
        this.malformed++;
        this.logger.warn('skipping a malformed watch line', { path: path.split('?')[0], reason });
      },
    };
  }

  /**
   * The client `kubeSource` uses when none is given, shared process-wide by every kubeconfig
   * with the same trust and credentials: the whole current cluster and user, and any custom
   * authentication code (see config-identity.ts). Kubeconfigs that differ in any of
   * them, whatever their names, get clients of their own. The client works from a copy of the
   * kubeconfig taken here, so later changes to `kc` reach new clients only. Its idle
   * connections close by themselves; `closeSharedClients()` closes all.
   */
  static shared(kc: KubeConfig): KubeClient {
    const key = kubeConfigIdentity(kc);
    let client = shared.get(key);
    if (!client) shared.set(key, (client = new KubeClient(snapshotKubeConfig(kc))));
    return client;
  }

  /** An ObjectSource for one resource type over this client's connections. */
  source<T>(resource: ResourceType): ObjectSource<T> {
    return new KubeObjectSource<T>(this, resource);
  }

  /** Requests by verb, skipped watch lines, 429s and the pool's connections and streams, now. */
  stats(): KubeClientStats {
    return { ...this.pool.stats(), requests: { ...this.counters }, malformedWatchLines: this.malformed, throttled: this.throttled };
  }

  /** Closes every connection; requests and watches in flight end, with their timers. */
  async close(): Promise<void> {
    for (const [key, client] of shared) if (client === this) shared.delete(key);
    for (const deadline of this.inFlight) deadline.abort('closed');
    await this.pool.close();
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Sends one request and parses the JSON answer; failures reject with StatusError or
   * TransportError. Everything the request waits for (auth, connecting, the answer, its body,
   * a Retry-After) shares one `requestTimeout` budget; the caller's signal ends it with an
   * AbortError, and `close()` with a TransportError.
   */
  async request<R>(spec: RequestSpec): Promise<R> {
    this.counters[spec.verb]++;
    const deadline = this.deadline(spec.signal);
    const started = this.clock.now();
    try {
      for (let attempt = 0; ; attempt++) {
        const res = await this.send(spec, deadline.signal);
        if (res.status >= 200 && res.status < 300) return parseJson<R>(await readAll(res.body, deadline.signal, this.server), res.status);
        const err = statusErrorFrom(res, await this.readErrorBody(res, deadline), spec.body);
        if (deadline.reason) throw err; // the budget went on an error body that never ended
        if (res.status === 401 && attempt === 0) {
          this.auth.invalidate(); // a rotated token or an expired exec credential: ask again once
          continue;
        }
        if (res.status === 429) {
          this.throttled++;
          const wait = (err.retryAfterSeconds ?? 1) * 1000;
          // A wait that outlasts the budget cannot end in an answer: the 429 (with its
          // Retry-After) goes to the caller now, whose own backoff honours it.
          if (attempt < this.maxRetries && this.clock.now() - started + wait < this.requestTimeout) {
            if (!(await this.clock.sleep(wait, deadline.signal))) throw deadline.reason === 'caller' ? abortError(`waiting ${wait} ms to retry after a 429`) : err;
            continue;
          }
        }
        throw err;
      }
    } catch (err) {
      throw this.failure(deadline, err, `${spec.method} ${spec.path.split('?')[0]} did not complete within ${this.requestTimeout} ms`);
    } finally {
      this.finish(deadline);
    }
  }

  /**
   * A watch: the request is sent on the first read; see WatchStream for how it ends. `signal`
   * ends it at any time, also once it is open.
   */
  watch<T>(path: string, timeoutSeconds: number | undefined, signal: AbortSignal | undefined): WatchStream<T> {
    this.counters.watch++;
    const deadlineMs = (timeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS) * 1000 + this.watchDeadlineGrace;
    return new WatchStream<T>(this.watchHost, path, deadlineMs, signal);
  }

  /**
   * Sends a watch request. Until the response headers (and an error's body) arrive the watch is
   * an ordinary request, with its budget; at the headers the budget, its timer and its link to
   * the caller's signal all go: from then on the WatchStream listens to that signal itself, so
   * an open watch keeps no AbortController, timer or listener of its request.
   */
  private async openWatch(path: string, signal: AbortSignal | undefined): Promise<PoolResponse> {
    const deadline = this.deadline(signal);
    try {
      const res = await this.send({ method: 'GET', path }, deadline.signal);
      if (res.status === 200) {
        this.finish(deadline);
        return res;
      }
      const err = statusErrorFrom(res, await this.readErrorBody(res, deadline));
      if (res.status === 429) this.throttled++;
      if (res.status === 401) this.auth.invalidate();
      throw err;
    } catch (err) {
      this.finish(deadline);
      throw this.failure(deadline, err, `watch ${path.split('?')[0]} was not answered within ${this.requestTimeout} ms`);
    }
  }

  /** A request's budget, linked to the caller's signal, that `close()` can end. */
  private deadline(signal: AbortSignal | undefined): Deadline {
    const deadline = new Deadline(this.clock, this.requestTimeout, signal);
    this.inFlight.add(deadline);
    return deadline;
  }

  private finish(deadline: Deadline): void {
    deadline.end();
    this.inFlight.delete(deadline);
  }

  /**
   * An error response's body within the request's budget. When the budget runs out first (a
   * 500 whose body never ends) the answer is still the server's status, with an empty body.
   */
  private async readErrorBody(res: PoolResponse, deadline: Deadline): Promise<Buffer> {
    try {
      return await readAll(res.body, deadline.signal, this.server);
    } catch (err) {
      if (deadline.reason !== 'timeout') throw err;
      this.logger.debug('an error response body did not complete in time', { server: this.server.origin, status: res.status });
      return Buffer.alloc(0);
    }
  }

  /** What a request that failed with `err` rejects with, given why its deadline fired. */
  private failure(deadline: Deadline, err: unknown, timedOut: string): unknown {
    switch (deadline.reason) {
      case 'closed':
        return new TransportError(`the client for ${this.server.origin} is closed`);
      case 'timeout': {
        if (err instanceof StatusError || err instanceof TransportError) return err;
        const during = (err as { during?: string } | undefined)?.during;
        return new StatusError(504, 'Timeout', during ? `${timedOut}, still ${during}` : timedOut);
      }
      default:
        return err;
    }
  }

  private async send(spec: Pick<RequestSpec, 'method' | 'path' | 'body' | 'contentType'>, signal: AbortSignal): Promise<PoolResponse> {
    // An exec plugin that hangs must not outlive the request's budget either.
    const auth = await raceAbort(this.auth.resolve(), signal).catch((err) => {
      if (isAbortError(err)) throw abortError(`asking the kubeconfig for credentials`);
      throw new Error(`cannot authenticate to ${this.server.origin}: ${errorMessage(err)}`, { cause: err });
    });
    const headers: Record<string, string> = { ...auth.headers, accept: 'application/json', 'user-agent': this.userAgent };
    let body: Buffer | undefined;
    if (spec.body !== undefined) {
      body = Buffer.from(JSON.stringify(spec.body));
      headers['content-type'] = spec.contentType ?? 'application/json';
    }
    // A server URL with a path (a proxy that relocates the apiserver) prefixes every request.
    // Joined, not concatenated: the path lives as long as the stream, and one flat string is
    // smaller than a rope of its pieces.
    const path = this.auth.basePath ? [this.auth.basePath, spec.path].join('') : spec.path;
    try {
      return await this.pool.request({ method: spec.method, path, headers, body, tls: auth.tls, signal });
    } catch (err) {
      if (isAbortError(err)) throw err;
      throw toTransportError(this.server, err);
    }
  }
}

/** Closes every client made by `kubeSource` without an explicit client. */
export async function closeSharedClients(): Promise<void> {
  await Promise.all([...shared.values()].map((c) => c.close()));
}

class KubeObjectSource<T> implements ObjectSource<T> {
  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceType,
  ) {}

  // async, so a name that cannot be a path segment (InvalidNameError from paths.ts) rejects
  // like every other failure instead of throwing at the call.
  async get(namespace: string, name: string, opts: GetOptions = {}): Promise<T> {
    const path = withQuery(objectPath(this.resource, namespace, name), { resourceVersion: opts.resourceVersion });
    return this.client.request<T>({ verb: 'get', method: 'GET', path, signal: opts.signal });
  }

  async list(namespace: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const path = withQuery(collectionPath(this.resource, namespace), {
      fieldSelector: opts.fieldSelector,
      labelSelector: opts.labelSelector,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      limit: opts.limit,
      continue: opts.continue,
    });
    return this.client.request<ObjectList<T>>({ verb: 'list', method: 'GET', path, signal: opts.signal });
  }

  watch(namespace: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent<T>> {
    return {
      [Symbol.asyncIterator]: () => {
        // Built when iteration starts, so an invalid namespace rejects the iteration as the contract says.
        try {
          return this.client.watch<T>(this.watchPath(namespace, opts), opts.timeoutSeconds, opts.signal);
        } catch (err) {
          return {
            next: () => Promise.reject(err),
            [Symbol.asyncIterator]() {
              return this;
            },
          };
        }
      },
    };
  }

  watchEvents(namespace: string, opts: WatchOptions, handler: WatchHandler<T>): WatchHandle {
    let path: string;
    try {
      path = this.watchPath(namespace, opts);
    } catch (err) {
      // As a failed request would: onEnd(err) later, never from inside this call.
      let stopped = false;
      queueMicrotask(() => stopped || handler.onEnd(err));
      return { stop: () => void (stopped || ((stopped = true), handler.onEnd())) };
    }
    return this.client.watch<T>(path, opts.timeoutSeconds, opts.signal).listen(handler);
  }

  private watchPath(namespace: string, opts: WatchOptions): string {
    return withQuery(collectionPath(this.resource, namespace), {
      watch: true,
      fieldSelector: opts.fieldSelector,
      labelSelector: opts.labelSelector,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      timeoutSeconds: opts.timeoutSeconds,
      sendInitialEvents: opts.sendInitialEvents,
    });
  }
}

/**
 * The whole body. A body cut off on the way (an HTTP/1.1 connection reset after the headers, an
 * HTTP/2 connection gone mid-stream, which node:http2 ends quietly) is a TransportError, not a
 * short body that later reads as "not JSON"; the signal firing is an AbortError.
 */
async function readAll(body: Readable, signal: AbortSignal, server: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  const onAbort = () => body.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
  } catch (err) {
    if (signal.aborted) throw abortError('reading the response body');
    throw toTransportError(server, err, `reading the response (${received} bytes received)`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (body.readableEnded) return Buffer.concat(chunks);
  if (signal.aborted) throw abortError('reading the response body');
  throw new TransportError(`the response from ${server.origin} was cut off after ${received} bytes: the connection or stream closed before the body ended`);
}

function parseJson<R>(body: Buffer, status: number): R {
  try {
    return JSON.parse(body.toString('utf8')) as R;
  } catch {
    // The body may be anything, secret data included: describe it, never quote it.
    throw new StatusError(500, 'InternalError', `the server answered ${status} with a body that is not JSON (${body.length} bytes)`);
  }
}

/**
 * The StatusError for a failed response; the message is the server's Status message or a fixed
 * text. Servers quote request bodies back in errors, and a Secret's body is its data, so for a
 * request that sent one: a quote of the whole body ("Object 'Kind' is missing in '{...}'") is
 * cut off, and every piece of a sent value left anywhere in message, reason or details is
 * redacted (see redact.ts).
 */
function statusErrorFrom(res: PoolResponse, body: Buffer, sent?: unknown): StatusError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const isStatus = parsed !== null && typeof parsed === 'object' && (parsed as Status).kind === 'Status';
  if (isStatus && sent !== undefined) parsed = withoutRequestData(parsed as Status, sent);
  const err = isStatus ? StatusError.fromStatus(parsed, res.status) : new StatusError(res.status, reasonForCode(res.status), `the server responded with status ${res.status}`);
  const retryAfter = Number(firstHeader(res.headers['retry-after']));
  if (Number.isFinite(retryAfter) && retryAfter > 0 && err.details?.retryAfterSeconds === undefined) {
    return new StatusError(err.code, err.reason, err.message, { ...err.details, retryAfterSeconds: retryAfter });
  }
  return err;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
