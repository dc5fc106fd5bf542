/**
 * How the profile cache reads one object: through its store, within a time budget, with the
 * outcome sorted into the three cases the cache treats differently. "absent" (the server or the
 * watch cache says NotFound) drops the object from an entry; "failed" (a timeout, a broken
 * connection, a sync timeout) is transient, and an entry built from the object keeps it.
 */
import { isNotFound } from '../api/errors.js';
import type { Store } from '../manager/interfaces.js';
import type { Clock } from '../util/clock.js';

/**
 * The outcome of one read: `found` with the object, `absent` (NotFound, or nothing stored), or
 * `failed` (transient) with the error.
 */
export type ReadResult<T> = { status: 'found'; object: T } | { status: 'absent' } | { status: 'failed'; error: unknown };

/** How readObject reads one object. */
export interface ReadOptions {
  /** Drives the budget. */
  clock: Clock;
  /**
   * Milliseconds the read may take (upstream's storage RPC budget) before it counts as failed, so
   * one slow object cannot stall a whole reconciler pass. The store's own work is not cancelled.
   */
  budget: number;
  /** Aborting ends the read at once as failed. */
  signal: AbortSignal;
}

/** The budget ran out; only ever logged. */
export class ReadBudgetExceededError extends Error {
  /** @param budget the ms the read was allowed. */
  constructor(namespace: string, name: string, budget: number) {
    super(`reading ${namespace}/${name} took longer than ${budget} ms`);
    this.name = 'ReadBudgetExceededError';
  }
}

/**
 * Reads one object through `store` within `opts.budget` ms. Never rejects: a NotFound or an empty
 * answer is `absent`, a timeout, an abort or any other error `failed`.
 */
export function readObject<T>(store: Store<T>, namespace: string, name: string, opts: ReadOptions): Promise<ReadResult<T>> {
  const { clock, budget, signal } = opts;
  if (signal.aborted) return Promise.resolve({ status: 'failed', error: signal.reason });
  return new Promise<ReadResult<T>>((resolve) => {
    let settled = false;
    const finish = (result: ReadResult<T>) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => finish({ status: 'failed', error: signal.reason });
    const timer = clock.setTimeout(() => finish({ status: 'failed', error: new ReadBudgetExceededError(namespace, name, budget) }), budget);
    signal.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = store.get(namespace, name);
    } catch (error) {
      return finish({ status: 'failed', error });
    }
    pending.then(
      (object) => {
        if (object === undefined || object === null) finish({ status: 'absent' });
        else if (typeof object !== 'object') finish({ status: 'failed', error: new Error(`unexpected ${typeof object} from the store`) });
        else finish({ status: 'found', object });
      },
      (error: unknown) => finish(isNotFound(error) ? { status: 'absent' } : { status: 'failed', error }),
    );
  });
}
