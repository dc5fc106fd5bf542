/**
 * Logger is the one sink for refwatch's diagnostics. Fields are plain values (namespace, name,
 * resourceVersion, error messages); object contents, and so secret data, are never passed to it.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  /** Routine detail (klog V(4)): watch restarts, idle stops, immutable stops. */
  debug(msg: string, fields?: LogFields): void;
  /** Something a user may act on: a failed watch, a skipped malformed event or pod. */
  warn(msg: string, fields?: LogFields): void;
}

export const noopLogger: Logger = { debug() {}, warn() {} };

/** Logs to the console as one JSON line per message; handy for examples and debugging. */
export const consoleLogger: Logger = {
  debug: (msg, fields) => console.debug(JSON.stringify({ level: 'debug', msg, ...fields })),
  warn: (msg, fields) => console.warn(JSON.stringify({ level: 'warn', msg, ...fields })),
};

/**
 * The message of any thrown value, without its stack; safe to log. Read by shape, not by
 * `instanceof Error`: errors made in another realm (Node's own, seen from a Jest sandbox) are
 * not instances of this realm's Error.
 */
export function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * What kind of value was thrown ("TypeError", "Error", "object"...), without its message. For
 * failures raised while reading untrusted input (a pod's getters, a proxy): their messages may
 * quote that input, and a pod can carry secret values inline. Never throws itself.
 */
export function thrownKind(err: unknown): string {
  try {
    if (Object.prototype.toString.call(err) !== '[object Error]') return err === null ? 'null' : typeof err;
    const name = (err as Error).name;
    return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'Error';
  } catch {
    return 'unreadable value';
  }
}
