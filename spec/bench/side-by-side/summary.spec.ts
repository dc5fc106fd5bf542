import { describe, expect, it } from '@jest/globals';
import { lighten, sizeTable, slopeTable } from '../../../bench/side-by-side/output.js';
import type { RunSample } from '../../../bench/side-by-side/run.js';
import { slopesOf, summarize, type VariantSummary } from '../../../bench/side-by-side/summary.js';
import type { VariantId } from '../../../bench/side-by-side/variants.js';

const MiB = 2 ** 20;

function run(variant: VariantId, objects: number, round: number, over: Partial<RunSample> = {}): RunSample {
  return {
    variant,
    objects,
    round,
    outcome: 'ready',
    loadAverage: 1,
    readyMs: 1_000,
    readable: objects,
    failedGets: 0,
    cpuMs: 500,
    connections: 10,
    peakConnections: 12,
    watches: objects,
    memory: { heapBytes: 100 * MiB, rssBytes: 200 * MiB },
    apiserverRssBytes: 300 * MiB,
    latencyMs: [1, 2, 3, 4, 100],
    writeMs: [1, 1, 1, 1, 1],
    ...over,
  };
}

describe('summarize', () => {
  it('takes the median of each measurement over the runs that converged', () => {
    const samples = [
      run('refwatch', 1_000, 0, { readyMs: 900, memory: { heapBytes: 10 * MiB, rssBytes: 90 * MiB } }),
      run('refwatch', 1_000, 1, { readyMs: 700, memory: { heapBytes: 30 * MiB, rssBytes: 70 * MiB } }),
      run('refwatch', 1_000, 2, { readyMs: 800, memory: { heapBytes: 20 * MiB, rssBytes: 80 * MiB } }),
      run('kubelet', 1_000, 0, { readyMs: 5 }),
    ];
    const s = summarize(samples, 'refwatch', 1_000)!;
    expect(s).toMatchObject({ runs: 3, converged: 3, readyMs: 800, heapBytes: 20 * MiB, rssBytes: 80 * MiB, connections: 10 });
    expect(s.reached).toBeUndefined();
    expect(summarize(samples, 'client-node', 1_000)).toBeUndefined();
  });

  it('never averages a run that did not converge into the medians', () => {
    const samples = [run('refwatch', 1_000, 0, { readyMs: 900 }), run('refwatch', 1_000, 1, { outcome: 'timeout', readyMs: undefined, readable: 10 })];
    const s = summarize(samples, 'refwatch', 1_000)!;
    expect(s).toMatchObject({ runs: 2, converged: 1, readyMs: 900 });
  });

  it('reports what a variant reached when no run converged', () => {
    const samples = [0, 1, 2].map((round) =>
      run('kubelet', 100_000, round, {
        outcome: 'timeout',
        readyMs: undefined,
        readable: 40 + round,
        watches: 50,
        connections: 9_000,
        memory: { heapBytes: NaN, rssBytes: 3 * 2 ** 30 },
        failure: 'no ready within 1560 s',
      }),
    );
    const s = summarize(samples, 'kubelet', 100_000)!;
    expect(s.converged).toBe(0);
    expect(s.readyMs).toBeUndefined();
    expect(s.reached).toEqual({
      readable: 41,
      watches: 50,
      connections: 9_000,
      peakConnections: 12,
      rssBytes: 3 * 2 ** 30,
      failedGets: 0,
      failures: ['no ready within 1560 s', 'no ready within 1560 s', 'no ready within 1560 s'],
      lastError: undefined,
    });
  });

  it('says a variant stalled when every run ended without progress', () => {
    const stalled = [0, 1].map((round) =>
      run('client-node', 10_000, round, { outcome: 'timeout', readyMs: undefined, readable: 6, failure: 'client-node worker: stalled, no object became readable for 70 s' }),
    );
    expect(sizeTable([summarize(stalled, 'client-node', 10_000)!], 210_000)).toContain('| stalled: 6 of 10,000 readable,');
  });

  it("gives latency as the median over runs of each run's nearest-rank percentiles, counting updates never seen", () => {
    const samples = [
      run('refwatch', 1_000, 0, { latencyMs: [1, 2, 3, 4, 50] }),
      run('refwatch', 1_000, 1, { latencyMs: [2, 3, 4, 5, 60, null] }),
      run('refwatch', 1_000, 2, { latencyMs: [3, 4, 5, 6, 70] }),
    ];
    const lat = summarize(samples, 'refwatch', 1_000)!.latency!;
    expect(lat.p50).toBe(4);
    expect(lat.p99).toBe(60);
    expect(lat.visible).toBe(15);
    expect(lat.updates).toBe(16);
  });
});

describe('slopes and tables', () => {
  const samples = [
    run('refwatch', 1_000, 0, { memory: { heapBytes: 50 * MiB, rssBytes: 150 * MiB } }),
    run('refwatch', 10_000, 0, { memory: { heapBytes: 50 * MiB + 9_000 * 16 * 1024, rssBytes: 150 * MiB + 9_000 * 34 * 1024 } }),
    run('kubelet', 1_000, 0, { memory: { heapBytes: 20 * MiB, stackBytes: 26 * MiB, goroutines: 5_010, rssBytes: 120 * MiB } }),
    run('kubelet', 10_000, 0, { memory: { heapBytes: 20 * MiB + 9_000 * 16 * 1024, stackBytes: 26 * MiB + 9_000 * 26 * 1024, goroutines: 50_010, rssBytes: 800 * MiB } }),
    run('objects', 1_000, 0, { latencyMs: [], memory: { heapBytes: 30 * MiB, rssBytes: 100 * MiB } }),
    run('objects', 10_000, 0, { latencyMs: [], memory: { heapBytes: 30 * MiB + 9_000 * 1024, rssBytes: 110 * MiB } }),
    run('client-node', 1_000, 0, {
      outcome: 'timeout',
      readyMs: undefined,
      readable: 812,
      watches: 900,
      connections: 1_000,
      peakConnections: 1_000,
      failedGets: 9_994,
      lastError: 'request to https://127.0.0.1:1/api/v1/namespaces/bench/secrets?fieldSelector=metadata.name%3Dsecret-1952 failed, reason: socket hang up',
    }),
  ];
  const SIZES = [1_000, 10_000];
  const summaries = SIZES.flatMap((n) =>
    (['refwatch', 'kubelet', 'client-node', 'objects'] as const).map((v) => summarize(samples, v, n)).filter((s): s is VariantSummary => s !== undefined),
  );

  it('measures per-object memory as slopes between sizes, Go stacks and goroutines apart', () => {
    const refwatch = slopesOf(summaries, 'refwatch', SIZES);
    expect(refwatch.heap[0].perObject).toBeCloseTo(16 * 1024);
    expect(refwatch.rss[0].perObject).toBeCloseTo(34 * 1024);
    const kubelet = slopesOf(summaries, 'kubelet', SIZES);
    expect(kubelet.stack[0].perObject).toBeCloseTo(26 * 1024);
    expect(kubelet.goroutines[0].perObject).toBeCloseTo(5);
    expect(slopesOf(summaries, 'client-node', SIZES).heap).toEqual([{ from: 1_000, to: 10_000, perObject: undefined }]);
  });

  it('prints a size table that says what a non-converged variant reached, and dashes for the rest of its column', () => {
    const table = sizeTable(
      summaries.filter((s) => s.objects === 1_000),
      75_000,
    );
    const lines = table.split('\n');
    expect(lines[0]).toBe('|  | refwatch SecretManager | kubelet (Go) secret manager | client-node informers | objects only (floor) |');
    expect(lines[2]).toContain(
      'did not converge in 75 s: 812 of 1,000 readable, 900 watches open, 1,000 connections (peak 1,000), 200 MiB RSS, 9,994 failed gets (last: request to https://127.0.0.1:1/api/v1/namespaces/bench/secrets?fieldSelector=metadata.name…)',
    );
    expect(table).toMatch(/\| heap after GC \| 50 MiB \| 20 MiB \+ 26 MiB stacks \(5,010 goroutines\) \| – \| 30 MiB \|/);
    expect(table).toMatch(/\| update → visible, p50 \/ p99 \| 3\.0 \/ 100 ms \| 3\.0 \/ 100 ms \| – \| – \|/);
  });

  it('prints slopes with the cost beyond the object itself for the Node variants', () => {
    const all = (['refwatch', 'kubelet', 'client-node', 'objects'] as const).map((v) => slopesOf(summaries, v, SIZES));
    const table = slopeTable(all, all[3]);
    expect(table).toContain('| heap per object, 1,000 → 10,000 | 16 KiB | 16 KiB + 26 KiB stacks (5 goroutines) | – |');
    expect(table).toContain('| … beyond the object itself (heap − 1 KiB floor) | 15 KiB | – | – |');
    expect(table).toContain('| RSS per object, 1,000 → 10,000 | 34 KiB |');
  });

  it('lightens chart colours towards white', () => {
    expect(lighten('#000000', 0.5)).toBe('#808080');
    expect(lighten('#1f77b4', 0)).toBe('#1f77b4');
    expect(lighten('#1f77b4', 1)).toBe('#ffffff');
  });
});
