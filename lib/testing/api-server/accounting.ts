/**
 * Per-request accounting for the embedded API server: what each API request asked for and how
 * it was answered. It is how a test proves a cost claim ("one watch per secret, no lists after
 * the sync", "retried after the 429", "the second page used the continue token") against real
 * HTTP traffic instead of trusting the client's own bookkeeping.
 */

/** The apiserver's request verbs for the routes this server serves. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** One API request as the server answered it. */
export interface RequestRecord {
  /** What the request did. */
  verb: Verb;
  /** API group; "" for the core group. */
  group: string;
  /** Plural resource as in the URL ("secrets"), also for resources this server does not serve. */
  resource: string;
  /** "" for cluster-scoped resources and for all-namespaces lists and watches. */
  namespace: string;
  /** Set for get, update, patch and delete. */
  name?: string;
  /** The `fieldSelector` query parameter, when given. */
  fieldSelector?: string;
  /** The `labelSelector` query parameter, when given. */
  labelSelector?: string;
  /** The `resourceVersion` query parameter, when given. */
  resourceVersion?: string;
  /** Page size and continue token of a list, when given. */
  limit?: number;
  /** The continue token of a list page, when given. */
  continue?: string;
  /** True for a WatchList request (a watch with sendInitialEvents=true), whatever the answer. */
  sendInitialEvents?: boolean;
  /**
   * The HTTP status sent. For a watch it is recorded when the stream starts (200), not when
   * it ends. 0 when the client went away before any answer (e.g. during `delayLists`).
   */
  code: number;
  /** The HTTP version the client spoke. */
  httpVersion: '1.1' | '2.0';
}

/**
 * The log is an array (index it, filter it, read `length`) with two helpers. Derived arrays
 * (`filter`, `map`) are plain arrays, not logs.
 */
export class RequestLog extends Array<RequestRecord> {
  /** Derived arrays (`filter`, `map`) are plain arrays, not logs. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** How many requests had this verb, optionally for one resource (plural name). */
  countBy(verb: Verb, resource?: string): number {
    let n = 0;
    for (const r of this) if (r.verb === verb && (resource === undefined || r.resource === resource)) n++;
    return n;
  }

  /**
   * How many requests started a full sync, optionally for one resource: lists (first pages,
   * without a continue token) and WatchList watches (sendInitialEvents). With WatchList a
   * reflector resyncs by streaming, so "relisted" is counted here rather than by `countBy('list')`.
   */
  countSyncs(resource?: string): number {
    let n = 0;
    for (const r of this) {
      if (resource !== undefined && r.resource !== resource) continue;
      if ((r.verb === 'list' && r.continue === undefined) || (r.verb === 'watch' && r.sendInitialEvents)) n++;
    }
    return n;
  }

  /** Forgets everything recorded so far, e.g. after a test's setup phase. */
  clear(): void {
    this.length = 0;
  }
}
