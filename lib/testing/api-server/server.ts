/**
 * ApiServer: an in-process Kubernetes API server over real HTTP, for the demo and for tests
 * that must see what a client does on the wire (HTTP/2 stream use, retries, watch restarts)
 * and how it survives faults a fake source cannot produce (a reset stream, a refused
 * connection, a corrupt line). State is an ObjectStorage, so resourceVersions, watch replay,
 * compaction and conflicts behave as on a cluster; time is an injected Clock, so watch
 * timeouts, bookmarks, delays and downtime run on a FakeClock in tests.
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceType } from '../../api/resource.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { AsyncCloseable } from '../../util/dispose.js';
import { ObjectStorage } from '../object-storage.js';
import { RequestLog } from './accounting.js';
import { ResourceCatalog } from './catalog.js';
import { admitDefinition, customResourceDefinitions } from './custom-resources.js';
import { generateServingCertificates, type ServingCertificates } from './certificates.js';
import { FaultPlan, Faults, type WatchListMode } from './faults.js';
import { buildKubeconfig, writeKubeconfigFile, type Kubeconfig } from './kubeconfig.js';
import { HttpListener } from './listener.js';
import { RequestHandler } from './request-handler.js';
import type { ServedWatch } from './served-watch.js';

/** How ApiServer.start serves: TLS or not, what state and resources, which clock, which limits. */
export interface ApiServerOptions {
  /**
   * Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a freshly generated CA, exposed as `caPem`.
   * Default true. With false: plain HTTP/1.1, plus HTTP/2 for clients that start with the h2c
   * preface (prior knowledge); there is no Upgrade: h2c.
   */
  tls?: boolean;
  /**
   * The state to serve; share one with a MemorySource or a second server to see the same
   * objects and resourceVersions. Default: a new, empty ObjectStorage.
   */
  storage?: ObjectStorage;
  /**
   * Custom resources served besides the built-ins (secrets, configmaps, pods, nodes,
   * namespaces); one with a built-in's group, version and plural replaces it.
   */
  resources?: ResourceType[];
  /**
   * CustomResourceDefinition manifests (apiextensions.k8s.io/v1 objects) to install at start.
   * When given, also as [], the server serves customresourcedefinitions too, so more can be
   * created over HTTP, and every CRD in the storage is served with apiextensions' write rules:
   * `/status` for versions with the status subresource, `metadata.generation` kept as a real
   * server keeps it. Default: CRDs are not served (use `resources` for plain custom resources).
   */
  crds?: object[];
  /** Drives watch timeouts, bookmarks and every fault timer. Default the real clock. */
  clock?: Clock;
  /**
   * Milliseconds between BOOKMARK events on watches that allow them. Default 60 000: the
   * watch cache's bookmark frequency (one minute) in kube-apiserver.
   */
  bookmarkInterval?: number;
  /**
   * HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS each connection advertises. Default 100, what
   * kube-apiserver sets (--http2-max-streams-per-connection's effective default), and the
   * limit that decides how many watches share one connection. `faults.maxStreamsPerConnection`
   * changes it for later connections.
   */
  maxConcurrentStreams?: number;
  /**
   * Bearer token → user name. When set, API requests must carry one of these tokens or get a
   * 401 Status; `kubeconfig()` uses the first. Default: no authentication (any or no token).
   */
  tokens?: Record<string, string>;
  /**
   * The CA and serving certificate to use with TLS, e.g. one `generateServingCertificates()`
   * shared by many servers in a test run (generating takes a few hundred milliseconds). It
   * must name the address clients dial. Default: a fresh CA and certificate per server.
   */
  certificates?: ServingCertificates;
  /** Address to bind. Default 127.0.0.1 (never all interfaces: it is a test server). */
  host?: string;
  /** Port to bind. Default 0: a free port, kept across `faults.restart`. */
  port?: number;
  /**
   * How WatchList requests (sendInitialEvents=true) are answered: 'serve' (default, as
   * kube-apiserver 1.32+), 'refuse' (422, a server with the WatchList gate off) or 'ignore' (a
   * plain watch, a server from before WatchList). `faults.watchList` changes it at run time.
   */
  watchList?: WatchListMode;
}

/** The watch cache's bookmark frequency in kube-apiserver (one minute). */
const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;
/** What kube-apiserver advertises by default (--http2-max-streams-per-connection). */
const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/** Token put into kubeconfigs when the server does not check tokens. */
const OPEN_TOKEN = 'refwatch-embedded';

/**
 * An API server in this process for tests, examples and the demo: real HTTP/2 and TLS over loopback, Kubernetes' list, watch and
 * write semantics over an ObjectStorage, and faults on demand. Start it with `ApiServer.start()`; end it with `stop()`, `close()`
 * or `await using`.
 */
export class ApiServer implements AsyncCloseable {
  /** The served state. Changing it directly is seen by watches like any API write. */
  readonly storage: ObjectStorage;
  /** Every API request, in the order answered. */
  readonly requests: RequestLog;
  /** Faults to inject: dropped watches, garbage lines, compaction, restarts, delayed lists, stream limits. */
  readonly faults: Faults;
  /** The clock the server's timers run on. */
  readonly clock: Clock;
  /** `https://127.0.0.1:PORT` (or http://). Stays the same across restarts. */
  readonly url: string;
  /** PEM of the CA that issued the serving certificate; undefined without TLS. */
  readonly caPem: string | undefined;

  private readonly tokens?: Record<string, string>;
  private readonly watches: Set<ServedWatch>;
  private readonly lifetime: AbortController;
  private readonly listener: HttpListener;
  private down = false;
  private stopping?: Promise<void>;

  private constructor(parts: {
    storage: ObjectStorage;
    clock: Clock;
    tokens?: Record<string, string>;
    watches: Set<ServedWatch>;
    lifetime: AbortController;
    listener: HttpListener;
    plan: FaultPlan;
    url: string;
    caPem?: string;
    log: RequestLog;
  }) {
    this.storage = parts.storage;
    this.clock = parts.clock;
    this.tokens = parts.tokens;
    this.watches = parts.watches;
    this.lifetime = parts.lifetime;
    this.listener = parts.listener;
    this.url = parts.url;
    this.caPem = parts.caPem;
    this.requests = parts.log;
    this.faults = new Faults(
      {
        clock: this.clock,
        dropWatches: () => this.eachWatch((w) => w.drop()),
        garbageOnWatches: () => this.eachWatch((w) => w.garbage()),
        compact: () => this.storage.compact(),
        restart: (downMs) => this.restart(downMs),
        setMaxConcurrentStreams: (n) => this.listener.setMaxConcurrentStreams(n),
      },
      parts.plan,
    );
  }

  /** Generates certificates (with TLS), binds, and serves. */
  static async start(opts: ApiServerOptions = {}): Promise<ApiServer> {
    const host = opts.host ?? '127.0.0.1';
    const tls = opts.tls ?? true;
    const storage = opts.storage ?? new ObjectStorage();
    const clock = opts.clock ?? realClock;
    const watches = new Set<ServedWatch>();
    const lifetime = new AbortController();
    const plan = new FaultPlan(opts.watchList);
    const log = new RequestLog();
    for (const crd of opts.crds ?? []) {
      const name = (crd as KubeObject).metadata?.name ?? '';
      if (!storage.list(customResourceDefinitions, '', { fieldSelector: `metadata.name=${name}` }).items.length)
        storage.create(customResourceDefinitions, admitDefinition(crd as KubeObject));
    }
    const certs = tls ? (opts.certificates ?? (await generateServingCertificates({ ipAddresses: servingIps(host) }))) : undefined;
    let address = '';
    const handler = new RequestHandler({
      storage,
      catalog: new ResourceCatalog(opts.resources, opts.crds ? storage : undefined),
      clock,
      plan,
      log,
      watches,
      bookmarkIntervalMs: opts.bookmarkInterval ?? DEFAULT_BOOKMARK_INTERVAL_MS,
      tokens: opts.tokens,
      serverAddress: () => address,
      lifetime: lifetime.signal,
    });
    const listener = await HttpListener.open({
      host,
      port: opts.port ?? 0,
      tls: certs && { certPem: certs.certPem, keyPem: certs.keyPem },
      maxConcurrentStreams: opts.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      onRequest: handler.handle,
    });
    address = `${urlHost(host)}:${listener.boundPort}`;
    return new ApiServer({
      storage,
      clock,
      tokens: opts.tokens,
      watches,
      lifetime,
      listener,
      plan,
      url: `${tls ? 'https' : 'http'}://${address}`,
      caPem: certs?.caPem,
      log,
    });
  }

  /** The bound port; stays the same across `faults.restart`. */
  get port(): number {
    return this.listener.boundPort;
  }

  /** Client TCP connections open right now (each HTTP/2 connection counts once). */
  get connections(): number {
    return this.listener.connections;
  }

  /** Watch streams open right now. */
  get openWatches(): number {
    return this.watches.size;
  }

  /** False while down for `faults.restart` and after `stop()`. */
  get listening(): boolean {
    return this.listener.listening;
  }

  /** A kubeconfig (as the JSON form of the YAML) that points any client at this server. */
  kubeconfig(opts: { namespace?: string } = {}): Kubeconfig {
    const [token, user] = Object.entries(this.tokens ?? {})[0] ?? [OPEN_TOKEN, 'refwatch'];
    return buildKubeconfig({ server: this.url, caPem: this.caPem, token, user, namespace: opts.namespace });
  }

  /** Writes `kubeconfig()` to `path` (mode 0600, JSON, which kubeconfig loaders read as YAML). */
  writeKubeconfig(path: string, opts: { namespace?: string } = {}): Promise<void> {
    return writeKubeconfigFile(path, this.kubeconfig(opts));
  }

  /**
   * Ends every watch stream, abandons delayed lists, cancels every fault timer, stops
   * listening, destroys every connection and waits until they are closed. Idempotent; the
   * storage is left as it is.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.faults.cancelTimers();
      this.lifetime.abort();
      const streams = [...this.watches];
      for (const w of streams) w.end();
      // Let the final chunks / END_STREAM frames reach the wire, so clients see their watches
      // end normally rather than by the connection reset that follows.
      await untilOrTurns(() => streams.every((w) => w.finished), FLUSH_TURNS);
      await this.listener.close();
    })();
    return this.stopping;
  }

  /** `stop()` under the name every other refwatch resource uses. */
  close(): Promise<void> {
    return this.stop();
  }

  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private async restart(downMs: number): Promise<void> {
    if (this.stopping) return;
    if (this.down) throw new Error('restart: the server is already down for a restart');
    this.down = true;
    try {
      this.eachWatch((w) => w.drop());
      const closed = this.listener.close();
      // The downtime timer is set before any await, so a test's next clock.advance covers it.
      const slept = downMs > 0 ? this.clock.sleep(downMs, this.lifetime.signal) : Promise.resolve(true);
      await closed;
      if (!(await slept) || this.stopping) return;
      await this.listener.listen();
      // stop() may have run while binding, when there was no listener to close yet.
      if (this.stopping) await this.listener.close();
    } finally {
      this.down = false;
    }
  }

  private eachWatch(fn: (w: ServedWatch) => void): number {
    const streams = [...this.watches];
    for (const w of streams) fn(w);
    return streams.length;
  }
}

/**
 * Event-loop turns stop() waits for ended watches to flush before destroying connections. A
 * turn count, not a duration: no timer is involved (nothing to put on the Clock), and a
 * client that does not read cannot hold stop() up.
 */
const FLUSH_TURNS = 20;

async function untilOrTurns(done: () => boolean, turns: number): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** IPs for the serving certificate: loopback always, plus a specific bind address. */
function servingIps(host: string): string[] {
  const ips = ['127.0.0.1', '::1'];
  if (/^[\d.]+$|:/.test(host) && host !== '0.0.0.0' && host !== '::' && !ips.includes(host)) ips.push(host);
  return ips;
}

/** The host part of the URL: a wildcard bind is reached via loopback; IPv6 goes in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
