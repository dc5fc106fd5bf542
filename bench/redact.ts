/**
 * What scrubbing an error costs (lib/api/redact.ts): building the Redactor for a Secret's body
 * and scrubbing one error Status (a short message, three causes, and a 64 KiB echo of the body),
 * for Secrets of 1 KiB, 64 KiB and 1 MiB of random data (the API's limit). It runs only when a
 * request that sent a body fails, but it runs on the event loop, so its worst case is worth
 * knowing. Medians of ROUNDS runs, in ms.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/redact.js
 *
 * Environment: BENCH_ROUNDS (default 9).
 */
import { randomBytes } from 'node:crypto';
import type { Status } from '../lib/api/errors.js';
import { Redactor } from '../lib/api/redact.js';
import { median, report, round } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const KEYS = 16;

function secretOf(totalBytes: number): { apiVersion: string; kind: string; metadata: { name: string }; data: Record<string, string> } {
  const data: Record<string, string> = {};
  // base64 grows by 4/3: so many raw bytes per key that the encoded body is about totalBytes.
  const perKey = Math.max(1, Math.floor((totalBytes * 3) / 4 / KEYS));
  for (let i = 0; i < KEYS; i++) data[`key-${i}`] = randomBytes(perKey).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bench' }, data };
}

function errorFor(body: string, secret: ReturnType<typeof secretOf>): Status {
  const first = Object.values(secret.data)[0];
  return {
    kind: 'Status',
    code: 422,
    reason: 'Invalid',
    message: `Secret "bench" is invalid: data[key-0]: Invalid value: "${first.slice(0, 120)}"; request: ${body.slice(0, 64 * 1024)}`,
    details: {
      name: 'bench',
      kind: 'secrets',
      causes: [0, 1, 2].map((i) => ({ reason: 'FieldValueInvalid', message: `Invalid value: "${first.slice(i * 10, i * 10 + 60)}"`, field: `data[key-${i}]` })),
    },
  };
}

const rows: Array<Record<string, string | number>> = [];
const raw: Record<string, { build: number[]; scrub: number[] }> = {};
for (const [label, size] of [
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
] as const) {
  const secret = secretOf(size);
  const body = JSON.stringify(secret);
  const status = errorFor(body, secret);
  const build: number[] = [];
  const scrub: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    const redactor = Redactor.forBody(secret);
    build.push(performance.now() - t);
    t = performance.now();
    const scrubbed = redactor.scrubStatus(status);
    scrub.push(performance.now() - t);
    if (scrubbed.message!.includes(Object.values(secret.data)[0].slice(10, 40))) throw new Error('the benchmark body was not redacted');
  }
  raw[label] = { build, scrub };
  rows.push({ secret: label, 'body bytes': body.length, 'build ms (median)': round(median(build)), 'scrub ms (median)': round(median(scrub)) });
}
report('redact', `Scrubbing one error of a failed Secret write (${ROUNDS} rounds, medians)`, rows, raw);
