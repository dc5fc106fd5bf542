/**
 * Reads a watch response body as newline-delimited JSON events. A watch stream is the one
 * place untrusted bytes arrive continuously, so this is where garbage is contained: a line
 * that is not an event is counted and skipped, never thrown. A stream that breaks (reset,
 * GOAWAY, premature close) or goes silent ends like a server-side close, as client-go's
 * StreamWatcher treats probable-EOF and timeout errors; the reflector then re-watches from
 * its last resourceVersion.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { WatchEvent } from './source.js';

export interface WatchStreamOptions {
  clock: Clock;
  logger: Logger;
  /** End the watch if the server has not by then (its timeoutSeconds plus a grace). */
  deadlineMs: number;
  /** End the watch after this long without a byte; 0 disables (HTTP/2 uses PINGs instead). */
  quietMs: number;
  /** Called with the reason for each skipped line; never with the line itself (it may hold secret data). */
  onMalformed: (reason: string) => void;
  signal?: AbortSignal;
  /** Longest line accepted, in bytes; a runaway line is dropped, not buffered forever. Default 64 MiB. */
  maxLineBytes?: number;
}

export async function* readWatchEvents<T>(body: Readable, opts: WatchStreamOptions): AsyncGenerator<WatchEvent<T>> {
  const maxLine = opts.maxLineBytes ?? 64 * 1024 * 1024;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skippingOversized = false;
  const end = (why: string) => {
    opts.logger.debug('ending watch stream', { reason: why });
    body.destroy();
  };
  const deadline: Timer = opts.clock.setTimeout(() => end('deadline passed'), opts.deadlineMs);
  let quiet: Timer | undefined;
  const armQuiet = () => {
    if (opts.quietMs <= 0) return;
    quiet?.cancel();
    quiet = opts.clock.setTimeout(() => end(`no data for ${opts.quietMs} ms`), opts.quietMs);
  };
  const onAbort = () => body.destroy();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  armQuiet();
  try {
    for await (const chunk of body) {
      armQuiet();
      pending += decoder.write(chunk as Buffer);
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (skippingOversized) {
          skippingOversized = false;
          continue;
        }
        const event = parseEvent<T>(line, opts.onMalformed);
        if (event) yield event;
      }
      if (pending.length > maxLine) {
        opts.onMalformed(`line longer than ${maxLine} bytes`);
        pending = '';
        skippingOversized = true;
      }
    }
    if (pending.trim() !== '' && !skippingOversized) {
      const event = parseEvent<T>(pending, opts.onMalformed);
      if (event) yield event;
    }
  } catch {
    // A broken or deliberately destroyed stream ends the watch; see the file comment.
  } finally {
    deadline.cancel();
    quiet?.cancel();
    opts.signal?.removeEventListener('abort', onAbort);
    body.destroy();
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
