/**
 * ReconcileHandlers is openkruise's CustomReconciler: one registry per kind where other parts
 * of a controller add handlers, each called for every change of an object of that kind, in
 * registration order, with the object from the cache, or only its namespace and name when it
 * is gone. It is how the sandbox manager hangs route tables and quota bookkeeping off one
 * informer instead of each component watching on its own.
 *
 * Driving it from an informer (`connect`) keeps controller-runtime's workqueue rules that
 * matter here: one reconcile per object at a time, and events that arrive meanwhile collapse
 * into one more reconcile afterwards, which reads the latest cached state.
 */
import type { Subscription } from 'rxjs';
import { objectKey, type KubeObject } from '../api/object.js';
import type { Informer } from '../cache/informer.js';
import { AbortError, raceAbort } from '../util/abort.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';

/** What a handler may ask for; `requeueAfter` is informational (no timer is started). */
export interface ReconcileResult {
  /** ms after which the handler would like the object reconciled again; reported, not scheduled. */
  requeueAfter?: number;
}

/**
 * Called with the cached object, or with `{ metadata: { namespace, name } }` and
 * `notFound: true` when the cache no longer has it. Throw (or reject) to stop the chain.
 * `signal` is the one given to `reconcile` (never aborted for reconciles `connect` runs): a
 * handler that waits should stop when it aborts.
 */
export type ReconcileHandler<T> = (obj: T, notFound: boolean, signal: AbortSignal) => ReconcileResult | void | Promise<ReconcileResult | void>;

/** The signal of reconciles nobody can cancel (those `connect` runs). */
const NEVER_ABORTED = new AbortController().signal;

/**
 * A registry of reconcile handlers for one kind (openkruise's CustomReconciler): handlers run in
 * registration order for every change of an object, the first that throws stops the chain, and
 * `connect` drives them from an informer with one reconcile per object at a time.
 */
export class ReconcileHandlers<T extends KubeObject> {
  private readonly handlers: ReconcileHandler<T>[] = [];
  private readonly active = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly logger: NormalizedLogger;

  /**
   * @param name names the registry in log lines, e.g. "SandboxCustom".
   * @param logger hears, at error, each chain `connect` ran that failed. Any LoggerLike; default: none.
   */
  constructor(
    /** Names the registry in log lines. */
    readonly name: string,
    logger?: LoggerLike,
  ) {
    this.logger = toLogger(logger);
  }

  /** Appends handlers; they are not called now, only on the next reconcile. */
  add(...handlers: ReconcileHandler<T>[]): void {
    this.handlers.push(...handlers);
  }

  /** Handlers registered. */
  get size(): number {
    return this.handlers.length;
  }

  /**
   * Runs the handlers for one object: nothing when there are none; otherwise looks the object
   * up with `get`, then calls each handler in order. The first handler that throws ends the
   * chain and its error is the rejection; otherwise resolves to the last non-empty result.
   * When `signal` aborts, the chain stops: the reconcile rejects with an AbortError at once, the
   * running handler is told through the signal it was given, and no later handler is called.
   */
  async reconcile(namespace: string, name: string, get: (namespace: string, name: string) => T | undefined, signal: AbortSignal = NEVER_ABORTED): Promise<ReconcileResult> {
    if (this.handlers.length === 0) return {};
    const cached = get(namespace, name);
    const notFound = cached === undefined;
    const obj = cached ?? ({ metadata: { namespace, name } } as T);
    let result: ReconcileResult = {};
    for (const handler of [...this.handlers]) {
      if (signal.aborted) throw new AbortError();
      const step = Promise.resolve(handler(obj, notFound, signal));
      result = (await (signal === NEVER_ABORTED ? step : raceAbort(step, signal))) ?? result;
    }
    return result;
  }

  /**
   * Reconciles every object the informer reports a change for, until unsubscribed. A failing
   * chain is logged (there is no requeue with backoff: the next event reconciles again).
   */
  connect(informer: Pick<Informer<T>, 'events' | 'get'>): Subscription {
    return informer.events().subscribe((event) => {
      const namespace = event.object.metadata?.namespace ?? '';
      const name = event.object.metadata?.name ?? '';
      this.schedule(namespace, name, (ns, n) => informer.get(ns, n));
    });
  }

  /**
   * Resolves once no reconcile started by `connect` is running. Rejects with an AbortError as
   * soon as `signal` aborts; the reconciles go on.
   */
  async idle(signal?: AbortSignal): Promise<void> {
    while (this.active.size > 0) {
      const running = Promise.all([...this.active.values()].map((a) => a.done));
      await (signal ? raceAbort(running, signal) : running);
    }
  }

  private schedule(namespace: string, name: string, get: (namespace: string, name: string) => T | undefined): void {
    const key = objectKey(namespace, name);
    const running = this.active.get(key);
    if (running) {
      running.dirty = true;
      return;
    }
    const state = { dirty: false, done: Promise.resolve() };
    state.done = (async () => {
      do {
        state.dirty = false;
        try {
          await this.reconcile(namespace, name, get);
        } catch (err) {
          this.logger.error('reconcile handler failed', { reconciler: this.name, object: key, error: errorMessage(err) });
        }
      } while (state.dirty);
      this.active.delete(key);
    })();
    this.active.set(key, state);
  }
}
