/**
 * H2Connection is one established HTTP/2 connection in the pool: how many streams it carries,
 * how many the server lets it carry, and the PING and idle timers that find it dead or unused.
 * It exists apart from the pool so the pool reads as "which connection, or a new one", and
 * this file as "is this connection still good".
 */
import http2 from 'node:http2';
import type { Clock, Timer } from '../util/clock.js';
import { errorMessage, type Logger } from '../util/logger.js';
import { TransportError } from './transport-errors.js';

/** How an H2Connection watches itself; the pool fills these from ConnectionPoolOptions. */
export interface H2ConnectionOptions {
  /** Drives the PING and idle timers (both background: they do not keep a process alive). */
  clock: Clock;
  /** Hears a session error (`debug`) and an unanswered PING (`warn`, with the streams it fails). */
  logger: Logger;
  /** Our own upper bound of streams per connection; the server's SETTINGS can only lower it. */
  maxStreamsPerConnection: number;
  /** A PING goes out this often while streams are open, in ms; an idle connection sends none. */
  pingInterval: number;
  /** A PING unanswered this long destroys the connection, failing its streams. */
  pingTimeout: number;
  /** With no stream open for this long the connection is closed. */
  idleTimeout: number;
  /** Called once when the connection takes no more streams (GOAWAY, close, error, idle, dead). */
  onRetire: (conn: H2Connection) => void;
  /** Called when new SETTINGS may have given the connection room for more streams. */
  onCapacity?: (conn: H2Connection) => void;
}

/**
 * One HTTP/2 connection whose SETTINGS have arrived. Streams are reserved with `acquire()` and
 * given back with `release()`; once it retires (GOAWAY, close, error, idle, dead) it takes no
 * more and tells the pool through `onRetire`.
 */
export class H2Connection {
  /** The node:http2 session; the pool opens streams on it once `acquire()` reserved a slot. */
  readonly session: http2.ClientHttp2Session;
  /** The TlsMaterial identity it was dialled with: it carries only requests of that identity. */
  readonly identity: string;
  /** Streams open on this connection, reserved by `acquire()`. */
  active = 0;
  /** Streams the server allows now: 0 means none (SETTINGS_MAX_CONCURRENT_STREAMS=0), not "no limit". */
  limit: number;
  /** True once retired: it takes no more streams, and the pool has been told (`onRetire`). */
  closed = false;
  private pingTimer: Timer | undefined;
  private idleTimer: Timer | undefined;

  /**
   * Takes charge of `session`: follows its SETTINGS, GOAWAY, close and error, and starts the
   * PING and idle timers (with no stream open yet, the idle one runs from now).
   * @param session a session whose remote SETTINGS have arrived, so its stream limit is known.
   * @param identity the TLS identity it was dialled with.
   * @param opts timers, limits and the pool's callbacks.
   */
  constructor(
    session: http2.ClientHttp2Session,
    identity: string,
    private readonly opts: H2ConnectionOptions,
  ) {
    this.session = session;
    this.identity = identity;
    this.limit = this.serverLimit();
    session.on('remoteSettings', () => {
      this.limit = this.serverLimit();
      if (this.hasFreeSlot) opts.onCapacity?.(this);
    });
    session.on('goaway', () => this.retire());
    session.on('close', () => this.retire());
    session.on('error', (err) => {
      opts.logger.debug('HTTP/2 connection failed', { error: errorMessage(err) });
      this.retire();
    });
    this.schedulePing();
    this.scheduleIdle();
  }

  /** Neither retired nor closed nor destroyed by node:http2: a stream opened now would be sent. */
  get usable(): boolean {
    return !this.closed && !this.session.closed && !this.session.destroyed;
  }

  /** True when one more stream may be opened here without node:http2 queueing it. */
  get hasFreeSlot(): boolean {
    return this.usable && this.active < this.limit;
  }

  /**
   * Reserves one stream slot and stops the idle timer. Call it only when `hasFreeSlot` holds
   * (it does not check), and pair it with one `release()` when the stream closes.
   */
  acquire(): void {
    this.active++;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
  }

  /** Gives a slot back; the last one restarts the idle timer. It offers the slot to no one: the pool's queue does that. */
  release(): void {
    this.active--;
    if (this.active === 0) this.scheduleIdle();
  }

  /**
   * Retires the connection and destroys its session at once: open streams end, failing with
   * `err` when one is given. The PING and idle timers and the pool's `close()` end it this way.
   */
  destroy(err?: Error): void {
    this.retire();
    this.session.destroy(err);
  }

  /**
   * The server's advertised limit, capped by ours. node:http2 reports 2^32-1 when the server
   * sent none. Zero is honoured as zero: a server that says so is refusing streams, and a
   * stream opened anyway would wait inside node:http2 until our own timeout.
   */
  private serverLimit(): number {
    const advertised = this.session.remoteSettings?.maxConcurrentStreams;
    return Math.min(this.opts.maxStreamsPerConnection, typeof advertised === 'number' && advertised >= 0 ? advertised : Infinity);
  }

  /** No new streams go here; streams already open finish on their own. */
  private retire(): void {
    if (this.closed) return;
    this.closed = true;
    this.pingTimer?.cancel();
    this.idleTimer?.cancel();
    this.opts.onRetire(this);
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
