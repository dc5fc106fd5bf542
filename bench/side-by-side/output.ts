/**
 * What the side-by-side benchmark shows: a markdown table per size and one of per-object
 * slopes (printed, and pasteable into the README as they are), the JSON with every sample,
 * and two SVG figures: memory against objects, and latency (update to visible; time until
 * all readable).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { markdownTable, round } from '../report.js';
import { renderFigure, type BarSeries, type Figure, type LineSeries } from '../svg-chart.js';
import { defaultLimitMs, type BenchOptions } from './options.js';
import type { VariantSlopes, VariantSummary } from './summary.js';
import { VARIANT_SPECS, type VariantId } from './variants.js';

const KiB = 1024;
const MiB = 2 ** 20;

/** 1234567 → "1,234,567"; "–" for nothing measured. */
export function count(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${round(ms / 1000, 2)} s` : `${round(ms / 1000, 1)} s`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${count(bytes / MiB)} MiB`;
}

function ms(v: number): string {
  return v < 10 ? round(v, 1).toFixed(1) : String(round(v, 0));
}

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${round(bytes / KiB, 1)} KiB`;
}

/** How long a quoted client error may be in a table cell. */
const ERROR_CELL_CHARS = 90;

/**
 * "did not converge in 75 s: 812 of 1,000 readable, 900 watches open, 12 connections (peak
 * 1,000), 1.2 GiB RSS, 9,994 failed gets (last: socket hang up)"; "stalled" or "failed"
 * instead of the limit when that is how the runs ended.
 */
export function notConvergedCell(s: VariantSummary, limitMs: number): string {
  const r = s.reached!;
  const parts = [`${count(r.readable)} of ${count(s.objects)} readable`];
  if (r.watches !== undefined) parts.push(`${count(r.watches)} watches open`);
  if (r.connections !== undefined) parts.push(`${count(r.connections)} connections${r.peakConnections !== undefined ? ` (peak ${count(r.peakConnections)})` : ''}`);
  if (r.rssBytes !== undefined) parts.push(`${mib(r.rssBytes)} RSS`);
  if (r.failedGets) {
    const last = r.lastError ? ` (last: ${r.lastError.length > ERROR_CELL_CHARS ? r.lastError.slice(0, ERROR_CELL_CHARS) + '…' : r.lastError})` : '';
    parts.push(`${count(r.failedGets)} failed gets${last}`);
  }
  return `${endedHow(s, limitMs)}: ${parts.join(', ')}`;
}

/** How the runs of a variant that never converged ended: "failed" (the worker exited), "stalled", or the limit. */
function endedHow(s: VariantSummary, limitMs: number): string {
  const failures = s.reached!.failures;
  if (failures.some((f) => /exited/.test(f))) return 'failed';
  return failures.every((f) => /stalled/.test(f)) ? 'stalled' : `did not converge in ${seconds(limitMs)}`;
}

function heapCell(s: VariantSummary): string {
  if (s.heapBytes === undefined) return '–';
  if (s.stackBytes === undefined) return mib(s.heapBytes);
  return `${mib(s.heapBytes)} + ${mib(s.stackBytes)} stacks (${count(s.goroutines ?? 0)} goroutines)`;
}

function runsNote(s: VariantSummary): string {
  return s.converged < s.runs ? ` (${s.converged} of ${s.runs} runs converged)` : '';
}

/** The table for one size: a column per variant that ran there. */
export function sizeTable(summaries: VariantSummary[], limitMs: number): string {
  const objects = summaries[0]?.objects ?? 0;
  // A variant that never converged at this size gets one cell saying what it reached, and dashes.
  const cell = (f: (s: VariantSummary) => string, otherwise: (s: VariantSummary) => string = () => '–') => summaries.map((s) => (s.reached ? otherwise(s) : f(s)));
  const rows: string[][] = [
    [
      `time until all ${count(objects)} are readable`,
      ...cell(
        (s) => `${seconds(s.readyMs!)}${runsNote(s)}`,
        (s) => notConvergedCell(s, limitMs),
      ),
    ],
    [
      '… and until each has a watch open on the apiserver',
      ...cell((s) => (VARIANT_SPECS[s.variant].watches ? (s.allWatchedMs === undefined ? 'not within the limit' : seconds(s.allWatchedMs)) : '–')),
    ],
    ['worker CPU until all readable', ...cell((s) => (s.cpuMs === undefined ? '–' : seconds(s.cpuMs)))],
    ['TCP connections to the apiserver (peak while syncing)', ...cell((s) => `${count(s.connections)} (${count(s.peakConnections)})`)],
    ['heap after GC', ...cell(heapCell)],
    ['RSS', ...cell((s) => mib(s.rssBytes))],
    [
      'update → visible, p50 / p99',
      ...cell((s) =>
        s.latency
          ? `${ms(s.latency.p50)} / ${ms(s.latency.p99)} ms${s.latency.visible < s.latency.updates ? ` (${s.latency.updates - s.latency.visible} of ${s.latency.updates} never seen)` : ''}`
          : '–',
      ),
    ],
    // Go rarely hands memory back, so the "before" is what earlier runs left; the step is this variant's.
    ['apiserver RSS, before the worker → serving it', ...cell((s) => `${mib(s.apiserverRssBeforeBytes)} → ${mib(s.apiserverRssBytes)}`)],
    ['secret watches open on the apiserver', ...cell((s) => count(s.watches))],
    ['gets that failed and were retried', ...cell((s) => (VARIANT_SPECS[s.variant].watches ? count(s.failedGets ?? 0) : '–'))],
  ];
  return markdownTable(['', ...summaries.map((s) => VARIANT_SPECS[s.variant].label)], rows);
}

/** Per-object slopes between each pair of consecutive sizes; "beyond the objects" subtracts the floor's heap slope. */
export function slopeTable(all: VariantSlopes[], floor: VariantSlopes | undefined): string {
  const shown = all.filter((s) => s.variant !== 'objects');
  const pairs = (shown[0] ?? floor)?.heap.map((s, i) => ({ i, label: `${count(s.from)} → ${count(s.to)}` })) ?? [];
  const rows: string[][] = [];
  for (const { i, label } of pairs) {
    rows.push([
      `heap per object, ${label}`,
      ...shown.map((s) => {
        const heap = s.heap[i].perObject;
        if (heap === undefined) return '–';
        const stack = s.stack[i].perObject;
        return stack === undefined ? kib(heap) : `${kib(heap)} + ${kib(stack)} stacks (${round(s.goroutines[i].perObject ?? NaN, 1)} goroutines)`;
      }),
    ]);
    const floorHeap = floor?.heap[i].perObject;
    if (floorHeap !== undefined) {
      rows.push([
        `… beyond the object itself (heap − ${kib(floorHeap)} floor)`,
        ...shown.map((s) => (VARIANT_SPECS[s.variant].runtime === 'node' && s.heap[i].perObject !== undefined ? kib(s.heap[i].perObject! - floorHeap) : '–')),
      ]);
    }
    rows.push([`RSS per object, ${label}`, ...shown.map((s) => kib(s.rss[i].perObject))]);
  }
  return markdownTable(['', ...shown.map((s) => VARIANT_SPECS[s.variant].label)], rows);
}

/** Lightens a #rrggbb colour towards white, for the p50 bar next to the p99 one. */
export function lighten(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  return `#${[n >> 16, (n >> 8) & 0xff, n & 0xff].map((c) => mix(c).toString(16).padStart(2, '0')).join('')}`;
}

/** The memory figure and the latency figure. */
export function figures(summaries: VariantSummary[], options: BenchOptions, notes: string[]): { memory: string; latency: string } {
  const variants = options.variants;
  const bySize = (v: VariantId, pick: (s: VariantSummary) => number | undefined) =>
    options.sizes.map((objects) => {
      const s = summaries.find((x) => x.variant === v && x.objects === objects);
      return { x: objects, y: s && !s.reached ? pick(s) : undefined };
    });
  const line = (v: VariantId, pick: (s: VariantSummary) => number | undefined, label = VARIANT_SPECS[v].label): LineSeries => ({
    label,
    color: VARIANT_SPECS[v].color,
    dashed: v === 'objects',
    points: bySize(v, pick),
  });
  const heapLabel = (v: VariantId) => (VARIANT_SPECS[v].runtime === 'go' ? `${VARIANT_SPECS[v].label}: heap + stacks` : VARIANT_SPECS[v].label);
  const memory: Figure = {
    title: 'Memory against watched secrets (one pod per secret), real kube-apiserver',
    notes,
    panels: [
      {
        kind: 'line',
        title: 'Heap after GC',
        xLabel: 'secrets',
        yLabel: 'MiB',
        logX: true,
        series: variants.map((v) => line(v, (s) => (s.heapBytes === undefined ? undefined : (s.heapBytes + (s.stackBytes ?? 0)) / MiB), heapLabel(v))),
      },
      {
        kind: 'line',
        title: 'Process RSS',
        xLabel: 'secrets',
        yLabel: 'MiB',
        logX: true,
        series: variants.map((v) => line(v, (s) => (s.rssBytes === undefined ? undefined : s.rssBytes / MiB))),
      },
    ],
  };
  const watching = variants.filter((v) => VARIANT_SPECS[v].watches);
  const latencyBars: BarSeries[] = watching.flatMap((v) => {
    const at = (pick: (s: VariantSummary) => number | undefined) =>
      options.sizes.map((objects) => {
        const s = summaries.find((x) => x.variant === v && x.objects === objects);
        return s && !s.reached ? pick(s) : undefined;
      });
    return [
      { label: `${VARIANT_SPECS[v].label} p50`, color: lighten(VARIANT_SPECS[v].color, 0.55), values: at((s) => s.latency?.p50) },
      { label: `${VARIANT_SPECS[v].label} p99`, color: VARIANT_SPECS[v].color, values: at((s) => s.latency?.p99) },
    ];
  });
  const latency: Figure = {
    title: 'Latency, real kube-apiserver',
    notes,
    panels: [
      { kind: 'bar', title: 'Update → visible in the cache (p50, p99)', yLabel: 'ms', categories: options.sizes.map((n) => `${count(n)} secrets`), series: latencyBars },
      {
        kind: 'line',
        title: 'Time until all are readable',
        xLabel: 'secrets',
        yLabel: 's (log)',
        logX: true,
        logY: true,
        series: watching.map((v) => line(v, (s) => (s.readyMs === undefined ? undefined : s.readyMs / 1000))),
      },
    ],
  };
  const missing = summaries
    .filter((s) => s.reached)
    .map(
      (s) =>
        `no point for ${VARIANT_SPECS[s.variant].label} at ${count(s.objects)}: ${endedHow(s, options.limitMs ?? defaultLimitMs(s.objects))}, ${count(s.reached!.readable)} of ${count(s.objects)} readable`,
    );
  memory.notes = latency.notes = [...notes, ...missing];
  return { memory: renderFigure(memory), latency: renderFigure(latency) };
}

/** Writes both figures next to the JSON; returns their paths. */
export function writeFigures(dir: string, svg: { memory: string; latency: string }): string[] {
  const files = [path.join(dir, 'side-by-side-memory.svg'), path.join(dir, 'side-by-side-latency.svg')];
  writeFileSync(files[0], svg.memory);
  writeFileSync(files[1], svg.latency);
  for (const f of files) console.log(`written: ${path.relative(process.cwd(), f)}`);
  return files;
}
