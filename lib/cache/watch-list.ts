/**
 * WatchListSupport remembers whether a server serves WatchList (a watch with
 * `sendInitialEvents=true` that streams the current state and ends it with a BOOKMARK annotated
 * `k8s.io/initial-events-end`), shared by every reflector over one ObjectSource. client-go asks
 * anew on every ListAndWatch; with 10,000 per-object reflectors on one client that would be
 * 10,000 refused requests against a server without it, so here one reflector probes while the
 * others wait for its verdict, and the verdict sticks for the life of the source.
 */
import type { ObjectSource } from '../api/source.js';

/** Annotation on the BOOKMARK that ends a WatchList's initial events (metav1.InitialEventsAnnotationKey). */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/** What a reflector should do for its next first sync. */
export type WatchListDecision = 'watchList' | 'list' | 'wait';

/** What is known about one source's server. */
export type WatchListState = 'unknown' | 'probing' | 'supported' | 'unsupported';

/**
 * The verdict on WatchList for one source. A reflector calls `decide`: 'watchList' (go ahead;
 * if the state was unknown it is now the prober and must end with `supported`, `unsupported`
 * or `abandon`), 'list' (the server refused it before: list+watch), or 'wait' (another
 * reflector is probing; `wake` is called once the state changes, and the caller decides again).
 */
export class WatchListSupport {
  private current: WatchListState = 'unknown';
  /** Reflectors waiting for the prober's verdict; a Set so a stopped waiter removes itself. */
  private readonly waiters = new Set<() => void>();

  /** The verdict so far. */
  get state(): WatchListState {
    return this.current;
  }

  /** Waiting reflectors (for leak checks). */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * The next step for a reflector about to sync. With 'wait', `wake` runs once the verdict
   * changes; the returned function cancels that (a reflector stopped while waiting).
   */
  decide(wake: () => void): { decision: WatchListDecision; cancel: () => void } {
    switch (this.current) {
      case 'supported':
        return { decision: 'watchList', cancel: noop };
      case 'unsupported':
        return { decision: 'list', cancel: noop };
      case 'unknown':
        this.current = 'probing';
        return { decision: 'watchList', cancel: noop };
      case 'probing': {
        const waiter = () => wake();
        this.waiters.add(waiter);
        return { decision: 'wait', cancel: () => void this.waiters.delete(waiter) };
      }
    }
  }

  /** The server sent the initial-events-end bookmark: WatchList works here. */
  supported(): void {
    this.settle('supported');
  }

  /** The server refused or ignored WatchList: every reflector over this source lists from now on. */
  unsupported(): void {
    this.settle('unsupported');
  }

  /**
   * The probe ended without a verdict (a transient failure, or the prober was stopped): the
   * waiters decide again and one of them probes next. A known verdict is kept.
   */
  abandon(): void {
    if (this.current === 'probing') this.settle('unknown');
  }

  private settle(state: WatchListState): void {
    this.current = state;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

function noop(): void {}

const verdicts = new WeakMap<object, WatchListSupport>();

/**
 * The shared verdict for a source, or undefined when the source declares that it cannot serve
 * WatchList at all (`supportsWatchList: false`, e.g. an in-memory fake), as client-go skips
 * WatchList for clients that say `IsWatchListSemanticsUnSupported`.
 */
export function watchListSupportFor(source: Pick<ObjectSource<unknown>, 'supportsWatchList'> & object): WatchListSupport | undefined {
  if (source.supportsWatchList === false) return undefined;
  let support = verdicts.get(source);
  if (!support) verdicts.set(source, (support = new WatchListSupport()));
  return support;
}
