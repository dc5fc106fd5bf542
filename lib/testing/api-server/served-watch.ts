/**
 * ServedWatch is the server end of one watch request (the client end is lib/api's WatchStream),
 * served as kube-apiserver serves it: a 200 head, then one JSON event per
 * line, each flushed as it happens; BOOKMARKs on a timer when the client allows them; a normal
 * end at timeoutSeconds; and teardown of the storage subscription and both timers however the
 * stream ends (timeout, client gone, fault, server stop), so no watch outlives its response.
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceType } from '../../api/resource.js';
import type { WatchEvent, WatchOptions } from '../../api/source.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { ObjectStorage } from '../object-storage.js';
import type { Exchange } from './exchange.js';

/**
 * kube-apiserver's --min-request-timeout default. A watch without timeoutSeconds lasts a random
 * time in [1x, 2x) of it, so that the watches of many clients do not all expire together.
 */
export const MIN_REQUEST_TIMEOUT_SECONDS = 1800;

/** What a client's JSON parser chokes on: an event cut off mid-object. */
export const GARBAGE_LINE = '{"type":"ADDED","object":\n';

/** What one served watch needs: the exchange to answer on, the state to stream, and its parameters. */
export interface ServedWatchOptions {
  /** The request/response pair the events are written to; its abort (client gone, reset) ends the stream. */
  exchange: Exchange;
  /** Where the events come from: the watch subscribes here and unsubscribes when it ends. */
  storage: ObjectStorage;
  /** The resource watched; BOOKMARKs carry its apiVersion and kind. */
  resource: ResourceType;
  /** "" for all namespaces or a cluster-scoped resource. */
  namespace: string;
  /**
   * The request's watch parameters as parsed from the query: resourceVersion, selectors,
   * sendInitialEvents, allowWatchBookmarks and timeoutSeconds (absent or <= 0: the server's default).
   */
  options: WatchOptions;
  /** Runs the timeout and bookmark timers, so specs on FakeClock control both. */
  clock: Clock;
  /** Period of BOOKMARK events when the client set allowWatchBookmarks. */
  bookmarkIntervalMs: number;
  /** Write a GARBAGE_LINE before the first event (the `garbageOnNextWatch` fault). Default false. */
  garbageFirst?: boolean;
  /** Called once when the stream is over, however it ended (the server drops it from its open watches). */
  onClose: (stream: ServedWatch) => void;
}

/** One open watch response; made by `ServedWatch.open`, ended by timeout, the client, a fault or the server's stop. */
export class ServedWatch {
  private unsubscribe: () => void = () => {};
  private timeout?: Timer;
  private bookmark?: Timer;
  private closed = false;

  private constructor(private readonly opts: ServedWatchOptions) {}

  /**
   * Subscribes and starts the response. A request the storage refuses (bad selector, bad
   * resourceVersion) throws its StatusError before any byte is written, so the caller can
   * answer it with a plain error response; a too-old resourceVersion is not refused but
   * streamed as one ERROR event (410 Expired), after which the stream ends, as upstream does.
   */
  static open(opts: ServedWatchOptions): ServedWatch {
    const stream = new ServedWatch(opts);
    const early: WatchEvent<KubeObject>[] = [];
    let live = false;
    const unsubscribe = opts.storage.watch(opts.resource, opts.namespace, opts.options, (event) => {
      if (live) stream.send(event);
      else early.push(event);
    });
    stream.unsubscribe = unsubscribe;
    const { exchange } = opts;
    exchange.startStream();
    exchange.signal.addEventListener('abort', () => stream.cleanup(), { once: true });
    if (!exchange.open) {
      stream.cleanup();
      return stream;
    }
    if (opts.garbageFirst) exchange.write(GARBAGE_LINE);
    for (const event of early) {
      stream.send(event);
      if (event.type === 'ERROR') {
        stream.end();
        return stream;
      }
    }
    live = true;
    const asked = opts.options.timeoutSeconds ?? 0;
    // 0 (or less) means "the server's default", as in kube-apiserver.
    const seconds = asked > 0 ? asked : MIN_REQUEST_TIMEOUT_SECONDS * (1 + Math.random());
    stream.timeout = opts.clock.setTimeout(() => stream.end(), seconds * 1000);
    if (opts.options.allowWatchBookmarks) stream.scheduleBookmark();
    return stream;
  }

  /** False once the stream is over; a stream can end inside `open` (410, client already gone). */
  get active(): boolean {
    return !this.closed;
  }

  /** True once the response is closed on the wire (sent completely, or broken). */
  get finished(): boolean {
    return this.opts.exchange.signal.aborted;
  }

  /** The resource this stream watches. */
  get resource(): ResourceType {
    return this.opts.resource;
  }

  /** Ends the stream normally (the last chunk / END_STREAM), as at timeoutSeconds; the client sees a clean close and re-watches. */
  end(): void {
    this.cleanup();
    this.opts.exchange.end();
  }

  /** Breaks the stream abruptly (connection reset on HTTP/1.1, RST_STREAM on HTTP/2). */
  drop(): void {
    this.cleanup();
    this.opts.exchange.reset();
  }

  /** Writes a GARBAGE_LINE into the live stream (the `garbageOnWatch` fault); does nothing once it is over. */
  garbage(): void {
    if (!this.closed) this.opts.exchange.write(GARBAGE_LINE);
  }

  /**
   * Runs inside ObjectStorage's commit for live events: it must never throw, or the write
   * that caused the event would fail. A stream that cannot take the line is dropped instead.
   */
  private send(event: WatchEvent<KubeObject>): void {
    if (this.closed) return;
    try {
      this.opts.exchange.write(`${JSON.stringify(event)}\n`);
    } catch {
      this.drop();
    }
  }

  private scheduleBookmark(): void {
    this.bookmark = this.opts.clock.setTimeout(() => {
      if (this.closed) return;
      this.send({ type: 'BOOKMARK', object: this.opts.storage.bookmarkObject(this.opts.resource) });
      this.scheduleBookmark();
    }, this.opts.bookmarkIntervalMs);
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.timeout?.cancel();
    this.bookmark?.cancel();
    this.opts.onClose(this);
  }
}
