/**
 * PortMonitor tells a tracker when a container's ports start listening (miren's sandbox
 * PortMonitor): one poller per container reads the container's own socket tables
 * (`/proc/<pid>/net/tcp{,6}` of its pause process) until every expected port is bound, then
 * stops. It polls hot (every 250 ms) because a request router is waiting to send traffic, and
 * stops once all ports are up because polling forever cost too much; noticing a port that later
 * closes is the owner's job.
 */
import { isIP } from 'node:net';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncCloseable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { listeningPorts, readListenSockets, type ListeningPorts, type ProcOptions } from './proc-net-tcp.js';

/** Upstream's pause before the first check, letting the container start. */
export const DEFAULT_INITIAL_DELAY = 100;
/** Upstream's poll period: hot, because readiness gates traffic. */
export const DEFAULT_POLL_INTERVAL = 250;

/** Whether a port listens (`bound`) or was reported bound and the monitor was cancelled (`unbound`). */
export type PortStatus = 'bound' | 'unbound';

/** A port and the container IP it is reached at. */
export interface BoundPort {
  /** The port number. */
  port: number;
  /** The container's IP, when monitor() was given a valid one. */
  address?: string;
}

/** Where port changes go (miren's observability.PortTracker). */
export interface PortTracker {
  /**
   * Called once per port when it is first seen listening, and with `unbound` for such ports when the
   * monitor is cancelled before every port was bound. Must not throw.
   */
  setPortStatus(containerId: string, port: BoundPort, status: PortStatus): void;
}

/** What to watch in one container: a pid in its network namespace and the ports to wait for. */
export interface MonitorTarget {
  /** A pid inside the container's network namespace (the pause container's). */
  pid: number;
  /** The ports to wait for. */
  ports: number[];
  /** The container's IP, passed on in every BoundPort; ignored unless it is an IP literal. */
  ip?: string;
}

/** Where port changes go, and the poll timing; `procRoot` says where the socket tables are read. */
export interface PortMonitorOptions extends ProcOptions {
  /** Hears each port that became bound (and unbound on cancel). */
  tracker: PortTracker;
  /** Drives the initial delay and the polls. Default: the wall clock. */
  clock?: Clock;
  /** Where the monitor logs: at debug each port that became bound, at error a poller that crashed. Any LoggerLike; default: none. */
  logger?: LoggerLike;
  /** ms before the first poll is scheduled. Default 100. */
  initialDelay?: number;
  /** ms between polls. Default 250. */
  pollInterval?: number;
}

interface MonitorTask {
  target: MonitorTarget;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Tells a tracker when a container's ports start listening (miren's PortMonitor): one poller per
 * container reads its pause process's `/proc/<pid>/net/tcp{,6}` every 250 ms until every expected port
 * is bound, then stops. close() or `await using` cancels every poller.
 */
export class PortMonitor implements AsyncCloseable {
  private readonly tracker: PortTracker;
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly proc: ProcOptions;
  private readonly initialDelay: number;
  private readonly pollInterval: number;
  /** The latest task per container, finished ones included: diagnoseListening needs their pid. */
  private readonly tasks = new Map<string, MonitorTask>();
  /** Every poller not yet returned, superseded ones included; close() waits for them. */
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  /** Builds the monitor; nothing is polled until monitor(). */
  constructor(opts: PortMonitorOptions) {
    this.tracker = opts.tracker;
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.proc = { procRoot: opts.procRoot };
    this.initialDelay = opts.initialDelay ?? DEFAULT_INITIAL_DELAY;
    this.pollInterval = opts.pollInterval ?? DEFAULT_POLL_INTERVAL;
  }

  /** Pollers still running. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Starts waiting for `target.ports` in the container's namespace, replacing (and cancelling)
   * any monitor of the same container: a restarted container is watched afresh. Each port is
   * reported Bound once, when first seen listening; ports already reported get Unbound if the
   * monitor is cancelled before every port was bound. Ignored after close().
   */
  monitor(containerId: string, target: MonitorTarget): void {
    if (this.closed) return;
    this.tasks.get(containerId)?.controller.abort();
    const controller = new AbortController();
    const copy: MonitorTarget = { pid: target.pid, ports: [...new Set(target.ports)], ...(target.ip !== undefined ? { ip: target.ip } : {}) };
    const done = this.poll(containerId, copy, controller.signal).catch((err: unknown) => {
      this.logger.error('port monitor failed', { container: containerId, error: errorMessage(err) });
    });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    this.tasks.set(containerId, { target: copy, controller, done });
  }

  /** Cancels the container's monitor (Unbound for what it reported Bound, if not finished) and forgets it. */
  stopMonitoring(containerId: string): void {
    const task = this.tasks.get(containerId);
    if (!task) return;
    task.controller.abort();
    this.tasks.delete(containerId);
  }

  /**
   * What the container listens on right now, routable and loopback-only: on a port-wait
   * timeout this says what the app bound instead. Undefined when the container is not
   * monitored or its socket table cannot be read; rejects with an AbortError when `opts.signal`
   * aborts first.
   */
  async diagnoseListening(containerId: string, opts: { signal?: AbortSignal } = {}): Promise<ListeningPorts | undefined> {
    const task = this.tasks.get(containerId);
    return task && listeningPorts(task.target.pid, { ...this.proc, signal: opts.signal });
  }

  /** Cancels every monitor and waits until all have returned. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.tasks.values()) task.controller.abort();
    this.tasks.clear();
    await Promise.all([...this.running]);
  }

  /** `await using` support: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async poll(containerId: string, target: MonitorTarget, signal: AbortSignal): Promise<void> {
    const bound = new Set<number>();
    const portOf = (port: number): BoundPort => (target.ip !== undefined && isIP(target.ip) !== 0 ? { port, address: target.ip } : { port });
    const cancelled = () => {
      for (const port of bound) this.tracker.setPortStatus(containerId, portOf(port), 'unbound');
    };
    if (!(await this.clock.sleep(this.initialDelay, signal))) return cancelled();
    while (bound.size < target.ports.length) {
      if (!(await this.clock.sleep(this.pollInterval, signal))) return cancelled();
      // One read of each table per poll, however many ports are awaited.
      const sockets = await readListenSockets(target.pid, this.proc);
      if (signal.aborted) return cancelled();
      const listening = new Set(sockets?.map((s) => s.port));
      for (const port of target.ports) {
        if (bound.has(port) || !listening.has(port)) continue;
        bound.add(port);
        this.tracker.setPortStatus(containerId, portOf(port), 'bound');
        this.logger.debug('port became bound', { container: containerId, port });
      }
    }
  }
}
