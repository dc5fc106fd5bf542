// Real pino and bunyan loggers writing JSON lines into an array, for specs that check which
// fields, at which level, reach a user's structured logger. Every component normalises its
// logger with toLogger, so a spec that hands one of these to a component and finds the fields
// in the parsed lines proves the whole path, not an adapter in isolation.
import bunyan from 'bunyan';
import pino from 'pino';

/** One parsed JSON line: `msg`, the numeric `level`, the fields, and the logger's own keys. */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

/** pino's and bunyan's numbers for the four levels refwatch uses (both use the same ones). */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A pino logger at `level` (default debug) and the lines it wrote. */
export function capturePino(level: pino.Level = 'debug'): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** A bunyan logger at debug and the lines it wrote. */
export function captureBunyan(): { logger: bunyan; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = bunyan.createLogger({
    name: 'refwatch-spec',
    streams: [{ level: 'debug', stream: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } as unknown as NodeJS.WritableStream }],
  });
  return { logger, lines };
}

/** The lines with this message. */
export function linesWith(lines: LogLine[], msg: string): LogLine[] {
  return lines.filter((l) => l.msg === msg);
}
