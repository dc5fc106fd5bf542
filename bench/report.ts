/**
 * How every benchmark reports: a table on stdout (medians, side by side) and the same numbers,
 * with every sample, as JSON in bench/results/, so a README table can be traced to a file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function report(name: string, title: string, rows: Array<Record<string, string | number>>, raw: unknown): string {
  console.log(`\n${title}\n`);
  console.table(rows);
  const dir = path.resolve('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({ benchmark: name, title, date: new Date().toISOString(), node: process.version, machine: machine(), rows, raw }, null, 2) + '\n',
  );
  console.log(`written: ${path.relative(process.cwd(), file)}`);
  return file;
}

function machine(): Record<string, unknown> {
  return { platform: process.platform, arch: process.arch, cpus: os.cpus().length, memoryGiB: round(os.totalmem() / 2 ** 30) };
}

/** Established TCP connections from this process's machine to 127.0.0.1:<port> (client side), from /proc/net/tcp. */
export function establishedTo(port: number): number {
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const remotePort = parseInt(cols[2].split(':')[1], 16);
      if (remotePort === port && cols[3] === '01') count++;
    }
  }
  return count;
}

/**
 * A benchmark file's entry point: with `--worker` as the first argument it runs `worker` on the
 * remaining arguments and prints its sample as one JSON line (the parent reads the last line);
 * otherwise it runs `main`. Either way a failure sets a non-zero exit code.
 */
export function runBenchmark(worker: (args: string[]) => Promise<unknown>, main: () => Promise<void>): void {
  if (process.argv[2] === '--worker') {
    worker(process.argv.slice(3)).then(
      (sample) => {
        console.log(JSON.stringify(sample));
        process.exit(0);
      },
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  } else {
    main().catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
  }
}
