/**
 * WatchStream reads one watch response as newline-delimited JSON events. A watch stream is the
 * one place untrusted bytes arrive continuously, so this is where garbage is contained: a line
 * that is not an event is counted and skipped, never thrown. A stream that breaks (reset,
 * GOAWAY, premature close) or goes silent ends like a server-side close, as client-go's
 * StreamWatcher treats probable-EOF and timeout errors; the reflector then re-watches from
 * its last resourceVersion.
 *
 * It is a hand-written iterator fed by 'data' events rather than async generators over the
 * body's async iterator: a node may hold thousands of these open, and the generator layers
 * (with their promises and contexts) cost several KiB per watch.
 *
 * Lines are found in bytes, and each chunk is scanned once: a line that arrives in many small
 * frames (a 2 MB event in 64-byte HTTP/2 DATA frames) is kept as its pieces and joined once
 * when its newline comes, so parsing stays linear in the input. A newline byte never occurs
 * inside a multi-byte UTF-8 sequence, so splitting before decoding is safe.
 */
import type { Readable } from 'node:stream';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { PoolResponse } from './connection-pool.js';
import type { WatchEvent, WatchHandle, WatchHandler } from './source.js';
import type { DeadlineWheel } from './deadline-wheel.js';

/**
 * What every watch of one client shares: the clock, the logger, the deadline wheel and the way
 * to send the request. One object per client, not per watch, so that an open watch costs its
 * own state only (issue 9: the options, closures and timer per watch were over 1 KB).
 */
export interface WatchHost {
  /** Drives the HTTP/1.1 quiet timer (the deadline wheel has its own clock). */
  clock: Clock;
  /** Hears why a watch was ended by us (`debug`: deadline passed, no data); never a line's content. */
  logger: Logger;
  /** Over HTTP/1.1, end the watch after this long without a byte (HTTP/2 uses PINGs instead); 0 disables. */
  http1QuietMs: number;
  /** Longest line accepted, in bytes; a runaway line is dropped, not buffered for ever. Default 64 MiB. */
  maxLineLength?: number;
  /** Ends watches the server keeps open past their deadline, on one timer for all of them. */
  deadlines: DeadlineWheel;
  /**
   * Sends the watch request; rejects (StatusError, TransportError, AbortError) when it cannot
   * be established. Once it resolves, only the watch's own `signal` (and the body) end it.
   */
  open(path: string, signal: AbortSignal | undefined): Promise<PoolResponse>;
  /** Called with the reason for each skipped line; never with the line itself (it may hold secret data). */
  onMalformed(path: string, reason: string): void;
}

/**
 * Events queued beyond this pause the body until the reader catches up, so a slow consumer
 * applies backpressure to the server instead of growing the heap.
 */
const HIGH_WATER = 256;

/** Default longest line: far above any real object (etcd's limit is 1.5 MiB), far below the heap. */
const DEFAULT_MAX_LINE_LENGTH = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

/** The body's WatchStream, kept on the body itself so its listeners can be shared functions. */
const kWatch = Symbol('refwatch.watchStream');
type WatchedBody = Readable & { [kWatch]?: WatchStream<unknown> };

// One function per event for every watch (node:events calls them with the body as `this`):
// per watch, the listeners cost a slot in the body's listener lists, not a closure each.
function onBodyData(this: WatchedBody, chunk: Buffer): void {
  this[kWatch]?.onData(chunk);
}
function onBodyEnd(this: WatchedBody): void {
  this[kWatch]?.finish();
}

type Pending<T> = { resolve: (r: IteratorResult<WatchEvent<T>>) => void; reject: (e: unknown) => void };

/**
 * One watch response read as newline-delimited JSON events, as an async iterator, or through
 * callbacks after `listen()`. The request is sent on the first `next()` (or at `listen()`);
 * `return()`, `stop()` or the caller's signal abandon it; whatever ends the body ends the watch
 * normally (see the file comment).
 */
export class WatchStream<T> implements AsyncIterableIterator<WatchEvent<T>>, WatchHandle {
  private state: 'idle' | 'opening' | 'open' | 'ended' = 'idle';
  private failure: unknown;
  private body: WatchedBody | undefined;
  /** Events not yet read; allocated on the first event that finds no reader waiting. */
  private queue: WatchEvent<T>[] | undefined;
  private pending: Pending<T> | undefined;
  /** The pieces of a line whose newline has not arrived yet; undefined between lines. */
  private partial: Buffer[] | undefined;
  private partialBytes = 0;
  private skippingOversized = false;
  /** The deadline wheel's key for this watch while it is on the wheel. */
  private deadlineKey: number | undefined;
  private quiet: Timer | undefined;
  /** Set by `listen()`: events go to it instead of the iterator. */
  private handler: WatchHandler<T> | undefined;

  /**
   * @param host what all watches of the client share.
   * @param path the watch request's path and query.
   * @param deadlineMs end the watch if the server has not by then (its timeoutSeconds plus a grace).
   * @param signal the caller's: its abort ends the watch, also once it is open.
   */
  constructor(
    private readonly host: WatchHost,
    private readonly path: string,
    private readonly deadlineMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** The stream itself: it can be iterated once, by one reader. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next event, in order; the first call sends the request. Resolves `done` when the watch
   * ended (the server closed it, the stream broke or went quiet, its deadline passed, its signal
   * fired, or `return()`), after the events already queued (`return()` drops those). Rejects once, with what the host's
   * `open` rejected with, when the watch could not be established. Call it again only after
   * the previous call settled.
   */
  next(): Promise<IteratorResult<WatchEvent<T>>> {
    const queue = this.queue;
    if (queue !== undefined && queue.length > 0) {
      const value = queue.shift()!;
      if (queue.length === 0 && this.body?.isPaused()) this.body.resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.state === 'ended') return Promise.resolve({ value: undefined, done: true });
    if (this.state === 'idle') this.start();
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  /** Abandons the watch: the request is cancelled and nothing more is delivered. */
  return(): Promise<IteratorResult<WatchEvent<T>>> {
    this.queue = undefined;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Delivers the events to `handler` instead of the iterator (do not mix the two) and sends
   * the request now; see WatchHandler for when `onEnd` is called.
   */
  listen(handler: WatchHandler<T>): this {
    if (this.state !== 'idle') throw new Error('listen() on a watch already started');
    this.handler = handler;
    this.start();
    return this;
  }

  /** Abandons the watch (the callback form of `return()`). */
  stop(): void {
    this.finish();
  }

  /** The caller's signal fired (EventTarget calls a listener object's handleEvent): the watch ends. */
  handleEvent(): void {
    this.finish();
  }

  /** The deadline wheel's call: the server kept the watch open past its deadline. */
  expire(): void {
    this.deadlineKey = undefined;
    this.finish('deadline passed');
  }

  private start(): void {
    this.state = 'opening';
    this.host.open(this.path, this.signal).then(
      (res) => this.attach(res),
      (err) => {
        if (this.state === 'ended') return;
        this.state = 'ended';
        this.settle(undefined, err);
      },
    );
  }

  private attach(res: PoolResponse): void {
    if (this.state === 'ended' || this.signal?.aborted) {
      res.body.destroy();
      this.finish();
      return;
    }
    this.state = 'open';
    const body = res.body as WatchedBody;
    this.body = body;
    body[kWatch] = this as WatchStream<unknown>;
    this.signal?.addEventListener('abort', this, { once: true });
    this.deadlineKey = this.host.deadlines.add(this, this.deadlineMs);
    if (res.protocol !== 'h2') this.armQuiet();
    body.on('data', onBodyData);
    // Whatever ends the body (end, reset, destroy) ends the watch normally; see the file comment.
    body.on('end', onBodyEnd);
    body.on('close', onBodyEnd);
    body.on('error', onBodyEnd);
  }

  /** A chunk of the body: complete lines are delivered, the rest is kept until its newline. */
  onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    if (this.quiet) this.armQuiet();
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const tail = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.skippingOversized) {
        this.skippingOversized = false;
        continue;
      }
      this.deliver(this.takeLine(tail));
    }
    if (start === chunk.length || this.skippingOversized) return;
    (this.partial ??= []).push(start === 0 ? chunk : chunk.subarray(start));
    this.partialBytes += chunk.length - start;
    const max = this.host.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (this.partialBytes > max) {
      this.host.onMalformed(this.path, `line longer than ${max} bytes`);
      this.partial = undefined;
      this.partialBytes = 0;
      this.skippingOversized = true;
    }
  }

  /** The pending pieces plus `tail`, decoded once; clears the pending line. */
  private takeLine(tail: Buffer): string {
    if (!this.partial) return tail.toString('utf8');
    this.partial.push(tail);
    const line = Buffer.concat(this.partial, this.partialBytes + tail.length).toString('utf8');
    this.partial = undefined;
    this.partialBytes = 0;
    return line;
  }

  private deliver(line: string): void {
    const event = parseEvent<T>(line, (reason) => this.host.onMalformed(this.path, reason));
    if (!event) return;
    if (this.handler) {
      try {
        this.handler.onEvent(event);
      } catch (err) {
        this.finish(undefined, err);
      }
      return;
    }
    if (this.pending) this.settle({ value: event, done: false });
    else {
      const queue = (this.queue ??= []);
      queue.push(event);
      if (queue.length >= HIGH_WATER) this.body?.pause();
    }
  }

  private armQuiet(): void {
    const ms = this.host.http1QuietMs;
    if (ms <= 0) return;
    this.quiet?.cancel();
    this.quiet = this.host.clock.setTimeout(() => this.finish(`no data for ${ms} ms`), ms);
  }

  /**
   * Ends the watch (idempotent): timers and listeners go, the body is destroyed, a waiting
   * reader hears "done" (a handler `onEnd(err)`).
   */
  finish(why?: string, err?: unknown): void {
    if (this.state === 'ended') return;
    if (why) this.host.logger.debug('ending watch stream', { reason: why });
    if (this.state === 'open' && this.partial && !this.skippingOversized) this.deliver(this.takeLine(EMPTY));
    this.state = 'ended';
    this.partial = undefined;
    if (this.deadlineKey !== undefined) this.host.deadlines.remove(this, this.deadlineKey);
    this.deadlineKey = undefined;
    this.quiet?.cancel();
    this.signal?.removeEventListener('abort', this);
    this.body?.destroy();
    if (this.handler) this.settle(undefined, err);
    else if (this.queue === undefined || this.queue.length === 0) this.settle({ value: undefined, done: true });
  }

  private settle(result: IteratorResult<WatchEvent<T>> | undefined, err?: unknown): void {
    const handler = this.handler;
    if (handler) {
      // The one onEnd: `finish` and a failed open both come here once, as the state ends.
      this.handler = undefined;
      if (err !== undefined) handler.onEnd(err);
      else handler.onEnd();
      return;
    }
    const p = this.pending;
    if (!p) {
      if (err !== undefined) this.failure = err;
      return;
    }
    this.pending = undefined;
    if (err !== undefined) p.reject(err);
    else p.resolve(result!);
  }
}

function parseEvent<T>(line: string, onMalformed: (reason: string) => void): WatchEvent<T> | undefined {
  if (line.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    onMalformed('line is not JSON');
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { type?: unknown }).type !== 'string') {
    onMalformed('line is not a watch event');
    return undefined;
  }
  return parsed as WatchEvent<T>;
}
