/**
 * ContainerWatchdog is the orphan reaper (miren's sandbox ContainerWatchdog with its MIR-1238
 * hardening): on a timer it compares the containers the runtime holds with the owners the
 * desired state lists, and removes the labelled containers no live owner accounts for. It is
 * the safety net under an agent's normal teardown: a crash between "owner deleted" and
 * "container removed" would otherwise leak the container, its snapshot and its IP forever.
 *
 * Every step errs towards keeping: containers without the owner label are not ours; an owner
 * the (possibly lagging) index did not return is read again from the source of truth before
 * anything is reaped, and a failed read keeps the container; a DEAD owner keeps its containers
 * for a grace window; resources are released only once the removal is confirmed.
 */
import { isIP } from 'node:net';
import { deadline, raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncStoppable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { ownerIsLive, type DesiredState, type Owner } from './desired-state.js';
import { PeriodicReconciler, type PassReport } from '../util/periodic-reconciler.js';
import type { ContainerRuntime, RuntimeContainer } from './runtime.js';
import { failureUnder, positiveOr, toError } from './values.js';

/** miren's ownership label: its value is the owning sandbox's id. */
export const DEFAULT_OWNER_LABEL = 'runtime.computer/entity-id';
/** Prefix of the labels that carry a container's IPs in miren (`runtime.computer/ip`, `…/ip6`). */
export const IP_LABEL_PREFIX = 'runtime.computer/ip';
/**
 * How long a DEAD owner keeps its containers: 3 minutes, upstream's. Long enough for a sandbox
 * that is being restarted to pass through DEAD and come back without losing its containers.
 */
export const DEFAULT_GRACE_WINDOW = 3 * 60_000;
/** Upstream's pass cadence: orphans are rare, and a pass lists every container and owner. */
export const DEFAULT_CHECK_INTERVAL = 5 * 60_000;
/** Time between SIGQUIT and SIGKILL: upstream's 5 s, enough for a graceful exit or a core dump to start. */
export const DEFAULT_KILL_GRACE = 5_000;
/** A whole pass is bounded (upstream's 2 minutes), so a hung runtime call cannot wedge the loop. */
export const DEFAULT_PASS_TIMEOUT = 2 * 60_000;

/**
 * The orphan reaper's inputs and tuning; `runtime` and `desired` are required, every other option has
 * upstream's default.
 */
export interface ContainerWatchdogOptions {
  /** The actual state: where containers are listed, signalled and removed. */
  runtime: ContainerRuntime;
  /** The desired state: which owners exist and which containers each accounts for. */
  desired: DesiredState;
  /**
   * Only containers carrying this label are ever touched; its value names the owner. Default
   * `runtime.computer/entity-id` (miren's). Containers without it belong to someone else.
   */
  ownerLabel?: string;
  /**
   * ms a DEAD owner keeps its containers after its `updatedAt`. Default 3 minutes; zero or
   * negative means the default (upstream treats 0 as "unset" too). Also the age under which a
   * container is kept when its live owner does not list it yet (see cleanupOrphans).
   */
  graceWindow?: number;
  /** ms between passes (after the first, which runs at start()). Default 5 minutes; zero or negative means the default. */
  checkInterval?: number;
  /** ms between SIGQUIT and SIGKILL. Default 5 s; 0 sends SIGKILL right after SIGQUIT. */
  killGrace?: number;
  /** Upper bound of one pass in ms; what is not done by then is reported as failed. Default 2 minutes. */
  passTimeout?: number;
  /**
   * Frees what the container held outside the runtime (its IPs: see `ipsFromLabels`). Called
   * only after the container's removal is confirmed, never for a container that may still run:
   * releasing earlier could hand a live IP to a new owner. A rejection is logged; the container
   * still counts as deleted.
   */
  release?: (container: RuntimeContainer) => Promise<void>;
  /** Drives the pass timer, the kill grace and the grace window. Its now() must be epoch ms (RealClock's is). */
  clock?: Clock;
  /**
   * Where the watchdog logs: at info the orphans a pass removed, at warn each orphan found and
   * each removal that failed, at error a release that failed. Any LoggerLike; default: none.
   */
  logger?: LoggerLike;
  /** Metrics hook: called after every timed or nudged pass. */
  onPass?: (report: PassReport) => void;
  /** Jitter fraction of the check interval. Default 0.1. */
  jitter?: number;
}

/** What one pass did. Per-container failures land here; they never fail the pass. */
export interface CleanupResult {
  /** Orphans removed (or found already gone), in the order they were listed. */
  deleted: string[];
  /** Orphans that could not be removed, with why; they are retried on the next pass. */
  failed: Map<string, Error>;
}

interface Orphan {
  container: RuntimeContainer;
  reason: string;
}

/**
 * The orphan reaper (miren's ContainerWatchdog with its MIR-1238 hardening): every check interval it
 * removes the labelled containers no live owner accounts for, erring towards keeping (an owner the
 * index missed is read again; a failed read keeps the container; a DEAD owner keeps its containers for
 * a grace window), then releases what each held. start() runs it, cleanupOrphans() runs one pass,
 * stop() or `await using` ends it.
 */
export class ContainerWatchdog implements AsyncStoppable {
  private readonly runtime: ContainerRuntime;
  private readonly desired: DesiredState;
  private readonly ownerLabel: string;
  private readonly graceWindow: number;
  private readonly killGrace: number;
  private readonly passTimeout: number;
  private readonly release: ContainerWatchdogOptions['release'];
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly loop: PeriodicReconciler;
  private inFlight: Promise<CleanupResult> | undefined;
  /** Aborted by stop(): ends direct cleanupOrphans() calls too, not only the loop's passes. */
  private readonly stopping = new AbortController();

  /** Builds the watchdog; nothing runs until start() or cleanupOrphans(). */
  constructor(opts: ContainerWatchdogOptions) {
    this.runtime = opts.runtime;
    this.desired = opts.desired;
    this.ownerLabel = opts.ownerLabel ?? DEFAULT_OWNER_LABEL;
    this.graceWindow = positiveOr(opts.graceWindow, DEFAULT_GRACE_WINDOW);
    this.killGrace = opts.killGrace ?? DEFAULT_KILL_GRACE;
    this.passTimeout = positiveOr(opts.passTimeout, DEFAULT_PASS_TIMEOUT);
    this.release = opts.release;
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.loop = new PeriodicReconciler({
      name: 'container-watchdog',
      interval: positiveOr(opts.checkInterval, DEFAULT_CHECK_INTERVAL),
      jitter: opts.jitter,
      clock: this.clock,
      logger: this.logger,
      onPass: opts.onPass,
      run: async (signal) => {
        const result = await this.cleanupOrphans(signal);
        if (result.deleted.length > 0 || result.failed.size > 0) {
          this.logger.info('container watchdog removed orphans', { deleted: result.deleted.length, failed: result.failed.size });
        }
      },
    });
  }

  /** Runs a pass now, then every check interval, until stop(). A second call does nothing. */
  start(): void {
    this.loop.start();
  }

  /** Asks for a pass now (e.g. after an owner was deleted); coalesced with one already running. */
  nudge(): void {
    this.loop.nudge();
  }

  /** Stops the loop, aborting a pass in progress (its remaining orphans are left for later), and waits for it. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    await this.inFlight?.catch(() => {});
  }

  /** `await using` support: the same as stop(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * One pass: finds the orphans and reaps them. A call while a pass runs joins it. Rejects only
   * when the runtime's or the desired state's list fails (nothing is touched then).
   *
   * A container is an orphan when it carries the owner label, is not among the containers of a
   * live owner (any status but DEAD, or DEAD within the grace window), and:
   * - its owner was listed but is DEAD past the grace window; or
   * - its owner was listed, is live, does not account for it, and the container is older than
   *   the grace window (a container just created may not be in its owner's status yet; one of
   *   unknown age is kept); or
   * - its owner was not listed and the authoritative `get` says it does not exist or is DEAD
   *   past the grace window. A failed `get` keeps the container.
   *
   * Orphans with a running task get SIGQUIT; after `killGrace` those still running get
   * SIGKILL; each is then removed (task, container, snapshot) and only then released.
   */
  cleanupOrphans(signal?: AbortSignal): Promise<CleanupResult> {
    if (this.inFlight) return this.inFlight;
    const parent = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    const bounded = deadline(this.clock, this.passTimeout, parent, 'container watchdog pass');
    this.inFlight = this.pass(bounded.signal).finally(() => {
      bounded.end();
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pass(signal: AbortSignal): Promise<CleanupResult> {
    const result: CleanupResult = { deleted: [], failed: new Map() };
    // Every call is raced against the signal, so the pass bound holds even for a runtime or a
    // desired state that does not honour it.
    const containers = await raceAbort(this.runtime.listContainers({ signal }), signal);
    const owners = await raceAbort(this.desired.list({ signal }), signal);
    const orphans = await this.findOrphans(containers, owners, signal);
    if (orphans.length === 0) return result;

    for (const o of orphans) this.logger.warn('container watchdog found an orphaned container', { id: o.container.id, reason: o.reason });
    // Phase 1: ask every orphan to stop.
    const signalled = await Promise.all(orphans.map((o) => this.signalIfRunning(o.container.id, 'SIGQUIT', signal)));
    // Phase 2: give them the kill grace, unless nothing was running to begin with.
    if (signalled.some(Boolean) && this.killGrace > 0 && !(await this.clock.sleep(this.killGrace, signal))) {
      for (const o of orphans) result.failed.set(o.container.id, toError(signal.reason));
      return result;
    }
    // Phase 3: force, remove, release.
    const outcomes = await Promise.all(orphans.map((o) => this.reap(o.container, signal)));
    outcomes.forEach((err, i) => {
      const id = orphans[i].container.id;
      if (err) result.failed.set(id, err);
      else result.deleted.push(id);
    });
    return result;
  }

  private async findOrphans(containers: RuntimeContainer[], owners: Owner[], signal: AbortSignal): Promise<Orphan[]> {
    const now = this.clock.now();
    const listed = new Map<string, Owner>();
    const accounted = new Set<string>();
    for (const owner of owners) {
      listed.set(owner.id, owner);
      if (ownerIsLive(owner, now, this.graceWindow)) for (const id of owner.containers) accounted.add(id);
    }
    const labelled = containers.filter((c) => !accounted.has(c.id) && Object.hasOwn(c.labels, this.ownerLabel));
    if (owners.length === 0 && labelled.length > 0) {
      this.logger.warn('container watchdog: the desired state lists no owners but labelled containers exist', { containers: labelled.length });
    }

    const refetched = new Map<string, Promise<Owner | undefined | Error>>();
    const refetch = (id: string) => {
      let pending = refetched.get(id);
      if (!pending) {
        pending = Promise.resolve()
          .then(() => raceAbort(this.desired.get(id, { signal }), signal))
          .catch(toError);
        refetched.set(id, pending);
      }
      return pending;
    };

    const verdicts = await Promise.all(
      labelled.map(async (container): Promise<Orphan | undefined> => {
        const ownerId = container.labels[this.ownerLabel];
        const owner = listed.get(ownerId);
        if (owner) {
          if (!ownerIsLive(owner, now, this.graceWindow)) return { container, reason: `owner ${ownerId} is ${owner.status}` };
          if (container.createdAt !== undefined && now - container.createdAt >= this.graceWindow) {
            return { container, reason: `owner ${ownerId} does not account for it` };
          }
          this.logger.debug('container watchdog: keeping a young container its owner does not list yet', { id: container.id, owner: ownerId });
          return undefined;
        }
        const fetched = await refetch(ownerId);
        if (fetched instanceof Error) {
          this.logger.warn('container watchdog: keeping a container whose owner could not be read', { id: container.id, owner: ownerId, error: errorMessage(fetched) });
          return undefined;
        }
        if (!fetched) return { container, reason: `owner ${ownerId} does not exist` };
        if (!ownerIsLive(fetched, now, this.graceWindow)) return { container, reason: `owner ${ownerId} is ${fetched.status}` };
        this.logger.debug('container watchdog: keeping a container of an owner the index missed', { id: container.id, owner: ownerId });
        return undefined;
      }),
    );
    return verdicts.filter((v): v is Orphan => v !== undefined);
  }

  /** Signals the container's task if it is running; true when a signal was sent. */
  private async signalIfRunning(id: string, sig: 'SIGQUIT' | 'SIGKILL', signal: AbortSignal): Promise<boolean> {
    try {
      if ((await raceAbort(this.runtime.taskState(id, { signal }), signal)) !== 'running') return false;
      await raceAbort(this.runtime.kill(id, sig, { signal }), signal);
      return true;
    } catch (err) {
      this.logger.debug(`container watchdog: ${sig} failed`, { id, error: errorMessage(err) });
      return false;
    }
  }

  /** SIGKILL if still running, remove, then release; the error if the removal failed. */
  private async reap(container: RuntimeContainer, signal: AbortSignal): Promise<Error | undefined> {
    if (signal.aborted) return toError(signal.reason);
    await this.signalIfRunning(container.id, 'SIGKILL', signal);
    try {
      await raceAbort(this.runtime.remove(container.id, { signal }), signal);
    } catch (err) {
      const error = failureUnder(signal, err);
      this.logger.warn('container watchdog could not remove an orphan', { id: container.id, error: error.message });
      return error;
    }
    if (this.release) {
      try {
        await raceAbort(
          Promise.resolve().then(() => this.release!(container)),
          signal,
        );
      } catch (err) {
        this.logger.error('container watchdog could not release what an orphan held', { id: container.id, error: errorMessage(err) });
      }
    }
    return undefined;
  }
}

/**
 * The IP addresses in a container's labels whose keys start with `prefix` (default
 * `runtime.computer/ip`), for a `release` hook. Values that are not IP addresses are skipped.
 */
export function ipsFromLabels(container: RuntimeContainer, prefix = IP_LABEL_PREFIX): string[] {
  return Object.entries(container.labels)
    .filter(([key, value]) => key.startsWith(prefix) && isIP(value) !== 0)
    .map(([, value]) => value);
}
