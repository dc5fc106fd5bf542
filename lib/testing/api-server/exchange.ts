/**
 * One request and its response, whichever protocol carried it. node:http2's compatibility API
 * makes HTTP/1.1 and HTTP/2 requests look alike for ordinary answers; what still differs (how
 * to break a stream abruptly, how to flush a streaming head) is decided here, once, so the API
 * logic above never asks which protocol it is on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as h2constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { StatusError } from '../../api/errors.js';

/** A request as node:http or node:http2's compatibility API delivers it. */
export type ServerRequest = IncomingMessage | Http2ServerRequest;
/** The response that goes with a ServerRequest. */
export type ServerResponseLike = ServerResponse | Http2ServerResponse;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-cache, private' };

/** One request and its response, over HTTP/1.1 or HTTP/2 alike; see the file header. */
export class Exchange {
  /** Called once with the status code when the response head goes out; the request log hooks in here. */
  onHead?: (code: number) => void;
  private readonly closedController = new AbortController();

  /**
   * @param req the request as delivered.
   * @param res its response.
   */
  constructor(
    /** The request as delivered. */
    readonly req: ServerRequest,
    /** Its response. */
    readonly res: ServerResponseLike,
  ) {
    // 'close' fires when the response finished or the client went away, whichever comes first.
    res.once('close', () => this.closedController.abort());
    // A write racing the client's disconnect surfaces as an 'error' on the response; the
    // 'close' above already covers it, and unhandled it would crash the process.
    res.on('error', () => {});
  }

  /** Aborts when the exchange is over: answered, or the client is gone. */
  get signal(): AbortSignal {
    return this.closedController.signal;
  }

  /** Whether an answer can still be written: not answered, not destroyed, the client still there. */
  get open(): boolean {
    return !this.closedController.signal.aborted && !this.res.writableEnded && !this.res.destroyed;
  }

  /** The HTTP version the client spoke. */
  get httpVersion(): '1.1' | '2.0' {
    return this.req.httpVersion === '2.0' ? '2.0' : '1.1';
  }

  /** The request method; GET when absent. */
  get method(): string {
    return this.req.method ?? 'GET';
  }

  /** A request header by name (any case); repeated ones joined with ", ". */
  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /**
   * The request body, at most `limit` bytes. Larger bodies get 413 (the rest is drained, not
   * buffered); a client that disconnects mid-body makes this reject.
   */
  readBody(limit: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        chunks.length = 0;
        reject(err);
      };
      this.req.on('data', (chunk: Buffer | string) => {
        if (failed) return;
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += buf.length;
        // Keep reading (and dropping) the rest, so the 413 can still be sent on this connection.
        if (size > limit) fail(new StatusError(413, 'RequestEntityTooLarge', `the request body exceeds ${limit} bytes`));
        else chunks.push(buf);
      });
      this.req.once('end', () => {
        if (!failed) resolve(Buffer.concat(chunks));
      });
      this.req.once('error', fail);
      this.signal.addEventListener('abort', () => fail(new Error('the client went away before sending the whole body')), { once: true });
    });
  }

  /** A complete JSON answer. Does nothing when the client is already gone. */
  sendJson(code: number, body: unknown, headers: Record<string, string> = {}): void {
    this.sendRaw(code, JSON.stringify(body), { ...JSON_HEADERS, ...headers });
  }

  /** A complete answer with a body of any type (health checks answer `ok` as text). */
  sendRaw(code: number, body: string, headers: Record<string, string>): void {
    if (!this.open) return;
    const payload = Buffer.from(body);
    this.head(code, { ...headers, 'content-length': String(payload.length) });
    this.res.end(payload);
  }

  /** The error as a metav1.Status body with its code, plus Retry-After when the error carries one. */
  sendError(err: StatusError): void {
    const headers: Record<string, string> = {};
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
    this.sendJson(err.code, err.toStatus(), headers);
  }

  /** Sends a 200 head for a stream of JSON lines and flushes it, so the client sees the watch start. */
  startStream(): void {
    this.head(200, JSON_HEADERS);
    // Both response classes have flushHeaders at runtime; @types/node lists it for HTTP/1.1 only.
    (this.res as { flushHeaders?: () => void }).flushHeaders?.();
  }

  /** Writes one chunk now (each write is its own HTTP/1.1 chunk or HTTP/2 DATA frame). */
  write(chunk: string): void {
    if (this.open) (this.res as { write(chunk: string): boolean }).write(chunk);
  }

  /** Ends the response normally: the last chunk, or END_STREAM. */
  end(): void {
    if (this.open) this.res.end();
  }

  /**
   * Breaks the response abruptly, as a dying proxy or apiserver would. HTTP/1.1 has no way to
   * abort one response, so the connection goes (the client sees a reset or premature close);
   * HTTP/2 resets just this stream with RST_STREAM INTERNAL_ERROR (not CANCEL, which clients
   * may treat as a normal end), leaving the connection's other streams alone.
   */
  reset(): void {
    if (this.closedController.signal.aborted) return;
    if (this.httpVersion === '2.0') {
      (this.res as Http2ServerResponse).stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      this.req.socket.destroy();
    }
  }

  private head(code: number, headers: Record<string, string>): void {
    this.res.writeHead(code, headers);
    const onHead = this.onHead;
    this.onHead = undefined;
    onHead?.(code);
  }
}
