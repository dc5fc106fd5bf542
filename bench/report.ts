/**
 * How every benchmark reports: a table on stdout (medians, side by side) and the same numbers,
 * with every sample, as JSON in bench/results/, so a README table can be traced to a file.
 * The median is the benchmarks' average; percentiles come from lib/util/percentile.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The median of the finite values (the mean of the middle two for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `v` rounded to `digits` decimals. */
export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Prints `rows` as a table under `title` and writes them, with `raw`, to bench/results/<name>.json. */
export function report(name: string, title: string, rows: Array<Record<string, string | number>>, raw: unknown): string {
  console.log(`\n${title}\n`);
  console.table(rows);
  return writeResult(name, { title, rows, raw });
}

/**
 * Writes bench/results/<name>.json: `body` plus the benchmark's name, the date, the Node
 * version and the machine, so a number in the README can be traced to when and where it was
 * measured. Returns the file's path.
 */
export function writeResult(name: string, body: Record<string, unknown>, dir = path.resolve('bench', 'results')): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, date: new Date().toISOString(), node: process.version, machine: machine(), ...body }, null, 2) + '\n');
  console.log(`written: ${path.relative(process.cwd(), file)}`);
  return file;
}

/** The machine a result was measured on. */
export function machine(): { platform: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number } {
  return { platform: process.platform, arch: process.arch, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: round(os.totalmem() / 2 ** 30) };
}

/** A GitHub-flavoured markdown table, so a printed result can be pasted into the README as is. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
