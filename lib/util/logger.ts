/**
 * The one sink for refwatch's diagnostics, and the one place that knows how other loggers take
 * their arguments. refwatch logs a message and its fields, `warn(msg, fields)`. pino and bunyan
 * take them the other way round, `warn(fields, msg)`, and read a second argument as a printf
 * value: a pino logger passed as is type-checks (its methods accept a string first) and silently
 * drops every field. So no component calls what it was given directly: each turns its
 * `LoggerLike` into a `NormalizedLogger` once, at construction, with `toLogger`, which tells
 * pino, bunyan and the console apart by what they reliably expose and adapts each.
 *
 * Fields are plain values (namespaces, names, resourceVersions, counts, error messages). Object
 * contents, and so secret data, are never passed to a logger.
 */
import { Console } from 'node:console';

/**
 * What a log line carries besides its message: plain values only, so no object (a pod, a
 * Secret) can reach a log line through a field. `undefined` values are left out by JSON loggers.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * refwatch's own logger shape, message first: `warn('watch failed', { reflector, error })`.
 * Implement it to send refwatch's lines anywhere; winston and log4js loggers already have it.
 * `debug` and `warn` are required (the shape refwatch has always taken); a logger without
 * `info` gets info lines at `debug`, one without `error` gets error lines at `warn`, so no line
 * is dropped for a missing level.
 *
 * What refwatch logs at each level:
 * - `debug`: routine detail (klog V(4)): watch restarts, idle and immutable stops, a pass done
 *   or cut short by stop(), objects kept by a rule, a port that became bound.
 * - `info`: work done as designed that an operator wants in normal logs: orphans removed,
 *   images and blobs collected.
 * - `warn`: something a user may act on, retried or skipped: a failed watch, a malformed event
 *   or pod skipped, an orphan found, an owner that could not be read, disk pressure, one
 *   removal that failed (retried next pass), a deprecated overlay.
 * - `error`: work that did not happen and will not be retried by itself, or a bug in a hook:
 *   a reconcile pass, image GC or blob GC that failed as a whole, a release of an orphan's
 *   resources that failed (they are not released again), a metrics or change hook that threw,
 *   a profile change stream that failed (that container stops hearing changes), a reconcile
 *   handler that failed, a port poller that crashed.
 */
export interface Logger {
  /** Routine detail, off in production. */
  debug(msg: string, fields?: LogFields): void;
  /** Work done as designed. Absent: such lines go to `debug`. */
  info?(msg: string, fields?: LogFields): void;
  /** Something a user may act on. */
  warn(msg: string, fields?: LogFields): void;
  /** Work that failed for good, or a hook that threw. Absent: such lines go to `warn`. */
  error?(msg: string, fields?: LogFields): void;
}

/**
 * What every refwatch component holds: all four levels, message first, never throwing (a
 * logger that throws must not break the loop that logs). Made by `toLogger` and the adapters
 * below; there is no reason to implement it yourself.
 */
export interface NormalizedLogger extends Logger {
  /** Work done as designed. */
  info(msg: string, fields?: LogFields): void;
  /** Work that failed for good, or a hook that threw. */
  error(msg: string, fields?: LogFields): void;
}

/**
 * A structured logger, fields first: `warn({ reflector, error }, 'watch failed')`, as pino and
 * bunyan take them. `toLogger` recognises pino and bunyan by themselves; `structuredLogger()`
 * adapts any other logger of this shape, which nothing can tell from a message-first one.
 */
export interface StructuredLogger {
  /** Routine detail. */
  debug(fields: LogFields, msg: string): void;
  /** Work done as designed. Absent: such lines go to `debug`. */
  info?(fields: LogFields, msg: string): void;
  /** Something a user may act on. */
  warn(fields: LogFields, msg: string): void;
  /** Work that failed for good. Absent: such lines go to `warn`. */
  error?(fields: LogFields, msg: string): void;
}

/**
 * A pino logger (v7 and later, children included) as `toLogger` recognises it: `child()`,
 * `bindings()` and a `levels` object with `values`. Its methods take a string first too, so the
 * type is a Logger; only `toLogger` knows to hand it the fields first.
 */
export interface PinoLike extends Logger {
  /** A child logger with more bindings. */
  child(bindings: object, ...rest: never[]): unknown;
  /** The fields this logger adds to every line. */
  bindings(): object;
  /** Level names to numbers and back. */
  levels: { values: Record<string, number> };
}

/**
 * A bunyan logger (children included) as `toLogger` recognises it: `child()`, a `fields` object
 * and a `streams` array. Like pino, it takes the fields first.
 */
export interface BunyanLike extends Logger {
  /** A child logger with more fields. */
  child(fields: object, ...rest: never[]): unknown;
  /** The fields this logger adds to every line. */
  fields: object;
  /** Where its lines go. */
  streams: unknown[];
}

/** The console (the global one, or a `new Console(stream)`): message first, all four levels. */
export interface ConsoleLike extends Logger {
  /** Prints the message, then the fields, at info. */
  info(msg: string, fields?: LogFields): void;
  /** Prints the message, then the fields, at error. */
  error(msg: string, fields?: LogFields): void;
}

/**
 * Any logger a refwatch option takes (`logger?: LoggerLike`): refwatch's own shape or another
 * message-first logger (winston, log4js), a pino or a bunyan logger, the console, or what
 * `structuredLogger()` or `messageFirstLogger()` made. As far as types go each is a `Logger`
 * (pino's and bunyan's methods accept a string first), so a pino logger type-checks either way;
 * `toLogger`, called once by every component, tells them apart at run time by what each
 * reliably exposes and hands pino and bunyan the fields first. A fields-first logger of any
 * other kind cannot be told apart and must be passed as `structuredLogger(yours)`.
 */
export type LoggerLike = Logger | PinoLike | BunyanLike | ConsoleLike;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** The level a line goes to when the target lacks its own: info falls to debug, error to warn. */
const FALLBACK: Record<Level, Level | undefined> = { debug: undefined, info: 'debug', warn: undefined, error: 'warn' };

/** Loggers made here: `toLogger` hands them back as they are. */
const normalized = new WeakSet<object>();

function seal(logger: NormalizedLogger): NormalizedLogger {
  normalized.add(logger);
  return Object.freeze(logger);
}

/** Drops every line: the default when no logger is given. */
export const noopLogger: NormalizedLogger = seal({ debug() {}, info() {}, warn() {}, error() {} });

/**
 * Logs to the console as one JSON line per message (`{"level":"warn","msg":...,...fields}`),
 * debug and info to stdout, warn and error to stderr; handy for examples and debugging. To see
 * the fields as the console prints objects instead, pass `console` itself.
 */
export const consoleLogger: NormalizedLogger = seal({
  debug: (msg, fields) => console.debug(JSON.stringify({ level: 'debug', msg, ...fields })),
  info: (msg, fields) => console.info(JSON.stringify({ level: 'info', msg, ...fields })),
  warn: (msg, fields) => console.warn(JSON.stringify({ level: 'warn', msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: 'error', msg, ...fields })),
});

/**
 * A NormalizedLogger over `target`, calling `emit(method, msg, fields)` for each line. The
 * target's method is looked up on every call, not bound once: pino swaps a level's method
 * when its level changes, so a bound method would keep logging (or keep dropping) at the old
 * level. A target that throws is ignored: logging is never the reason a reflector or a pass
 * stops.
 */
function adapt(target: object, what: string, emit: (method: (...args: unknown[]) => void, msg: string, fields: LogFields | undefined) => void): NormalizedLogger {
  const methods = target as Partial<Record<Level, unknown>>;
  for (const level of ['debug', 'warn'] as const) {
    if (typeof methods[level] !== 'function') {
      throw new TypeError(`refwatch: ${what} has no ${level}() method; a logger needs at least debug() and warn()`);
    }
  }
  const line = (level: Level): NormalizedLogger[Level] => {
    const own = typeof methods[level] === 'function' ? level : FALLBACK[level]!;
    return (msg, fields) => {
      try {
        emit(methods[own] as (...args: unknown[]) => void, msg, fields);
      } catch {
        // The logger failed; there is nowhere left to report that.
      }
    };
  };
  return seal({ debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') });
}

/** Whether `fields` has any key; an empty or absent object is left out of console lines. */
function hasFields(fields: LogFields | undefined): fields is LogFields {
  return fields !== undefined && fields !== null && Object.keys(fields).length > 0;
}

/**
 * Adapts a logger that takes the message first (refwatch's own shape, winston, log4js). Use it
 * to override `toLogger`'s detection for a message-first logger that happens to look like pino
 * or bunyan. Fields are passed as given.
 *
 * @throws TypeError when `target` lacks a `debug` or `warn` method.
 */
export function messageFirstLogger(target: Logger): NormalizedLogger {
  return adapt(target, 'the logger', (method, msg, fields) => method.call(target, msg, fields));
}

/**
 * Adapts a logger that takes the fields first and the message second, as pino and bunyan do:
 * `logger.warn('watch failed', { reflector })` becomes `target.warn({ reflector }, 'watch
 * failed')`, so the fields land in the target's JSON line. `toLogger` does this by itself for
 * pino and bunyan loggers; call it for any other logger of that shape (a facade over pino, a
 * wrapper that hides pino's `bindings`), which the detection cannot tell from a message-first one.
 *
 * @throws TypeError when `target` lacks a `debug` or `warn` method.
 */
export function structuredLogger(target: StructuredLogger): NormalizedLogger {
  return adapt(target, 'the structured logger', (method, msg, fields) => method.call(target, { ...fields }, msg));
}

/** Adapts a console: the message, then the fields as an object when there are any. */
function consoleAdapter(target: ConsoleLike): NormalizedLogger {
  return adapt(target, 'the console', (method, msg, fields) => {
    if (hasFields(fields)) method.call(target, msg, fields);
    else method.call(target, msg);
  });
}

/**
 * pino (v7 and later): its loggers and their children have `child()`, `bindings()` and a
 * `levels` object with `values` and `labels`. winston has `child()` and a `levels` object too,
 * but no `bindings()`, and its `levels` holds numbers.
 */
function isPino(value: Record<string, unknown>): boolean {
  const levels = value.levels as { values?: unknown } | undefined;
  return typeof value.child === 'function' && typeof value.bindings === 'function' && typeof levels === 'object' && levels !== null && typeof levels.values === 'object';
}

/** bunyan: its loggers and their children have `child()`, a `fields` object and a `streams` array. */
function isBunyan(value: Record<string, unknown>): boolean {
  return typeof value.child === 'function' && typeof value.fields === 'object' && value.fields !== null && Array.isArray(value.streams);
}

/** The console: the global one (Jest's replacement included) or any `new Console(...)`. */
function isConsole(value: object): boolean {
  return value === globalThis.console || value instanceof Console;
}

/**
 * The one way a refwatch component turns the logger it was given into the one it holds. Call it
 * once, at construction. Recognised, in this order:
 *
 * 1. `undefined`: `noopLogger`.
 * 2. A logger this module made (`toLogger`'s own results, `structuredLogger()`,
 *    `messageFirstLogger()`, `noopLogger`, `consoleLogger`): returned as it is, so passing a
 *    component's logger on to the parts it builds costs nothing.
 * 3. pino (`child()`, `bindings()` and a `levels` object with `values`) and bunyan (`child()`, a
 *    `fields` object and a `streams` array): fields first, as `structuredLogger()`.
 * 4. The console (the global one, or a `Console` instance): the message, then the fields
 *    object when there are fields.
 * 5. Anything else with `debug()` and `warn()`: refwatch's own shape, message first, as
 *    `messageFirstLogger()`.
 *
 * A logger that the rules misread (a facade over pino that hides `bindings()`, a message-first
 * logger that exposes pino-like properties) is passed through the matching adapter instead:
 * `structuredLogger(myLogger)` or `messageFirstLogger(myLogger)`; rule 2 then keeps it as it is.
 * A missing `info` falls back to `debug` and a missing `error` to `warn`. The result never
 * throws when it logs.
 *
 * @throws TypeError when `logger` is not an object with `debug()` and `warn()` methods: a
 *   logger that cannot take refwatch's lines is refused at construction, not discovered at the
 *   first failure.
 */
export function toLogger(logger: LoggerLike | undefined): NormalizedLogger {
  if (logger === undefined || logger === null) return noopLogger;
  if (typeof logger !== 'object' && typeof logger !== 'function') throw new TypeError(`refwatch: a logger must be an object, got ${typeof logger}`);
  if (normalized.has(logger)) return logger as NormalizedLogger;
  const fields = logger as unknown as Record<string, unknown>;
  if (isPino(fields) || isBunyan(fields)) return structuredLogger(logger as unknown as StructuredLogger);
  if (isConsole(logger)) return consoleAdapter(logger as ConsoleLike);
  return messageFirstLogger(logger as Logger);
}

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
