/**
 * StatusError carries a failed API call's Status (code, reason, message, details) so programs
 * branch on `code`/`reason` through predicates, as apimachinery's IsNotFound/IsGone do, and
 * people read `message`. Messages are the server's or a fixed template naming only the
 * resource and object name, never object contents.
 *
 * The predicates also read @kubernetes/client-node's ApiException, so code that mixes
 * client-node's generated APIs with refwatch branches one way on both. They recognise it by
 * its shape, not by class: refwatch never loads client-node at run time, and the user's copy
 * of client-node is not necessarily the one refwatch was built against.
 */

/** One reason a request failed, as metav1.StatusCause carries it (several per validation error). */
export interface StatusCause {
  /** Machine-readable cause: FieldValueInvalid, FieldValueRequired, ResourceVersionTooLarge... */
  reason?: string;
  /** For people; may quote the offending value, so refwatch scrubs it of request data (redact.ts). */
  message?: string;
  /** The field the cause is about, as a path ("metadata.name", "data[key]"); absent when none is. */
  field?: string;
}

/** What a Status is about, as metav1.StatusDetails carries it; every field is optional on the wire. */
export interface StatusDetails {
  /** The object's name (for NotFound, AlreadyExists, Conflict). */
  name?: string;
  /** The object's API group; "" or absent for the core group. */
  group?: string;
  /** The object's kind; in NotFound and its like, the resource's name instead ("secrets", "secret"). */
  kind?: string;
  /** The individual failures behind the error, e.g. one per invalid field. */
  causes?: StatusCause[];
  /**
   * Seconds the server asks the client to wait before retrying (429, 503), as sent; read it
   * through `StatusError.retryAfterSeconds`, which caps it. refwatch also fills it from a
   * Retry-After header when the body names none.
   */
  retryAfterSeconds?: number;
}

/** The wire form of a metav1.Status. */
export interface Status {
  /** Always "Status"; how an error body or a watch ERROR event is told from an object. */
  kind?: 'Status';
  /** "v1". */
  apiVersion?: string;
  /** "Failure" for every error; "Success" where an answer carries no object (a delete, for one). */
  status?: 'Failure' | 'Success';
  /** For people: what went wrong. Programs branch on `reason` and `code` instead. */
  message?: string;
  /** Machine-readable reason (NotFound, Expired, Conflict...); empty or absent when the server gave none. */
  reason?: string;
  /** The HTTP status code the Status goes with. */
  code?: number;
  /** What the Status is about, and why (causes, retry-after). */
  details?: StatusDetails;
}

/**
 * The longest Retry-After honoured, in seconds. kube-apiserver asks for 1 s (priority and
 * fairness, max-in-flight) up to a few seconds; a proxy or a broken server can ask for anything
 * (3,000,000 s has been seen), and obeying it would leave a cache stale for weeks. 60 s is the
 * reflector's longest backoff (30 s, jittered up to 2x), so a server asking for more still gets
 * the quietest rate a failing reflector ever produces. client-go bounds it differently (a
 * request's wait ends with its context; a reflector's 429 uses its own backoff); the effect
 * is the same: no server value stops a client for long.
 */
export const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * A failed API call (or a watch ERROR event) as an Error: the server's Status, with `message`
 * for people and `code`/`reason` for programs. Branch with the predicates below (`isNotFound`,
 * `isGone`, `isTooManyRequests`...) rather than by comparing messages: they also recognise
 * client-node's ApiException. Those KubeClient makes quote no request data (see redact.ts).
 */
export class StatusError extends Error {
  /** HTTP status code (404, 410, 429, 500...); 0 when the failure never reached a server. */
  readonly code: number;
  /** Machine-readable reason: NotFound, Expired, Gone, Forbidden, TooManyRequests... */
  readonly reason: string;
  /** The Status's details as the server sent them (causes, the object's name and kind, retry-after). */
  readonly details?: StatusDetails;

  /**
   * @param code the HTTP status code; 0 for a failure that never reached a server.
   * @param reason the machine-readable reason; `reasonForCode(code)` gives apimachinery's for a bare code.
   * @param message for people; must not hold object contents (it reaches logs).
   * @param details the Status's details, kept as given.
   */
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /**
   * Seconds to wait before retrying, as the server asked (Retry-After / details.retryAfterSeconds),
   * at most MAX_RETRY_AFTER_SECONDS; undefined when it asked for none or for something that is
   * not a positive number. `details.retryAfterSeconds` keeps what the server sent.
   */
  get retryAfterSeconds(): number | undefined {
    const asked: unknown = this.details?.retryAfterSeconds;
    if (typeof asked !== 'number' || !(asked > 0)) return undefined;
    return Math.min(asked, MAX_RETRY_AFTER_SECONDS);
  }

  /**
   * From a Status object (a watch ERROR event or an error body). Anything that is not a Status
   * becomes a 500 InternalError, like apimachinery's FromObject; its message names only the
   * value's type or kind, never its contents.
   * @param fallbackCode the code when the Status has none (or is not a Status): the HTTP
   *   status it came with. Default 500. A missing reason is `reasonForCode` of the code.
   */
  static fromStatus(status: unknown, fallbackCode = 500): StatusError {
    if (status !== null && typeof status === 'object' && (status as Status).kind === 'Status') {
      const s = status as Status;
      const code = typeof s.code === 'number' && s.code > 0 ? s.code : fallbackCode;
      const reason = typeof s.reason === 'string' && s.reason !== '' ? s.reason : reasonForCode(code);
      const message = typeof s.message === 'string' && s.message !== '' ? s.message : `the server reported ${reason}`;
      return new StatusError(code, reason, message, s.details);
    }
    return new StatusError(fallbackCode, reasonForCode(fallbackCode), `unexpected object in error position: ${describe(status)}`);
  }

  /** The Status a server would send for this error. */
  toStatus(): Status {
    return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: this.message, reason: this.reason, code: this.code, details: this.details };
  }
}

/**
 * The reason apimachinery assigns to a bare HTTP code (an answer without a Status body):
 * 404 NotFound, 429 TooManyRequests...; any other 5xx is InternalError, any other code Unknown.
 */
export function reasonForCode(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return typeof v;
  const kind = (v as { kind?: unknown }).kind;
  return typeof kind === 'string' ? `kind ${kind}` : 'object';
}

/** `<resource> "<name>" not found`, 404 NotFound: the kubelet's and the apiserver's wording. */
export function newNotFound(resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

/** 410 Expired, as a watch or list from a compacted resourceVersion gets it. */
export function newExpired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

/**
 * client-node's ApiException (1.x and 2.x): an Error with the HTTP `code` as a number, the
 * response `body` and its `headers`. Node's system errors have a string `code` and no body.
 */
interface ApiExceptionShape extends Error {
  code: number;
  body: unknown;
  headers: unknown;
}

function isApiExceptionShape(err: unknown): err is ApiExceptionShape {
  return err instanceof Error && Number.isInteger((err as { code?: unknown }).code) && 'body' in err && 'headers' in err;
}

/**
 * An ApiException's body is the Status as text (the generated APIs hand over the response
 * text for codes they do not declare), an already parsed Status (log, metrics), or nothing
 * (401). Without a Status it reads as refwatch's transport reads a bare code.
 */
function statusFromApiException(err: ApiExceptionShape): StatusError {
  let body = err.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  if (body !== null && typeof body === 'object' && (body as Status).kind === 'Status') return StatusError.fromStatus(body, err.code);
  return new StatusError(err.code, reasonForCode(err.code), `the server responded with status ${err.code}`);
}

/** Parsed once per error: the reflector asks several predicates about the same failure. */
const apiExceptionStatus = new WeakMap<ApiExceptionShape, StatusError>();

/** The Status behind a StatusError or a client-node ApiException; undefined for anything else. */
function statusOf(err: unknown): StatusError | undefined {
  if (err instanceof StatusError) return err;
  if (!isApiExceptionShape(err)) return undefined;
  let status = apiExceptionStatus.get(err);
  if (status === undefined) {
    status = statusFromApiException(err);
    apiExceptionStatus.set(err, status);
  }
  return status;
}

function reasonOf(err: unknown): string | undefined {
  return statusOf(err)?.reason;
}

function codeOf(err: unknown): number | undefined {
  return statusOf(err)?.code;
}

/**
 * 404 NotFound (or a 404 whose reason the server left unknown), from a StatusError or a
 * client-node ApiException; false for anything else.
 */
export function isNotFound(err: unknown): boolean {
  return reasonOf(err) === 'NotFound' || (codeOf(err) === 404 && reasonOf(err) === 'Unknown');
}

/**
 * 410: the resourceVersion asked for is older than the server keeps (Gone or Expired), from a
 * StatusError or a client-node ApiException.
 */
export function isGone(err: unknown): boolean {
  return codeOf(err) === 410 || reasonOf(err) === 'Gone' || reasonOf(err) === 'Expired';
}

/** 410 with reason Expired: a watch or list from a compacted resourceVersion. */
export function isResourceExpired(err: unknown): boolean {
  return reasonOf(err) === 'Expired';
}

/**
 * The server has not caught up with the resourceVersion asked for (a list at an RV from a
 * different, newer apiserver or etcd). client-go treats it like 410 and relists with RV "".
 */
export function isTooLargeResourceVersion(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return false;
  if (status.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge')) return true;
  return status.message.includes('Too large resource version');
}

/** 429 TooManyRequests: the server asks to retry later (see `StatusError.retryAfterSeconds`). */
export function isTooManyRequests(err: unknown): boolean {
  return codeOf(err) === 429 || reasonOf(err) === 'TooManyRequests';
}

/** 403 Forbidden: authenticated, but RBAC does not allow the request. */
export function isForbidden(err: unknown): boolean {
  return codeOf(err) === 403 || reasonOf(err) === 'Forbidden';
}

/** Reason InternalError: the server failed, or answered with something that is not a Status. */
export function isInternalError(err: unknown): boolean {
  return reasonOf(err) === 'InternalError';
}

/** A transport failure before any response: nothing listens at the address. */
export function isConnectionRefused(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
