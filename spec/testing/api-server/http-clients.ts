// Raw HTTP clients for the embedded API server's specs: node:https (HTTP/1.1, one connection
// per request unless an agent is given) and node:http2, so the tests see exactly what goes on
// the wire, with no refwatch transport in between.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ApiServer } from '../../../lib/testing/api-server/index.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
  httpVersion: string;
  /** The ALPN protocol of the TLS connection, if any. */
  alpn?: string | false | null;
}

export interface RequestOptions {
  method?: string;
  /** Sent as JSON unless a string. */
  body?: unknown;
  headers?: Record<string, string>;
  /** ALPN protocols offered (HTTP/1.1 client); default none. */
  alpn?: string[];
  agent?: http.Agent | false;
}

function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function encodeBody(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** One HTTP/1.1 request (https with the server's CA, or http). */
export function h1(server: ApiServer, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path, server.url);
  const payload = encodeBody(opts.body);
  const headers: Record<string, string> = { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  return new Promise<Reply>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const socket = res.socket as TLSSocket | null;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parse(text), httpVersion: res.httpVersion, alpn: socket?.alpnProtocol ?? undefined });
      });
    };
    const common = { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...common, ca: server.caPem, ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}) }, onResponse)
        : http.request(url, common, onResponse);
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * An HTTP/2 connection to the server (TLS with ALPN h2, or h2c prior knowledge), once the
 * server's SETTINGS arrived (before that, `remoteSettings` shows nghttp2's assumptions).
 */
export function h2connect(server: ApiServer): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url, { ca: server.caPem });
    session.once('remoteSettings', () => resolve(session));
    session.once('error', reject);
  });
}

/** One request on an HTTP/2 session. */
export function h2(session: http2.ClientHttp2Session, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const payload = encodeBody(opts.body);
  return new Promise<Reply>((resolve, reject) => {
    const stream = session.request({
      ':method': opts.method ?? 'GET',
      ':path': path,
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    });
    let status = 0;
    let headers: Reply['headers'] = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as Reply['headers'];
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status, headers, text, body: parse(text), httpVersion: '2.0', alpn: session.alpnProtocol });
    });
    stream.end(payload);
  });
}

/** How a watch stream ended: cleanly ("end") or broken ("reset"). */
export type WatchEnd = 'end' | 'reset';

/**
 * A watch stream being read: `lines` as they arrive (parsed when JSON, raw string when not),
 * `next(n)` to wait for the n-th line, `ended` for how it stopped, `close()` to cancel it.
 */
export class WatchReader {
  readonly lines: any[] = [];
  status = 0;
  readonly ended: Promise<WatchEnd>;
  private buffer = '';
  private waiters: { n: number; resolve: () => void }[] = [];
  private finish!: (how: WatchEnd) => void;
  private closer: () => void = () => {};
  private done: WatchEnd | undefined;

  constructor() {
    this.ended = new Promise<WatchEnd>((resolve) => {
      this.finish = (how) => {
        if (this.done) return;
        this.done = how;
        resolve(how);
        for (const w of this.waiters) w.resolve();
        this.waiters = [];
      };
    });
  }

  /** Event types received so far, with the object's name when it has one. */
  get seen(): string[] {
    return this.lines.map((l) => (typeof l === 'string' ? `RAW ${l}` : `${l.type} ${l.object?.metadata?.name ?? ''}`.trim()));
  }

  /** Resolves once `n` lines have arrived in total (or the stream ended first). */
  async next(n: number): Promise<any[]> {
    if (this.lines.length < n && !this.done) await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
    return this.lines.slice(0, n);
  }

  close(): void {
    this.closer();
  }

  /** @internal wiring for the two protocols below. */
  attach(closer: () => void): void {
    this.closer = closer;
  }

  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(parse(line) ?? line);
    }
    this.waiters = this.waiters.filter((w) => {
      if (this.lines.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  end(how: WatchEnd): void {
    this.finish(how);
  }
}

/** Starts a watch over HTTP/1.1; resolves once the response head arrived. */
export function watchH1(server: ApiServer, path: string, opts: RequestOptions = {}): Promise<WatchReader> {
  const reader = new WatchReader();
  const url = new URL(path, server.url);
  return new Promise<WatchReader>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      reader.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => reader.push(c));
      res.on('error', () => reader.end('reset'));
      res.on('close', () => reader.end(res.complete ? 'end' : 'reset'));
      resolve(reader);
    };
    const common = { headers: opts.headers ?? {}, agent: opts.agent ?? false };
    const req = url.protocol === 'https:' ? https.request(url, { ...common, ca: server.caPem }, onResponse) : http.request(url, common, onResponse);
    reader.attach(() => req.destroy());
    req.on('error', (err) => {
      reader.end('reset');
      reject(err);
    });
    req.end();
  });
}

/** Starts a watch on an HTTP/2 session; resolves once the response head arrived. */
export function watchH2(session: http2.ClientHttp2Session, path: string): Promise<WatchReader> {
  const reader = new WatchReader();
  return new Promise<WatchReader>((resolve, reject) => {
    const stream = session.request({ ':path': path });
    stream.setEncoding('utf8');
    reader.attach(() => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('response', (h) => {
      reader.status = Number(h[':status']);
      resolve(reader);
    });
    stream.on('data', (c: string) => reader.push(c));
    stream.on('error', (err) => {
      reader.end('reset');
      reject(err);
    });
    stream.on('close', () => reader.end(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? 'end' : 'reset'));
  });
}

/**
 * Resolves when the condition holds, checking after every event-loop turn: it waits for I/O to
 * happen, never for a fixed time. Fails after `withinMs` of real time.
 */
export async function eventually(cond: () => boolean, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) return resolve();
    session.close(() => resolve());
  });
}
