/**
 * The embedded API server's network side: one port that speaks HTTP/2 and HTTP/1.1, over TLS
 * (ALPN picks h2 or http/1.1, as with kube-apiserver) or in plain text (HTTP/1.1, or h2c with
 * prior knowledge, told apart by the connection preface). It tracks every client connection so
 * that `close()` can destroy them all and wait until they are gone, which is what both
 * `stop()` and the restart fault need, and it can listen again on the same port afterwards.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { ServerRequest, ServerResponseLike } from './exchange.js';

/** Where an HttpListener binds, with which certificate, and who answers its requests. */
export interface ListenerOptions {
  /** Address to bind. */
  host: string;
  /** Port to bind; 0 picks a free one, which every later `listen()` reuses. */
  port: number;
  /** Serving certificate chain and key; plain HTTP without them. */
  tls?: { certPem: string; keyPem: string };
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS for new connections. */
  maxConcurrentStreams: number;
  /** Answers every request, HTTP/1.1 and HTTP/2 alike. */
  onRequest: (req: ServerRequest, res: ServerResponseLike) => void;
}

/** The HTTP/2 connection preface starts "PRI * HTTP/2.0"; no HTTP/1.x method starts with "PRI". */
const H2_PREFACE_START = Buffer.from('PRI');

const ignore = () => {};

/** One port serving HTTP/1.1 and HTTP/2 (by ALPN on TLS, by preface without), which can stop and listen again on the same port. */
export class HttpListener {
  /** The listening server: the TLS server itself, or a plain TCP server that dispatches. */
  private readonly outer: net.Server;
  /** Where HTTP/2 connections go (the TLS server itself when on TLS). */
  private readonly h2: http2.Http2Server | http2.Http2SecureServer;
  /** Client TCP connections, each with a promise of its 'close'. */
  private readonly sockets = new Map<net.Socket, Promise<void>>();
  /** TLS sockets and HTTP/2 sessions on top of the TCP connections: destroyed first on close. */
  private readonly layers = new Set<{ destroy(): void }>();
  private host: string;
  private port: number;

  private constructor(opts: ListenerOptions) {
    this.host = opts.host;
    this.port = opts.port;
    const settings = { maxConcurrentStreams: opts.maxConcurrentStreams };
    if (opts.tls) {
      const secure = http2.createSecureServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, allowHTTP1: true, settings });
      secure.on('secureConnection', (tlsSocket: net.Socket) => this.layer(tlsSocket));
      // A client that rejects the certificate or speaks garbage: its problem, not a server crash.
      secure.on('tlsClientError', ignore);
      this.h2 = secure;
      this.outer = secure;
    } else {
      const h1 = http.createServer();
      const h2c = http2.createServer({ settings });
      h1.on('request', opts.onRequest);
      this.h2 = h2c;
      this.outer = net.createServer((socket) => dispatchByPreface(socket, h1, h2c));
    }
    this.h2.on('request', opts.onRequest);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      session.on('error', ignore);
      this.layer(session);
    });
    this.h2.on('sessionError', ignore);
    this.outer.on('connection', (socket: net.Socket) => this.track(socket));
  }

  /** Creates the servers and binds. Rejects when the address is taken. */
  static async open(opts: ListenerOptions): Promise<HttpListener> {
    const listener = new HttpListener(opts);
    await listener.listen();
    return listener;
  }

  /** Whether the port is bound now. */
  get listening(): boolean {
    return this.outer.listening;
  }

  /** The bound port (stays the same across close/listen). */
  get boundPort(): number {
    return this.port;
  }

  /** Open client TCP connections (TLS or not, handshaken or not). */
  get connections(): number {
    return this.sockets.size;
  }

  /** Applies to HTTP/2 connections opened from now on. */
  setMaxConcurrentStreams(n: number): void {
    this.h2.updateSettings({ maxConcurrentStreams: n });
  }

  /** Binds `host:port` (again, after `close()`). */
  listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.outer.once('error', onError);
      this.outer.listen(this.port, this.host, () => {
        this.outer.removeListener('error', onError);
        const address = this.outer.address() as net.AddressInfo;
        this.port = address.port;
        resolve();
      });
    });
  }

  /**
   * Stops accepting (the port refuses connections from now on) and destroys every connection,
   * with any HTTP/2 session and request on it; resolves once all of them have closed.
   */
  async close(): Promise<void> {
    const stopped = this.outer.listening ? new Promise<void>((resolve) => this.outer.close(() => resolve())) : Promise.resolve();
    for (const layer of this.layers) layer.destroy();
    this.layers.clear();
    const closing = [...this.sockets.values()];
    for (const socket of this.sockets.keys()) socket.destroy();
    await Promise.all([stopped, ...closing]);
  }

  private track(socket: net.Socket): void {
    socket.on('error', ignore);
    this.sockets.set(
      socket,
      new Promise<void>((resolve) =>
        socket.once('close', () => {
          this.sockets.delete(socket);
          resolve();
        }),
      ),
    );
  }

  private layer(layer: { destroy(): void; once(event: 'close', fn: () => void): unknown; on(event: 'error', fn: () => void): unknown }): void {
    layer.on('error', ignore);
    this.layers.add(layer);
    layer.once('close', () => this.layers.delete(layer));
  }
}

/**
 * Plain-text port shared by HTTP/1.1 and h2c: reads until the first bytes tell the protocol,
 * puts them back, and hands the socket to the matching server.
 */
function dispatchByPreface(socket: net.Socket, h1: http.Server, h2c: http2.Http2Server): void {
  let head = Buffer.alloc(0);
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) head = Buffer.concat([head, chunk]);
    const known = head.subarray(0, H2_PREFACE_START.length);
    if (head.length < H2_PREFACE_START.length && H2_PREFACE_START.subarray(0, head.length).equals(known)) return;
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onEnd);
    socket.unshift(head);
    (known.equals(H2_PREFACE_START) ? h2c : h1).emit('connection', socket);
  };
  const onEnd = () => socket.destroy();
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
}
