/**
 * ConnectionPool carries every request to one API server over as few connections as the
 * server allows. client-node opens a connection per watch; with thousands of per-object
 * watches that is thousands of TLS sessions. Here watches are HTTP/2 streams, packed onto a
 * connection up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (kube-apiserver: 100) and
 * spilling onto a new connection beyond it, as Go's transport does, so no request ever queues
 * silently behind a full connection. Dead connections are found with HTTP/2 PINGs. Servers
 * that do not offer h2 in ALPN (or plain http://) get HTTP/1.1 with keep-alive instead.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { realClock, type Clock, type Timer } from '../util/clock.js';
import { errorMessage, noopLogger, type Logger } from '../util/logger.js';
import type { TlsMaterial } from './kube-auth.js';

export interface PoolRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. "/api/v1/namespaces/ns/secrets?watch=true". */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  tls: TlsMaterial;
  signal?: AbortSignal;
}

export interface PoolResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response body; destroy it to abandon the request. */
  body: Readable;
  protocol: 'h2' | 'http/1.1';
}

export interface ConnectionPoolOptions {
  /** Drives pings, ping timeouts, idle closing and connect timeouts. Default: wall clock. */
  clock?: Clock;
  /**
   * Upper bound of concurrent streams per HTTP/2 connection. The server's
   * SETTINGS_MAX_CONCURRENT_STREAMS can lower it, never raise it. Default 100, kube-apiserver's
   * own limit since the 2023 rapid-reset fix.
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
  /** TCP + TLS + HTTP/2 handshake budget. Default 30 s. */
  connectTimeout?: number;
  /** false forces HTTP/1.1 even when the server offers h2 (client-go's DISABLE_HTTP2). Default true. */
  http2?: boolean;
  logger?: Logger;
}

export interface PoolStats {
  /** Open TCP connections, both protocols. */
  connections: number;
  http2Connections: number;
  /** Requests and watches in flight. */
  activeStreams: number;
  /** Negotiated protocol per TLS identity seen. */
  protocols: string[];
}

/** A failure below HTTP: connect, TLS, a reset or dead connection. `code` is Node's (ECONNREFUSED...). */
export class TransportError extends Error {
  readonly code: string | undefined;

  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'TransportError';
    this.code = (cause as { code?: string } | undefined)?.code;
  }
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** A transport failure worded for the person reading it; TLS verification says what to check. */
export function describeTransportError(server: URL, err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  if (code && TLS_VERIFY_CODES.has(code)) {
    return new TransportError(
      `TLS verification of ${server.origin} failed (${code}): ${errorMessage(err)}; check that the kubeconfig's certificate-authority is the one that signed the server's certificate`,
      err,
    );
  }
  return new TransportError(`request to ${server.origin} failed: ${errorMessage(err)}`, err);
}

class H2Connection {
  readonly session: http2.ClientHttp2Session;
  readonly identity: string;
  active = 0;
  limit: number;
  closed = false;
  private pingTimer: Timer | undefined;
  private idleTimer: Timer | undefined;

  constructor(
    session: http2.ClientHttp2Session,
    identity: string,
    private readonly pool: ConnectionPool,
    private readonly opts: Required<Pick<ConnectionPoolOptions, 'pingInterval' | 'pingTimeout' | 'idleTimeout' | 'maxStreamsPerConnection'>> & { clock: Clock; logger: Logger },
  ) {
    this.session = session;
    this.identity = identity;
    this.limit = this.serverLimit();
    session.on('remoteSettings', () => (this.limit = this.serverLimit()));
    session.on('goaway', () => this.retire());
    session.on('close', () => this.retire());
    session.on('error', (err) => {
      opts.logger.debug('HTTP/2 connection failed', { error: errorMessage(err) });
      this.retire();
    });
    this.schedulePing();
    this.scheduleIdle();
  }

  get usable(): boolean {
    return !this.closed && !this.session.closed && !this.session.destroyed;
  }

  acquire(): void {
    this.active++;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
  }

  release(): void {
    this.active--;
    if (this.active === 0) this.scheduleIdle();
  }

  destroy(err?: Error): void {
    this.retire();
    this.session.destroy(err);
  }

  private serverLimit(): number {
    const advertised = this.session.remoteSettings?.maxConcurrentStreams;
    return Math.min(this.opts.maxStreamsPerConnection, typeof advertised === 'number' && advertised > 0 ? advertised : Infinity);
  }

  /** No new streams go here; streams already open finish on their own. */
  private retire(): void {
    if (this.closed) return;
    this.closed = true;
    this.pingTimer?.cancel();
    this.idleTimer?.cancel();
    this.pool.forget(this);
  }

  private scheduleIdle(): void {
    if (this.closed) return;
    this.idleTimer?.cancel();
    this.idleTimer = this.opts.clock.setTimeout(
      () => {
        if (this.active === 0) this.destroy();
      },
      this.opts.idleTimeout,
      { background: true },
    );
  }

  private schedulePing(): void {
    if (this.closed) return;
    this.pingTimer = this.opts.clock.setTimeout(() => this.ping(), this.opts.pingInterval, { background: true });
  }

  private ping(): void {
    if (!this.usable) return;
    if (this.active === 0) return this.schedulePing();
    let answered = false;
    const deadline = this.opts.clock.setTimeout(
      () => {
        if (answered) return;
        this.opts.logger.warn('HTTP/2 PING unanswered; closing the connection and re-establishing its watches', {
          streams: this.active,
        });
        this.destroy(new TransportError(`HTTP/2 PING not answered within ${this.opts.pingTimeout} ms; connection presumed dead`));
      },
      this.opts.pingTimeout,
      { background: true },
    );
    const sent = this.session.ping((err) => {
      answered = true;
      deadline.cancel();
      if (err) this.destroy(err);
      else this.schedulePing();
    });
    if (!sent) {
      deadline.cancel();
      this.schedulePing();
    }
  }
}

export class ConnectionPool {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly h2opts: ConstructorParameters<typeof H2Connection>[3];
  private readonly connectTimeout: number;
  private readonly allowH2: boolean;
  private readonly h2 = new Set<H2Connection>();
  /** One connection attempt at a time per identity, so a burst of watches does not open a burst of connections. */
  private readonly connecting = new Map<string, Promise<H2Connection | undefined>>();
  /** What ALPN chose per TLS identity; HTTP/1.1 once a server declined h2. */
  private readonly protocol = new Map<string, 'h2' | 'http/1.1'>();
  private readonly agents = new Map<string, http.Agent>();
  private readonly h1Sockets = new Set<import('node:net').Socket>();
  private h1Active = 0;
  private closed = false;

  constructor(
    readonly server: URL,
    opts: ConnectionPoolOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? noopLogger;
    this.connectTimeout = opts.connectTimeout ?? 30_000;
    this.allowH2 = (opts.http2 ?? true) && server.protocol === 'https:';
    this.h2opts = {
      clock: this.clock,
      logger: this.logger,
      maxStreamsPerConnection: opts.maxStreamsPerConnection ?? 100,
      pingInterval: opts.pingInterval ?? 30_000,
      pingTimeout: opts.pingTimeout ?? 15_000,
      idleTimeout: opts.idleTimeout ?? 90_000,
    };
  }

  stats(): PoolStats {
    let h2Active = 0;
    for (const c of this.h2) h2Active += c.active;
    return {
      connections: this.h2.size + this.h1Sockets.size,
      http2Connections: this.h2.size,
      activeStreams: h2Active + this.h1Active,
      protocols: [...new Set(this.protocol.values())],
    };
  }

  async request(req: PoolRequest): Promise<PoolResponse> {
    if (this.closed) throw new TransportError(`connection pool for ${this.server.origin} is closed`);
    if (req.signal?.aborted) throw abortError();
    if (this.allowH2 && this.protocol.get(req.tls.identity) !== 'http/1.1') {
      const conn = await this.h2Connection(req.tls);
      if (conn) return this.h2Request(conn, req);
    }
    return this.h1Request(req);
  }

  /** Closes every connection; requests in flight fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing: Promise<unknown>[] = [];
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

  /** @internal called by a connection that will take no more streams. */
  forget(conn: H2Connection): void {
    this.h2.delete(conn);
  }

  /** A connection with a free stream slot, reserved for the caller; undefined if the server only speaks HTTP/1.1. */
  private async h2Connection(material: TlsMaterial): Promise<H2Connection | undefined> {
    for (;;) {
      for (const conn of this.h2) {
        if (conn.identity === material.identity && conn.usable && conn.active < conn.limit) {
          conn.acquire();
          return conn;
        }
      }
      if (this.closed) throw new TransportError(`connection pool for ${this.server.origin} is closed`);
      let pending = this.connecting.get(material.identity);
      if (!pending) {
        pending = this.connectH2(material).finally(() => this.connecting.delete(material.identity));
        this.connecting.set(material.identity, pending);
      }
      const conn = await pending;
      if (!conn) return undefined;
    }
  }

  private async connectH2(material: TlsMaterial): Promise<H2Connection | undefined> {
    const host = this.server.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.server.port || 443);
    const socket = tls.connect({
      host,
      port,
      servername: material.servername ?? (isIP(host) ? undefined : host),
      ca: material.ca,
      cert: material.cert,
      key: material.key,
      rejectUnauthorized: material.rejectUnauthorized,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.setKeepAlive(true, 30_000);
    try {
      await this.withConnectTimeout(once(socket, 'secureConnect'), () => socket.destroy());
    } catch (err) {
      socket.destroy();
      throw describeTransportError(this.server, err);
    }
    if (socket.alpnProtocol !== 'h2') {
      this.protocol.set(material.identity, 'http/1.1');
      socket.destroy();
      return undefined;
    }
    this.protocol.set(material.identity, 'h2');
    const session = http2.connect(this.server.origin, { createConnection: () => socket, settings: { enablePush: false } });
    session.on('error', () => {}); // surfaced per stream; H2Connection logs it
    try {
      // Wait for the server's SETTINGS: only then is its stream limit known, and no stream is
      // ever queued inside node:http2 waiting for a slot.
      await this.withConnectTimeout(once(session, 'remoteSettings'), () => session.destroy());
    } catch (err) {
      session.destroy();
      throw describeTransportError(this.server, err);
    }
    if (this.closed) {
      session.destroy();
      throw new TransportError(`connection pool for ${this.server.origin} is closed`);
    }
    const conn = new H2Connection(session, material.identity, this, this.h2opts);
    this.h2.add(conn);
    this.logger.debug('opened HTTP/2 connection', { server: this.server.origin, maxStreams: conn.limit });
    return conn;
  }

  private async withConnectTimeout<T>(p: Promise<T>, onTimeout: () => void): Promise<T> {
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        onTimeout();
        reject(new TransportError(`connecting to ${this.server.origin} timed out after ${this.connectTimeout} ms`));
      }, this.connectTimeout);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      timer?.cancel();
    }
  }

  private h2Request(conn: H2Connection, req: PoolRequest): Promise<PoolResponse> {
    return new Promise<PoolResponse>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = conn.session.request(
          { ':method': req.method, ':path': req.path, ...req.headers },
          { endStream: req.body === undefined },
        );
      } catch (err) {
        conn.release();
        reject(describeTransportError(this.server, err));
        return;
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        conn.release();
        req.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(abortError());
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      let answered = false;
      stream.on('close', () => {
        release();
        // A stream can end with neither an answer nor an 'error' (the connection went away with
        // a GOAWAY, or the server reset it cleanly); the caller must hear of it, not wait forever.
        if (!answered) reject(new TransportError(`the stream to ${this.server.origin} closed before the server answered (HTTP/2 code ${stream.rstCode ?? 'none'})`));
      });
      stream.once('error', (err) => reject(describeTransportError(this.server, err)));
      stream.once('response', (headers) => {
        answered = true;
        // A reset after the headers surfaces to whoever reads the body; until someone does,
        // it must not become an uncaught 'error' event.
        stream.on('error', () => {});
        resolve({ status: Number(headers[':status']), headers: headers as PoolResponse['headers'], body: stream, protocol: 'h2' });
      });
      if (req.body !== undefined) stream.end(req.body);
    });
  }

  private h1Request(req: PoolRequest): Promise<PoolResponse> {
    const secure = this.server.protocol === 'https:';
    this.protocol.set(req.tls.identity, 'http/1.1');
    const agent = this.agentFor(req.tls, secure);
    const host = this.server.hostname.replace(/^\[|\]$/g, '');
    return new Promise<PoolResponse>((resolve, reject) => {
      const options: https.RequestOptions = {
        host,
        port: Number(this.server.port || (secure ? 443 : 80)),
        method: req.method,
        path: req.path,
        headers: req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(req.body.length) },
        agent,
      };
      const request = (secure ? https : http).request(options);
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
      request.on('socket', (socket) => {
        if (this.h1Sockets.has(socket)) return;
        this.h1Sockets.add(socket);
        socket.setKeepAlive(true, 30_000);
        socket.once('close', () => this.h1Sockets.delete(socket));
      });
      request.once('error', (err) => {
        finish();
        reject(req.signal?.aborted ? abortError() : describeTransportError(this.server, err));
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
      this.agents.set(material.identity, agent);
    }
    return agent;
  }
}

function abortError(): Error {
  const err = new Error('request aborted');
  err.name = 'AbortError';
  return err;
}
