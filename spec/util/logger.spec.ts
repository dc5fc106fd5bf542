// toLogger and the adapters: a real pino and a real bunyan logger get every field in their JSON
// output at the right level, the console gets the fields as an object, refwatch's own shape is
// passed through with the missing levels falling back, and the escape hatches override the
// detection. Nothing a logger does (throwing, changing level) breaks the caller.
import { describe, expect, it, jest } from '@jest/globals';
import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import {
  consoleLogger,
  messageFirstLogger,
  noopLogger,
  structuredLogger,
  toLogger,
  type LogFields,
  type Logger,
  type LoggerLike,
  type StructuredLogger,
} from '../../lib/util/logger.js';
import { LEVEL, captureBunyan, capturePino } from './log-capture.js';

const fields = { reflector: 'secrets/db', resourceVersion: '42', attempts: 3, synced: false };

function logEveryLevel(like: LoggerLike): void {
  const logger = toLogger(like);
  logger.debug('debug line', fields);
  logger.info('info line', fields);
  logger.warn('warn line', fields);
  logger.error('error line', fields);
}

describe('toLogger', () => {
  it('hands a pino logger the fields first, so they land in its JSON line, at all four levels', () => {
    const { logger, lines } = capturePino();
    logEveryLevel(logger);
    expect(lines.map(({ level, msg, reflector, resourceVersion, attempts, synced }) => ({ level, msg, reflector, resourceVersion, attempts, synced }))).toEqual([
      { level: LEVEL.debug, msg: 'debug line', ...fields },
      { level: LEVEL.info, msg: 'info line', ...fields },
      { level: LEVEL.warn, msg: 'warn line', ...fields },
      { level: LEVEL.error, msg: 'error line', ...fields },
    ]);
  });

  it('recognises a pino child logger, keeping its bindings', () => {
    const { logger, lines } = capturePino();
    toLogger(logger.child({ component: 'watchdog' })).warn('orphan found', { id: 'c1' });
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.warn, msg: 'orphan found', id: 'c1', component: 'watchdog' })]);
  });

  it("follows a pino logger's level when it changes after toLogger", () => {
    const { logger, lines } = capturePino('warn');
    const normalized = toLogger(logger);
    normalized.debug('hidden', { n: 1 });
    logger.level = 'debug';
    normalized.debug('shown', { n: 2 });
    expect(lines.map((l) => [l.msg, l.n])).toEqual([['shown', 2]]);
  });

  it('hands a bunyan logger (and its child) the fields first, at all four levels', () => {
    const { logger, lines } = captureBunyan();
    logEveryLevel(logger);
    toLogger(logger.child({ component: 'gc' })).info('images removed', { deleted: 2 });
    expect(lines.map(({ level, msg, reflector, resourceVersion, attempts, synced }) => ({ level, msg, reflector, resourceVersion, attempts, synced }))).toEqual([
      { level: LEVEL.debug, msg: 'debug line', ...fields },
      { level: LEVEL.info, msg: 'info line', ...fields },
      { level: LEVEL.warn, msg: 'warn line', ...fields },
      { level: LEVEL.error, msg: 'error line', ...fields },
      { level: LEVEL.info, msg: 'images removed', reflector: undefined, resourceVersion: undefined, attempts: undefined, synced: undefined },
    ]);
    expect(lines[4]).toEqual(expect.objectContaining({ component: 'gc', deleted: 2 }));
  });

  it('gives a Console the message, then the fields as an object, and no empty object when there are none', () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const logger = toLogger(new Console({ stdout, stderr }));
    logger.info('pass done', { durationMs: 12 });
    logger.error('pass failed', { error: 'boom' });
    logger.warn('no fields');
    expect(String(stdout.read())).toBe('pass done { durationMs: 12 }\n');
    expect(String(stderr.read())).toBe("pass failed { error: 'boom' }\nno fields\n");
  });

  it('recognises the global console', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      toLogger(console).warn('watch failed', { reflector: 'r' });
      toLogger(console).warn('no fields', {});
      expect(warn.mock.calls).toEqual([['watch failed', { reflector: 'r' }], ['no fields']]);
    } finally {
      warn.mockRestore();
    }
  });

  it("passes refwatch's own shape through, message first, with info falling back to debug and error to warn", () => {
    const calls: [string, string, LogFields | undefined][] = [];
    const own: Logger = { debug: (msg, f) => calls.push(['debug', msg, f]), warn: (msg, f) => calls.push(['warn', msg, f]) };
    logEveryLevel(own);
    toLogger(own).debug('without fields');
    expect(calls).toEqual([
      ['debug', 'debug line', fields],
      ['debug', 'info line', fields],
      ['warn', 'warn line', fields],
      ['warn', 'error line', fields],
      ['debug', 'without fields', undefined],
    ]);
  });

  it("uses a message-first logger's own info and error when it has them", () => {
    const calls: string[] = [];
    const record = (level: string) => (msg: string, f?: LogFields) => calls.push(`${level} ${msg} ${JSON.stringify(f)}`);
    logEveryLevel({ debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') });
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['debug', 'info', 'warn', 'error']);
    expect(calls[0]).toBe(`debug debug line ${JSON.stringify(fields)}`);
  });

  it('treats a winston-like logger (child() and numeric levels, no bindings()) as message first', () => {
    const calls: unknown[][] = [];
    const winstonLike = {
      levels: { error: 0, warn: 1, info: 2, debug: 5 },
      child: () => winstonLike,
      debug: (...a: unknown[]) => calls.push(a),
      warn: (...a: unknown[]) => calls.push(a),
    };
    toLogger(winstonLike).warn('watch failed', { reflector: 'r' });
    expect(calls).toEqual([['watch failed', { reflector: 'r' }]]);
  });

  it('is an escape hatch: structuredLogger() for a fields-first facade the detection cannot see', () => {
    const calls: unknown[][] = [];
    const facade: StructuredLogger = { debug: (...a: unknown[]) => calls.push(['debug', ...a]), warn: (...a: unknown[]) => calls.push(['warn', ...a]) };
    const adapted = structuredLogger(facade);
    expect(toLogger(adapted)).toBe(adapted);
    adapted.warn('watch failed', { reflector: 'r' });
    adapted.error('gave up');
    adapted.info('done', { n: 1 });
    expect(calls).toEqual([
      ['warn', { reflector: 'r' }, 'watch failed'],
      ['warn', {}, 'gave up'],
      ['debug', { n: 1 }, 'done'],
    ]);
  });

  it('is an escape hatch: messageFirstLogger() for a message-first logger that looks like pino', () => {
    const calls: unknown[][] = [];
    const lookalike = { levels: { values: {}, labels: {} }, child() {}, bindings: () => ({}), debug: (...a: unknown[]) => calls.push(a), warn: (...a: unknown[]) => calls.push(a) };
    toLogger(messageFirstLogger(lookalike)).warn('watch failed', { reflector: 'r' });
    toLogger(lookalike).warn('misread', { reflector: 'r' });
    expect(calls).toEqual([
      ['watch failed', { reflector: 'r' }],
      [{ reflector: 'r' }, 'misread'],
    ]);
  });

  it('returns the loggers it made as they are, and noopLogger for undefined', () => {
    const { logger } = capturePino();
    const once = toLogger(logger);
    expect(toLogger(once)).toBe(once);
    expect(toLogger(undefined)).toBe(noopLogger);
    expect(toLogger(noopLogger)).toBe(noopLogger);
    expect(toLogger(consoleLogger)).toBe(consoleLogger);
  });

  it('refuses, at construction, a value that cannot take log lines', () => {
    expect(() => toLogger({ debug() {} } as unknown as Logger)).toThrow(new TypeError('refwatch: the logger has no warn() method; a logger needs at least debug() and warn()'));
    expect(() => toLogger('stdout' as unknown as Logger)).toThrow(new TypeError('refwatch: a logger must be an object, got string'));
    expect(() => structuredLogger({} as StructuredLogger)).toThrow('the structured logger has no debug() method');
  });

  it('never throws when the logger it wraps does', () => {
    const throwing: Logger = {
      debug() {
        throw new Error('disk full');
      },
      warn() {
        throw new Error('disk full');
      },
    };
    const logger = toLogger(throwing);
    expect(() => logger.warn('watch failed', { reflector: 'r' })).not.toThrow();
    expect(() => logger.info('done')).not.toThrow();
  });

  it('copies the fields it hands a structured logger, so the logger cannot change the object the caller logged', () => {
    const seen: LogFields[] = [];
    const mutating: StructuredLogger = {
      debug() {},
      warn: (f) => {
        seen.push(f);
        f.extra = 'added';
      },
    };
    const mine: LogFields = { reflector: 'r' };
    structuredLogger(mutating).warn('x', mine);
    expect(mine).toEqual({ reflector: 'r' });
    expect(seen).toEqual([{ reflector: 'r', extra: 'added' }]);
  });
});

describe('consoleLogger', () => {
  it('prints one JSON line per message through the console method of its level', () => {
    const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) => jest.spyOn(console, level).mockImplementation(() => {}));
    try {
      consoleLogger.debug('d', { a: 1 });
      consoleLogger.info('i');
      consoleLogger.warn('w', { b: 'x' });
      consoleLogger.error('e', { c: true });
      expect(spies.map((s) => s.mock.calls)).toEqual([
        [['{"level":"debug","msg":"d","a":1}']],
        [['{"level":"info","msg":"i"}']],
        [['{"level":"warn","msg":"w","b":"x"}']],
        [['{"level":"error","msg":"e","c":true}']],
      ]);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});
