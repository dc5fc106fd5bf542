/**
 * ConnectionPool carries every request to one API server over as few connections as the
 * server allows. client-node opens a connection per watch; with thousands of per-object
 * watches that is thousands of TLS sessions. Here watches are HTTP/2 streams, packed onto a
 * connection up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (kube-apiserver: 100) and
 * spilling onto a new connection beyond it, as Go's transport does, so no request ever queues
 * silently behind a full connection. Requests that find no free slot queue here, in order,
 * while connections are dialled for them, several at once (see dialMore), and take slots as
 * they come up or free. Dead connections are found with HTTP/2 PINGs. Servers
 * that do not offer h2 in ALPN (or plain http://) get HTTP/1.1 with keep-alive instead.
 *
 * A connection still being set up is the pool's too (a `Dial`): it has a deadline of its own,
 * a request waiting for it stops waiting when its own signal fires, and `close()` ends it at
 * whatever step it is stuck in (TCP, a proxy's CONNECT, TLS, the server's SETTINGS).
 */
import { once, type EventEmitter } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { realClock, type Clock, type Timer } from '../util/clock.js';
import { toLogger, type Logger, type LoggerLike } from '../util/logger.js';
import { H2Connection, type H2ConnectionOptions } from './h2-connection.js';
import type { TlsMaterial } from './kube-auth.js';
import { openTunnel, proxyAuthorization, proxyEndpoint } from './proxy.js';
import { TransportError, abortError, toTransportError } from './transport-errors.js';

export { TransportError, toTransportError } from './transport-errors.js';

/**
 * TCP keep-alive probes start after this much silence. Only a backstop for what PINGs (HTTP/2)
 * and the quiet timeout (HTTP/1.1 watches) find first: it lets the kernel drop a peer that
 * vanished on a connection nobody writes to, well before the default two hours, as Go's
 * net.Dialer does with its 30 s KeepAlive.
 */
const TCP_KEEPALIVE_MS = 30_000;

/**
 * Default connect budget (TCP, proxy CONNECT, TLS, the server's SETTINGS): Go's net.Dialer
 * Timeout in client-go's transport. Long enough for a loaded apiserver's TLS handshake, short
 * enough that a blackholed address fails a request well within its own 60 s budget.
 */
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/**
 * Our own cap on streams per connection when the caller sets none: Go's http2 transport's
 * limit for a server that advertises none. The server's SETTINGS_MAX_CONCURRENT_STREAMS lowers
 * it: kube-apiserver advertises 100 (k8s.io/apiserver's secure serving, since the 2023
 * rapid-reset fix, unless --http2-max-streams-per-connection says otherwise), aggregated API
 * servers 1000; 100,000 watches on kube-apiserver so take 1,000 connections.
 */
const DEFAULT_MAX_STREAMS = 1000;

/**
 * Connections dialled at once per TLS identity while requests queue for a slot. Enough to keep
 * a server's accept and TLS handshakes busy (100,000 watches need 1,000 connections: serial
 * handshakes would take minutes), few enough that a burst never turns into a file-descriptor
 * storm like the one-dial-per-request of Go's transport under the same load.
 */
const MAX_PARALLEL_DIALS = 8;

/**
 * One request as the pool sends it: already authenticated and serialised (KubeClient does both),
 * so the pool knows nothing of Kubernetes, only of connections.
 */
export interface PoolRequest {
  /** The HTTP method; the API's verbs map onto these five. */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. "/api/v1/namespaces/ns/secrets?watch=true". */
  path: string;
  /**
   * Header names lower-cased, as HTTP/2 sends them. May hold `authorization`: the pool never
   * logs them. `content-length` is added for HTTP/1.1 bodies; do not set it.
   */
  headers: Record<string, string>;
  /** The request body, sent whole; absent for GET and DELETE. */
  body?: Buffer;
  /**
   * The TLS settings the connection must have. Requests share connections only with requests
   * of the same `identity`, so two users of one server never share a client certificate.
   */
  tls: TlsMaterial;
  /**
   * Ends the request while it queues for a stream slot, while its connection is dialled, or
   * before the headers arrive: the request rejects with an AbortError. Once the headers are in,
   * abandon it by destroying `PoolResponse.body` (over HTTP/2 the pool has let go of the
   * signal by then, so an open watch holds nothing of its request).
   */
  signal?: AbortSignal;
}

/**
 * A response whose headers have arrived; the body is still to be read. Any status resolves
 * (a 404 or 500 is an answer, not a TransportError): the caller decides what it means.
 */
export interface PoolResponse {
  /** The HTTP status code. */
  status: number;
  /** Header names lower-cased, as node:http and node:http2 give them. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The response body. Read it to the end or destroy it: either gives the stream slot (or the
   * HTTP/1.1 socket) back, and destroying it is how a request is abandoned after its headers.
   * A connection lost mid-body surfaces as an 'error' (or an early end) here, to the reader.
   */
  body: Readable;
  /** The protocol the answer came over: watches over HTTP/1.1 need a quiet timeout, HTTP/2 ones have PINGs. */
  protocol: 'h2' | 'http/1.1';
}

/**
 * How the pool dials, multiplexes and watches its connections; every option is optional, and
 * the defaults are those of client-go's transport. KubeClientOptions extends it.
 */
export interface ConnectionPoolOptions {
  /** Drives pings, ping timeouts, idle closing and connect timeouts. Default: wall clock. */
  clock?: Clock;
  /**
   * Upper bound of concurrent streams per HTTP/2 connection. The server's
   * SETTINGS_MAX_CONCURRENT_STREAMS can lower it, never raise it, so by default the server's
   * own limit is used (kube-apiserver: 100). Default 1000, Go's http2 transport's limit for a
   * server that advertises none.
   */
  maxStreamsPerConnection?: number;
  /**
   * An HTTP/2 PING is sent this often on a connection carrying streams. Default 30 s (Go's
   * HTTP2_READ_IDLE_TIMEOUT_SECONDS default): a half-open connection is found in under a minute
   * instead of when the kernel gives up (client-node #2127, #2432).
   */
  pingInterval?: number;
  /** A PING unanswered this long closes the connection, failing its streams. Default 15 s (Go's). */
  pingTimeout?: number;
  /** A connection with no request in flight for this long is closed. Default 90 s (Go's IdleConnTimeout). */
  idleTimeout?: number;
  /**
   * Budget for setting up one connection: TCP, a proxy's CONNECT, TLS and the server's HTTP/2
   * SETTINGS together. Past it the dial fails with a TransportError naming the step it was
   * stuck in, and so do the requests no other connection can carry. Default 30 s (Go's
   * net.Dialer Timeout in client-go).
   */
  connectTimeout?: number;
  /** false forces HTTP/1.1 even when the server offers h2 (client-go's DISABLE_HTTP2). Default true. */
  http2?: boolean;
  /**
   * An http:// proxy every connection goes through (see proxy.ts): a CONNECT tunnel for an
   * https:// server, absolute-form requests for an http:// one. KubeClient sets it from the
   * kubeconfig's proxy-url. Default: none, connect directly. Environment variables
   * (HTTPS_PROXY, NO_PROXY) are not read.
   */
  proxy?: URL;
  /**
   * Connection events at `debug` (opened, failed) and an unanswered PING at `warn`; through
   * KubeClient also a skipped watch line at `warn`. Never a header or body. Any `LoggerLike`
   * (refwatch's message-first Logger, pino, bunyan, console), normalised by `toLogger` so no
   * field is lost. Default: nothing is logged.
   */
  logger?: LoggerLike;
}

/** A snapshot of the pool, for stats and tests; counts at the moment `stats()` was called. */
export interface PoolStats {
  /** Open TCP connections, both protocols. */
  connections: number;
  /** Connections still being set up: TCP, a proxy tunnel, TLS, or the wait for the server's SETTINGS. */
  connecting: number;
  /** The HTTP/2 share of `connections`: those still taking streams (a retired one leaves at its GOAWAY or error). */
  http2Connections: number;
  /** Requests and watches in flight. */
  activeStreams: number;
  /** Negotiated protocol per TLS identity seen. */
  protocols: string[];
}

/**
 * Every request to one API server, over as few connections as the server allows: HTTP/2 streams
 * up to each connection's stream limit, then a new connection; HTTP/1.1 keep-alive for a server
 * without h2. Connections are kept per TLS identity; an HTTP/2 one with nothing in flight closes
 * after `idleTimeout`. Nothing is retried here: a failed request rejects, and its caller's
 * backoff decides. `close()` ends everything, connections still being dialled included.
 */
export class ConnectionPool {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly h2opts: H2ConnectionOptions;
  private readonly connectTimeout: number;
  private readonly allowH2: boolean;
  private readonly proxy: URL | undefined;
  private readonly h2 = new Set<H2Connection>();
  /** Per TLS identity: connections with a free stream slot, requests waiting for one, dials under way. */
  private readonly shards = new Map<string, Shard>();
  private readonly maxStreams: number;
  /** Every connection being set up, HTTP/2 or a proxy tunnel for HTTP/1.1: close() ends them. */
  private readonly dials = new Set<Dial>();
  /** What ALPN chose per TLS identity; HTTP/1.1 once a server declined h2. */
  private readonly protocol = new Map<string, 'h2' | 'http/1.1'>();
  private readonly agents = new Map<string, http.Agent>();
  private readonly h1Sockets = new Set<net.Socket>();
  private h1Active = 0;
  private closed = false;

  /**
   * Dials nothing yet: the first request opens the first connection.
   * @param server the API server; https:// gets HTTP/2 when the server offers it, http:// always
   *   HTTP/1.1. Only its origin is used: a path prefix is the caller's to put into each request.
   * @param opts see ConnectionPoolOptions; every option has a default.
   */
  constructor(
    /** The API server every request goes to. */
    readonly server: URL,
    opts: ConnectionPoolOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.connectTimeout = opts.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.allowH2 = (opts.http2 ?? true) && server.protocol === 'https:';
    this.proxy = opts.proxy;
    this.maxStreams = opts.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS;
    this.exchangeOwner = { server, releaseSlot: (conn) => this.releaseSlot(conn) };
    this.h2opts = {
      clock: this.clock,
      logger: this.logger,
      maxStreamsPerConnection: this.maxStreams,
      pingInterval: opts.pingInterval ?? 30_000,
      pingTimeout: opts.pingTimeout ?? 15_000,
      idleTimeout: opts.idleTimeout ?? 90_000,
      onRetire: (conn) => {
        this.h2.delete(conn);
        this.shards.get(conn.identity)?.free.delete(conn);
      },
      onCapacity: (conn) => this.shards.get(conn.identity)?.offer(conn),
    };
  }

  /** Connections, dials and streams right now; cheap (no I/O), one pass over the HTTP/2 connections. */
  stats(): PoolStats {
    let h2Active = 0;
    for (const c of this.h2) h2Active += c.active;
    return {
      connections: this.h2.size + this.h1Sockets.size,
      connecting: this.dials.size,
      http2Connections: this.h2.size,
      activeStreams: h2Active + this.h1Active,
      protocols: [...new Set(this.protocol.values())],
    };
  }

  /**
   * Sends one request. Rejects with a TransportError when no answer arrives (connect, TLS,
   * proxy, reset), or with an AbortError as soon as `req.signal` fires, also while the
   * connection is still being set up.
   */
  async request(req: PoolRequest): Promise<PoolResponse> {
    if (this.closed) throw this.closedError();
    if (req.signal?.aborted) throw abortError();
    if (this.allowH2 && this.protocol.get(req.tls.identity) !== 'http/1.1') {
      const conn = await this.h2Connection(req.tls, req.signal);
      if (conn) return this.h2Request(conn, req);
    }
    return this.h1Request(req);
  }

  /**
   * Closes every connection, also those still being set up, and resolves once their sockets
   * closed. Queued requests and every later one reject with a TransportError ("connection pool
   * for ... is closed"), requests in flight with a TransportError too, and bodies being read
   * end. A second call resolves at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing: Promise<unknown>[] = [];
    for (const shard of this.shards.values()) shard.rejectWaiting(0, this.closedError());
    for (const dial of this.dials) closing.push(dial.fail(this.closedError()));
    for (const conn of [...this.h2]) {
      closing.push(conn.session.closed ? Promise.resolve() : once(conn.session, 'close').catch(() => {}));
      conn.destroy();
    }
    for (const agent of this.agents.values()) agent.destroy();
    for (const socket of this.h1Sockets) {
      if (!socket.destroyed) closing.push(once(socket, 'close').catch(() => {}));
      socket.destroy();
    }
    this.agents.clear();
    await Promise.all(closing);
  }

  private closedError(): TransportError {
    return new TransportError(`connection pool for ${this.server.origin} is closed`);
  }

  /**
   * A connection with a free stream slot, reserved for the caller; undefined if the server only
   * speaks HTTP/1.1. The slot search is O(1): each identity keeps the set of connections with
   * room. Without one the caller queues and connections are dialled for the queue, several at
   * once (see dialMore), each handing its slots to the queue in order as it comes up.
   */
  private h2Connection(material: TlsMaterial, signal: AbortSignal | undefined): Promise<H2Connection | undefined> | H2Connection {
    let shard = this.shards.get(material.identity);
    if (!shard) this.shards.set(material.identity, (shard = new Shard(this.maxStreams)));
    const conn = shard.take();
    if (conn) return conn;
    if (this.closed) throw this.closedError();
    const waiting = shard.wait(signal, () => abortError(`connecting to ${this.server.origin} (waiting for the ${shard.step})`));
    this.dialMore(material, shard);
    return waiting;
  }

  /**
   * Starts dials until those under way will carry every queued request, at most
   * MAX_PARALLEL_DIALS at once per identity: as fast as the server accepts connections, never
   * one per request. A dial that fails fails only the requests the others cannot carry; those
   * callers retry with their own backoff, so a lost connection does not become a reconnect storm.
   */
  private dialMore(material: TlsMaterial, shard: Shard): void {
    while (!this.closed && shard.dialing < MAX_PARALLEL_DIALS && shard.waiting > shard.dialing * shard.expectedStreams) {
      const dial = this.newDial();
      shard.dialing++;
      shard.lastDial = dial;
      this.connectH2(material, dial).then(
        (conn) => {
          shard.dialing--;
          if (!conn) return shard.resolveWaiting(undefined); // ALPN chose HTTP/1.1: all of them go there
          shard.expectedStreams = Math.max(1, conn.limit);
          shard.offer(conn);
          this.dialMore(material, shard);
        },
        (err: unknown) => {
          shard.dialing--;
          shard.rejectWaiting(shard.dialing * shard.expectedStreams, err);
        },
      );
    }
  }

  private newDial(): Dial {
    const dial = new Dial(this.clock, this.connectTimeout, this.server, () => this.dials.delete(dial));
    this.dials.add(dial);
    return dial;
  }

  /** TCP (or a proxy tunnel), TLS with ALPN, then the server's SETTINGS; undefined when ALPN chose HTTP/1.1. */
  private async connectH2(material: TlsMaterial, dial: Dial): Promise<H2Connection | undefined> {
    try {
      const { host, port } = endpointOf(this.server);
      const tunnel = this.proxy ? await this.tunnel(dial) : undefined;
      const socket = dial.track(
        tls.connect({
          // With a tunnel the socket is given, but `host` is still what the certificate is
          // checked against (Node assumes "localhost" without it).
          ...(tunnel ? { socket: tunnel } : {}),
          host,
          port,
          servername: material.servername ?? (isIP(host) ? undefined : host),
          ca: material.ca,
          cert: material.cert,
          key: material.key,
          rejectUnauthorized: material.rejectUnauthorized,
          ALPNProtocols: ['h2', 'http/1.1'],
        }),
      );
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
      await dial.until(socket, 'secureConnect', 'TLS handshake');
      dial.throwIfFailed();
      if (socket.alpnProtocol !== 'h2') {
        this.protocol.set(material.identity, 'http/1.1');
        dial.done();
        socket.destroy();
        return undefined;
      }
      this.protocol.set(material.identity, 'h2');
      const session = dial.track(http2.connect(this.server.origin, { createConnection: () => socket, settings: { enablePush: false } }));
      session.on('error', () => {}); // surfaced per stream; H2Connection logs it
      // Wait for the server's SETTINGS: only then is its stream limit known, and no stream is
      // ever queued inside node:http2 waiting for a slot. A server that closes the connection
      // instead fails the wait at once ('close' as well as 'error').
      await dial.until(session, 'remoteSettings', "server's HTTP/2 SETTINGS");
      dial.throwIfFailed(); // close() may have come between the SETTINGS and this line
      const conn = new H2Connection(session, material.identity, this.h2opts);
      if (conn.limit === 0) {
        // Zero streams is a refusal, not "no limit"; another connection would be told the same.
        conn.destroy();
        throw new TransportError(`${this.server.origin} allows no streams on a new HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS=0)`);
      }
      dial.done();
      this.h2.add(conn);
      this.logger.debug('opened HTTP/2 connection', { server: this.server.origin, maxStreams: conn.limit });
      return conn;
    } catch (err) {
      const failure = toTransportError(this.server, err);
      await dial.fail(failure);
      throw failure;
    }
  }

  /** A CONNECT tunnel to the server through the proxy, as one step of `dial`. */
  private async tunnel(dial: Dial): Promise<net.Socket> {
    const proxy = this.proxy!;
    // CONNECT always names the port, also the default one that URL.host leaves out.
    const { request, tunnel } = openTunnel(proxy, `${this.server.hostname}:${endpointOf(this.server).port}`);
    dial.track(request);
    return dial.track(await dial.race(tunnel, `answer of proxy ${proxy.origin} to CONNECT`));
  }

  /** TLS over a fresh proxy tunnel, for the HTTP/1.1 agent; the TLS handshake is the request's. */
  private async tunnelledTls(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    const dial = this.newDial();
    try {
      const raw = await this.tunnel(dial);
      dial.done();
      return tls.connect({ ...options, socket: raw });
    } catch (err) {
      const failure = toTransportError(this.server, err);
      await dial.fail(failure);
      throw failure;
    }
  }

  /** What every H2Exchange of this pool needs of it: one object per pool, not a closure per stream. */
  private readonly exchangeOwner: ExchangeOwner;

  /** Gives a stream slot back, straight to the next request waiting for one, if any. */
  private releaseSlot(conn: H2Connection): void {
    conn.release();
    if (conn.hasFreeSlot) this.shards.get(conn.identity)?.offer(conn);
  }

  private h2Request(conn: H2Connection, req: PoolRequest): Promise<PoolResponse> {
    return new Promise<PoolResponse>((resolve, reject) => {
      if (req.signal?.aborted) {
        this.releaseSlot(conn);
        reject(abortError());
        return;
      }
      let stream: http2.ClientHttp2Stream;
      try {
        stream = conn.session.request({ ':method': req.method, ':path': req.path, ...req.headers }, { endStream: req.body === undefined });
      } catch (err) {
        this.releaseSlot(conn);
        reject(toTransportError(this.server, err));
        return;
      }
      H2Exchange.start(this.exchangeOwner, conn, stream, req.signal, resolve, reject);
      if (req.body !== undefined) stream.end(req.body);
    });
  }

  private h1Request(req: PoolRequest): Promise<PoolResponse> {
    const secure = this.server.protocol === 'https:';
    this.protocol.set(req.tls.identity, 'http/1.1');
    const agent = this.agentFor(req.tls, secure);
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(req.body.length) };
    const options: https.RequestOptions =
      this.proxy && !secure
        ? // Plain HTTP through a proxy: absolute-form requests to the proxy, as Go's transport sends them.
          { ...proxyEndpoint(this.proxy), path: `${this.server.origin}${req.path}`, headers: this.viaProxy(headers) }
        : { ...endpointOf(this.server), path: req.path, headers };
    return new Promise<PoolResponse>((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(abortError());
        return;
      }
      const request = (secure ? https : http).request({ ...options, method: req.method, agent });
      this.h1Active++;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.h1Active--;
        req.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        request.destroy(abortError());
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('socket', this.onH1Socket);
      request.once('error', (err) => {
        finish();
        reject(req.signal?.aborted ? abortError() : toTransportError(this.server, err));
      });
      let answered = false;
      request.once('close', () => {
        finish();
        if (!answered) reject(new TransportError(`the connection to ${this.server.origin} closed before the server answered`));
      });
      request.once('response', (res) => {
        answered = true;
        res.on('error', () => {}); // as for HTTP/2: readers of the body see the failure
        res.once('close', finish);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, protocol: 'http/1.1' });
      });
      request.end(req.body);
    });
  }

  /**
   * Adopts a socket the agent gave a request. A method bound once, not a closure per request:
   * a kept-alive socket outlives the request that opened it, and a listener made inside that
   * request's scope would keep the request, its response and its promise alive with it.
   */
  private readonly onH1Socket = (socket: net.Socket): void => {
    if (this.h1Sockets.has(socket)) return;
    this.h1Sockets.add(socket);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    socket.once('close', this.onH1SocketClose);
  };

  /** One function for every socket: node:events calls it with the closed socket as `this`. */
  private readonly onH1SocketClose = forgetSocketIn(this.h1Sockets);

  private viaProxy(headers: Record<string, string>): Record<string, string> {
    const auth = proxyAuthorization(this.proxy!);
    return { ...headers, host: this.server.host, ...(auth ? { 'proxy-authorization': auth } : {}) };
  }

  private agentFor(material: TlsMaterial, secure: boolean): http.Agent {
    let agent = this.agents.get(material.identity);
    if (!agent) {
      agent = secure
        ? new https.Agent({
            keepAlive: true,
            ca: material.ca,
            cert: material.cert,
            key: material.key,
            servername: material.servername,
            rejectUnauthorized: material.rejectUnauthorized,
          })
        : new http.Agent({ keepAlive: true });
      if (secure && this.proxy) {
        // node:http's Agent accepts a connection handed over later through the callback.
        const connect = (options: tls.ConnectionOptions, callback: (err: Error | null, socket?: net.Socket) => void): undefined => {
          this.tunnelledTls(options).then(
            (socket) => callback(null, socket),
            (err: Error) => callback(err),
          );
          return undefined;
        };
        (agent as unknown as { createConnection: typeof connect }).createConnection = connect;
      }
      this.agents.set(material.identity, agent);
    }
    return agent;
  }
}

/** A 'close' listener that removes its emitter from `sockets`; shared by all of them, it closes over nothing else. */
function forgetSocketIn(sockets: Set<net.Socket>): (this: net.Socket) => void {
  return function (this: net.Socket) {
    sockets.delete(this);
  };
}

/** Host (without IPv6 brackets) and port to dial for a server URL. */
function endpointOf(server: URL): { host: string; port: number } {
  return { host: server.hostname.replace(/^\[|\]$/g, ''), port: Number(server.port || (server.protocol === 'https:' ? 443 : 80)) };
}

/**
 * One connection being set up: its connect deadline, the step it is waiting for, and every
 * socket, session or proxy request it opened, so that a timeout, a failure or the pool's
 * close() ends it at whatever step it is stuck in and leaves nothing behind.
 */
class Dial {
  /** What the dial waits for now, for error messages: "waiting for the <step>". */
  step = 'TCP connect';
  private readonly parts: Array<{ destroy(): void }> = [];
  private readonly sockets = new Set<net.Socket>();
  private failure: Error | undefined;
  private interrupt: ((err: Error) => void) | undefined;
  private readonly timer: Timer;
  private ended = false;

  constructor(
    clock: Clock,
    timeoutMs: number,
    private readonly server: URL,
    private readonly onEnd: () => void,
  ) {
    this.timer = clock.setTimeout(() => {
      void this.fail(new TransportError(`connecting to ${server.origin} timed out after ${timeoutMs} ms, waiting for the ${this.step}`));
    }, timeoutMs);
  }

  /** Registers something to destroy if the dial fails; sockets also get a no-op 'error' listener (failures surface through `until`). */
  track<T extends { destroy(): void }>(part: T): T {
    this.parts.push(part);
    if (part instanceof net.Socket) {
      this.sockets.add(part);
      part.on('error', () => {});
      part.once('close', () => this.sockets.delete(part));
    }
    if (this.failure) part.destroy();
    return part;
  }

  /** Waits for `event` on `emitter`; its 'error' or 'close' fails the wait, as does the dial failing. */
  until(emitter: EventEmitter, event: string, step: string): Promise<unknown[]> {
    return this.race(
      new Promise<unknown[]>((resolve, reject) => {
        const cleanup = () => {
          emitter.off(event, onEvent);
          emitter.off('error', onError);
          emitter.off('close', onClose);
        };
        const onEvent = (...args: unknown[]) => {
          cleanup();
          resolve(args);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const onClose = () => {
          cleanup();
          reject(new TransportError(`${this.server.origin} closed the connection while we waited for the ${step}`));
        };
        emitter.on(event, onEvent);
        emitter.on('error', onError);
        emitter.on('close', onClose);
      }),
      step,
    );
  }

  /** `promise`, unless the dial fails first (timeout, close()). */
  race<T>(promise: Promise<T>, step: string): Promise<T> {
    this.step = step;
    promise.catch(() => {}); // a loser's later rejection is not news
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.interrupt = reject;
      promise.then(resolve, reject).finally(() => {
        if (this.interrupt === reject) this.interrupt = undefined;
      });
    });
  }

  /** Throws the dial's failure, if it failed (timed out, or the pool closed) since the last wait. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Success: the parts now belong to a connection; only the deadline goes. */
  done(): void {
    this.end();
  }

  /** Ends the dial with `err`: everything it opened is destroyed; resolves once its sockets closed. */
  async fail(err: Error): Promise<void> {
    if (!this.failure) {
      this.failure = err;
      this.end();
      this.interrupt?.(err);
      for (const part of this.parts) part.destroy();
    }
    await Promise.all([...this.sockets].map((s) => (s.closed ? undefined : once(s, 'close').catch(() => {}))));
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer.cancel();
    this.onEnd();
  }
}

/** The pool as its exchanges see it. */
interface ExchangeOwner {
  readonly server: URL;
  releaseSlot(conn: H2Connection): void;
}

/** The stream's H2Exchange, kept on the stream so its listeners can be shared functions. */
const kExchange = Symbol('refwatch.h2Exchange');
type ExchangeStream = http2.ClientHttp2Stream & { [kExchange]?: H2Exchange };

// One function per event for every stream (node:events calls them with the stream as `this`).
function onExchangeResponse(this: ExchangeStream, headers: http2.IncomingHttpHeaders): void {
  this[kExchange]?.answer(headers);
}
function onExchangeError(this: ExchangeStream, err: Error): void {
  this[kExchange]?.fail(err);
}
function onExchangeClose(this: ExchangeStream): void {
  this[kExchange]?.closed();
}

/**
 * One HTTP/2 request, from the stream's opening to its close: it settles the request's promise
 * and gives the stream slot back. It is the one owner of the stream's listeners, and it lets go
 * of the promise, the caller's signal and everything they hold the moment the headers arrive,
 * because a watch's stream stays open for up to an hour and must keep no more than its own
 * state alive (issue 9).
 */
class H2Exchange {
  private resolve: ((res: PoolResponse) => void) | undefined;
  private reject: ((err: unknown) => void) | undefined;
  private signal: AbortSignal | undefined;
  private released = false;

  private constructor(
    private readonly pool: ExchangeOwner,
    private readonly conn: H2Connection,
    private readonly stream: ExchangeStream,
  ) {}

  /** Takes charge of `stream`, sent on one of `conn`'s slots. */
  static start(
    pool: ExchangeOwner,
    conn: H2Connection,
    stream: http2.ClientHttp2Stream,
    signal: AbortSignal | undefined,
    resolve: (res: PoolResponse) => void,
    reject: (err: unknown) => void,
  ): void {
    const ex = new H2Exchange(pool, conn, stream);
    ex.resolve = resolve;
    ex.reject = reject;
    ex.signal = signal;
    (stream as ExchangeStream)[kExchange] = ex;
    signal?.addEventListener('abort', ex, { once: true });
    stream.on('response', onExchangeResponse);
    // Also after the headers: a reset then surfaces to whoever reads the body, and until
    // someone does it must not become an uncaught 'error' event.
    stream.on('error', onExchangeError);
    stream.on('close', onExchangeClose);
  }

  /** The caller's signal fired before the headers (EventTarget calls handleEvent). */
  handleEvent(): void {
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
    this.settle(undefined, abortError());
  }

  answer(headers: http2.IncomingHttpHeaders): void {
    this.settle({ status: Number(headers[':status']), headers: headers as PoolResponse['headers'], body: this.stream, protocol: 'h2' });
  }

  fail(err: Error): void {
    if (this.reject) this.settle(undefined, toTransportError(this.pool.server, err));
  }

  closed(): void {
    if (!this.released) {
      this.released = true;
      this.pool.releaseSlot(this.conn);
    }
    this.stream[kExchange] = undefined;
    // A stream can end with neither an answer nor an 'error' (the connection went away with
    // a GOAWAY, or the server reset it cleanly); the caller must hear of it, not wait forever.
    if (this.reject) {
      const why = `the stream to ${this.pool.server.origin} closed before the server answered (HTTP/2 code ${this.stream.rstCode ?? 'none'})`;
      this.settle(undefined, new TransportError(why));
    }
  }

  /** Settles the promise once; from then on nothing here holds the caller's promise or signal. */
  private settle(res: PoolResponse | undefined, err?: unknown): void {
    const { resolve, reject } = this;
    if (!resolve || !reject) return;
    this.resolve = this.reject = undefined;
    this.signal?.removeEventListener('abort', this);
    this.signal = undefined;
    if (err !== undefined) reject(err);
    else resolve(res!);
  }
}

/** A request waiting for a stream slot. */
interface SlotWaiter {
  resolve: (conn: H2Connection | undefined) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * One TLS identity's share of the pool: its connections that have a free stream slot (so a
 * request finds one in O(1), not by scanning every connection), the requests queued for a
 * slot in arrival order, and how many dials are under way for them.
 */
class Shard {
  /** Connections with room; one that filled up or retired is dropped when met. */
  readonly free = new Set<H2Connection>();
  private readonly waiters = new Set<SlotWaiter>();
  dialing = 0;
  lastDial: Dial | undefined;

  /** @param expectedStreams what a new connection is expected to carry: our cap, until a server said. */
  constructor(public expectedStreams: number) {}

  /** Requests queued for a slot. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** What the newest dial waits for, for the message of a request that stops waiting. */
  get step(): string {
    return this.lastDial?.step ?? 'TCP connect';
  }

  /** A connection with a free slot, the slot reserved; undefined when none has room. */
  take(): H2Connection | undefined {
    for (const conn of this.free) {
      if (conn.hasFreeSlot) {
        conn.acquire();
        if (!conn.hasFreeSlot) this.free.delete(conn);
        return conn;
      }
      this.free.delete(conn);
    }
    return undefined;
  }

  /** Queues a request for a slot; `signal` takes it out of the queue with `aborted()`. */
  wait(signal: AbortSignal | undefined, aborted: () => Error): Promise<H2Connection | undefined> {
    return new Promise((resolve, reject) => {
      const waiter: SlotWaiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.waiters.delete(waiter);
          reject(aborted());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.add(waiter);
    });
  }

  /** `conn` has room: its slots go to the queue first, in order; what is left makes it free. */
  offer(conn: H2Connection): void {
    for (const waiter of this.waiters) {
      if (!conn.hasFreeSlot) return;
      this.dequeue(waiter);
      conn.acquire();
      waiter.resolve(conn);
    }
    if (conn.hasFreeSlot) this.free.add(conn);
  }

  /** Every queued request gets `conn` (undefined: use HTTP/1.1). */
  resolveWaiting(conn: undefined): void {
    for (const waiter of this.waiters) {
      this.dequeue(waiter);
      waiter.resolve(conn);
    }
  }

  /** Fails the queued requests after the first `keep` (those the dials still under way will carry). */
  rejectWaiting(keep: number, err: unknown): void {
    let kept = 0;
    for (const waiter of this.waiters) {
      if (kept++ < keep) continue;
      this.dequeue(waiter);
      waiter.reject(err);
    }
  }

  private dequeue(waiter: SlotWaiter): void {
    this.waiters.delete(waiter);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}
