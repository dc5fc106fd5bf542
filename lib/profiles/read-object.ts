/**
 * How the profile cache reads one object: through its store, within a time budget, with the
 * outcome sorted into the three cases the cache treats differently. "absent" (the server or the
 * watch cache says NotFound) drops the object from an entry; "failed" (a timeout, a broken
 * connection, a sync timeout) is transient, and an entry built from the object keeps it.
 */
import { isNotFound } from '../api/errors.js';
import type { Store } from '../manager/interfaces.js';
import { deadline, raceAbort } from '../util/abort.js';
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

/**
 * Reads one object through `store` within `opts.budget` ms. Never rejects: a NotFound or an empty
 * answer is `absent`; a timeout (a DeadlineExceededError, only ever logged), an abort (the
 * signal's reason) or any other error is `failed`.
 */
export async function readObject<T>(store: Store<T>, namespace: string, name: string, opts: ReadOptions): Promise<ReadResult<T>> {
  const { clock, budget, signal } = opts;
  if (signal.aborted) return { status: 'failed', error: signal.reason };
  const bounded = deadline(clock, budget, signal, `reading ${namespace}/${name}`);
  try {
    // Called at once, so a store that throws instead of rejecting is a failed read too.
    const object = await raceAbort(new Promise<T>((resolve) => resolve(store.get(namespace, name))), bounded.signal, () => bounded.signal.reason);
    if (object === undefined || object === null) return { status: 'absent' };
    if (typeof object !== 'object') return { status: 'failed', error: new Error(`unexpected ${typeof object} from the store`) };
    return { status: 'found', object };
  } catch (error) {
    return isNotFound(error) ? { status: 'absent' } : { status: 'failed', error };
  } finally {
    bounded.end();
  }
}
