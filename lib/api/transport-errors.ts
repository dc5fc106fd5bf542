/**
 * Failures below HTTP, worded for the person reading them: a connect, TLS, proxy or stream
 * failure says which server it concerns and, where it helps, what to check. They are kept apart
 * from StatusError (what a server answered) because callers branch on the difference: a
 * TransportError never reached an answer, or lost it on the way.
 */
import { AbortError } from '../util/abort.js';
import { errorMessage } from '../util/logger.js';

/** A failure below HTTP: connect, TLS, a proxy, a reset or dead connection, a body cut off. `code` is Node's (ECONNREFUSED...). */
export class TransportError extends Error {
  /**
   * Node's error code of the cause (ECONNREFUSED, ECONNRESET, CERT_HAS_EXPIRED,
   * ERR_HTTP2_STREAM_ERROR...), for programs; undefined when refwatch itself found the failure
   * (a timeout, a proxy's refusal, a stream closed without an answer).
   */
  readonly code: string | undefined;

  /**
   * @param message for people: which server, which step, and what to check; never a header or
   *   body, as it reaches logs.
   * @param cause the underlying error, kept as `cause`; its `code` becomes `code`.
   */
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'TransportError';
    this.code = (cause as { code?: string } | undefined)?.code;
  }
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * `err` as a TransportError worded for the person reading it; TLS verification says what to check.
 * `doing` names the step that failed ("request", "reading the response"); default "request".
 * A TransportError is returned as it is.
 */
export function toTransportError(server: URL, err: unknown, doing = 'request'): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  if (code && TLS_VERIFY_CODES.has(code)) {
    return new TransportError(
      `TLS verification of ${server.origin} failed (${code}): ${errorMessage(err)}; check that the kubeconfig's certificate-authority is the one that signed the server's certificate`,
      err,
    );
  }
  const what = doing === 'request' ? `request to ${server.origin}` : `${doing} from ${server.origin}`;
  return new TransportError(`${what} failed: ${errorMessage(err)}`, err);
}

/**
 * The error a request rejects with when its signal aborts: the one AbortError of
 * lib/util/abort.ts, worded for a request; `during` e.g. "connecting to https://h:6443 (TLS handshake)".
 */
export function abortError(during?: string): AbortError {
  return new AbortError(during ? `request aborted while ${during}` : 'request aborted', { during });
}
