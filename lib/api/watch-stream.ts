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
import type { WatchEvent } from './source.js';

export interface WatchStreamOptions {
  clock: Clock;
  logger: Logger;
  /** End the watch if the server has not by then (its timeoutSeconds plus a grace). */
  deadlineMs: number;
  /** Over HTTP/1.1, end the watch after this long without a byte (HTTP/2 uses PINGs instead); 0 disables. */
  http1QuietMs: number;
  /** Called with the reason for each skipped line; never with the line itself (it may hold secret data). */
  onMalformed: (reason: string) => void;
  /** Longest line accepted, in bytes; a runaway line is dropped, not buffered for ever. Default 64 MiB. */
  maxLineLength?: number;
}

/**
 * Events queued beyond this pause the body until the reader catches up, so a slow consumer
 * applies backpressure to the server instead of growing the heap.
 */
const HIGH_WATER = 256;

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

type Pending<T> = { resolve: (r: IteratorResult<WatchEvent<T>>) => void; reject: (e: unknown) => void };

export class WatchStream<T> implements AsyncIterableIterator<WatchEvent<T>> {
  private state: 'idle' | 'opening' | 'open' | 'ended' = 'idle';
  private failure: unknown;
  private body: Readable | undefined;
  private readonly queue: WatchEvent<T>[] = [];
  private pending: Pending<T> | undefined;
  /** The pieces of a line whose newline has not arrived yet; undefined between lines. */
  private partial: Buffer[] | undefined;
  private partialBytes = 0;
  private skippingOversized = false;
  private deadline: Timer | undefined;
  private quiet: Timer | undefined;
  private quietMs = 0;

  /** @param open sends the watch request; rejects (StatusError, TransportError) when it cannot be established. */
  constructor(
    private readonly open: () => Promise<PoolResponse>,
    private readonly opts: WatchStreamOptions,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent<T>>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.queue.length === 0 && this.body?.isPaused()) this.body.resume();
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
    this.queue.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  private start(): void {
    this.state = 'opening';
    this.open().then(
      (res) => {
        if (this.state === 'ended') {
          res.body.destroy();
          return;
        }
        this.attach(res);
      },
      (err) => {
        if (this.state === 'ended') return;
        this.state = 'ended';
        this.settle(undefined, err);
      },
    );
  }

  private attach(res: PoolResponse): void {
    this.state = 'open';
    this.body = res.body;
    this.quietMs = res.protocol === 'h2' ? 0 : this.opts.http1QuietMs;
    this.deadline = this.opts.clock.setTimeout(() => this.finish('deadline passed'), this.opts.deadlineMs);
    this.armQuiet();
    const body = res.body;
    body.on('data', (chunk: Buffer) => this.onData(chunk));
    // Whatever ends the body (end, reset, destroy) ends the watch normally; see the file comment.
    body.once('end', () => this.finish());
    body.once('close', () => this.finish());
    body.on('error', () => this.finish());
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.armQuiet();
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
    const max = this.opts.maxLineLength ?? 64 * 1024 * 1024;
    if (this.partialBytes > max) {
      this.opts.onMalformed(`line longer than ${max} bytes`);
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
    const event = parseEvent<T>(line, this.opts.onMalformed);
    if (!event) return;
    if (this.pending) this.settle({ value: event, done: false });
    else {
      this.queue.push(event);
      if (this.queue.length >= HIGH_WATER) this.body?.pause();
    }
  }

  private armQuiet(): void {
    if (this.quietMs <= 0) return;
    this.quiet?.cancel();
    this.quiet = this.opts.clock.setTimeout(() => this.finish(`no data for ${this.quietMs} ms`), this.quietMs);
  }

  private finish(why?: string): void {
    if (this.state === 'ended') return;
    if (why) this.opts.logger.debug('ending watch stream', { reason: why });
    if (this.state === 'open' && this.partial && !this.skippingOversized) this.deliver(this.takeLine(EMPTY));
    this.state = 'ended';
    this.partial = undefined;
    this.deadline?.cancel();
    this.quiet?.cancel();
    this.body?.destroy();
    if (this.queue.length === 0) this.settle({ value: undefined, done: true });
  }

  private settle(result: IteratorResult<WatchEvent<T>> | undefined, err?: unknown): void {
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
