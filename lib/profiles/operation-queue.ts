/**
 * The profile cache's per-container operation queue. A container's operations (its add, the
 * retries while it is pending, the rebuilds its dependencies' changes ask for) run one after
 * another in the order they were queued, so an older build never overwrites a newer one, while
 * different containers' operations run concurrently. Each container holds its own lane, which
 * goes with it: nothing per container outlives the container.
 *
 * The queue also keeps the two counts the cache's idle() and close() need. idle() waits for the
 * operations that are queued or running (active); an operation that parks (an add sleeping for
 * minutes in the shared-data backoff) stops counting until it wakes. close() waits for every
 * operation started, parked ones included.
 */
import { AbortError } from '../util/abort.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';

/** One container's chain of operations. */
export interface OperationLane {
  /**
   * Runs `op` after the lane's earlier operations have settled, unless the lane's owner is gone
   * by then (its `isLive` answers false). Never rejects: a failure is logged and the next
   * operation runs as usual.
   */
  enqueue(op: () => Promise<unknown>): Promise<void>;
}

/**
 * The profile cache's operation queue: one lane per container, whose operations run one after another,
 * while lanes run concurrently; it counts what idle() and close() wait for.
 */
export class OperationQueue {
  private readonly logger: NormalizedLogger;
  /** Operations queued or running and not parked; whenIdle() resolves when it reaches 0. */
  private active = 0;
  private readonly idleWaiters = new Set<() => void>();
  /** Every operation queued or running, parked ones included; drain() waits for them. */
  private readonly started = new Set<Promise<void>>();

  /** `logger` hears about operations that threw (at error, with the lane's id as `containerID`). */
  constructor(logger?: LoggerLike) {
    this.logger = toLogger(logger);
  }

  /**
   * A new lane. `id` names the container in log lines; `isLive` is asked right before each
   * operation runs, so operations queued behind a container's removal are skipped.
   */
  lane(id: string, isLive: () => boolean): OperationLane {
    let tail: Promise<void> = Promise.resolve();
    return {
      enqueue: (op) => {
        this.active++;
        const run = tail
          .then(async () => {
            if (isLive()) await op();
          })
          .catch((err: unknown) => this.logger.error('profile cache operation failed', { containerID: id, error: errorMessage(err) }))
          .finally(() => {
            this.started.delete(run);
            this.deactivate();
          });
        tail = run;
        this.started.add(run);
        return run;
      },
    };
  }

  /**
   * Runs `wait` parked: the operation that calls it does not hold whenIdle() up until `wait`
   * settles. Only an operation running on a lane may call it, and it counts again afterwards.
   */
  async parked<T>(wait: () => Promise<T>): Promise<T> {
    this.deactivate();
    try {
      return await wait();
    } finally {
      this.active++;
    }
  }

  /** True when no operation is queued or running, parked ones aside. */
  get idle(): boolean {
    return this.active === 0;
  }

  /**
   * Resolves once no operation is queued or running, parked ones aside (at once when idle).
   * Rejects with an AbortError as soon as `signal` aborts, and then keeps nothing of the call.
   */
  whenIdle(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError());
    if (this.idle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.idleWaiters.delete(wake);
        reject(new AbortError());
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.idleWaiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Callers of whenIdle() still waiting; 0 once each was woken or aborted (a leak check). */
  get idleWaiterCount(): number {
    return this.idleWaiters.size;
  }

  /** Resolves once every operation started so far has settled, parked ones included. */
  async drain(): Promise<void> {
    await Promise.all([...this.started]);
  }

  /** One operation finished or parked; wakes whenIdle() when it was the last active one. */
  private deactivate(): void {
    if (--this.active > 0) return;
    const waiters = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const wake of waiters) wake();
  }
}
