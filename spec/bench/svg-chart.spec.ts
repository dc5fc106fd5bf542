import { describe, expect, it } from '@jest/globals';
import { escapeXml, formatNumber, logTicks, niceTicks, renderFigure, scale, type Figure } from '../../bench/svg-chart.js';

/** Opening and closing tags pair up (self-closing ones stand alone): a cheap well-formedness check. */
function tagsBalance(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

const count = (svg: string, pattern: RegExp) => (svg.match(pattern) ?? []).length;

describe('axis helpers', () => {
  it('picks round linear ticks of 1, 2 or 5 × 10^k covering the range', () => {
    expect(niceTicks(0, 87)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 3.3)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(0, 0)).toEqual([0, 1]);
    expect(niceTicks(7, 7)).toEqual([0, 2, 4, 6, 8]);
    expect(() => niceTicks(5, 1)).toThrow(RangeError);
  });

  it('picks powers of ten for log axes', () => {
    expect(logTicks(800, 120_000)).toEqual([100, 1_000, 10_000, 100_000, 1_000_000]);
    expect(logTicks(1_000, 1_000)).toEqual([1_000, 10_000]);
    expect(() => logTicks(0, 10)).toThrow(RangeError);
  });

  it('maps linear and log domains onto pixels, with y pointing down', () => {
    const y = scale([0, 100], [300, 0]);
    expect(y(0)).toBe(300);
    expect(y(100)).toBe(0);
    expect(y(25)).toBe(225);
    const x = scale([1_000, 100_000], [0, 200], true);
    expect(x(10_000)).toBeCloseTo(100);
  });

  it('writes short tick labels', () => {
    expect(formatNumber(1_000)).toBe('1k');
    expect(formatNumber(100_000)).toBe('100k');
    expect(formatNumber(2_500_000)).toBe('2.5M');
    expect(formatNumber(1_500)).toBe('1500');
    expect(formatNumber(0.25)).toBe('0.25');
    expect(formatNumber(16.666)).toBe('16.7');
  });

  it('escapes text for XML', () => {
    expect(escapeXml(`a < b & "c" > 'd'`)).toBe('a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;');
  });
});

describe('renderFigure', () => {
  const figure: Figure = {
    title: 'Memory <vs> objects & more',
    notes: ['2 cores, shared: noisy'],
    panels: [
      {
        kind: 'line',
        title: 'heap',
        xLabel: 'watched objects',
        yLabel: 'MiB',
        logX: true,
        series: [
          {
            label: 'refwatch',
            color: '#1f77b4',
            points: [
              { x: 1_000, y: 20 },
              { x: 10_000, y: 160 },
              { x: 100_000, y: 1_500 },
            ],
          },
          {
            label: 'kubelet',
            color: '#d62728',
            dashed: true,
            points: [
              { x: 1_000, y: 30 },
              { x: 10_000, y: undefined },
              { x: 100_000, y: 2_000 },
            ],
          },
        ],
      },
      {
        kind: 'bar',
        title: 'update → visible',
        yLabel: 'ms',
        categories: ['1,000', '10,000'],
        series: [
          { label: 'p50', color: '#1f77b4', values: [3.3, 3.4] },
          { label: 'p99', color: '#aec7e8', values: [15, undefined] },
        ],
      },
    ],
  };
  const svg = renderFigure(figure);

  it('is one well-formed SVG document with every label escaped', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(tagsBalance(svg)).toBe(true);
    expect(svg).toContain('Memory &lt;vs&gt; objects &amp; more');
    expect(svg).not.toContain('<vs>');
    expect(svg).toContain('2 cores, shared: noisy');
  });

  it('draws a marker per measured point and breaks a line at a missing one instead of bridging it', () => {
    expect(count(svg, /<circle /g)).toBe(5);
    const kubeletPath = /<path d="([^"]+)"[^>]*stroke="#d62728"/.exec(svg)![1];
    expect(count(kubeletPath, /M/g)).toBe(2);
    expect(count(kubeletPath, /L/g)).toBe(0);
    const refwatchPath = /<path d="([^"]+)"[^>]*stroke="#1f77b4"/.exec(svg)![1];
    expect(count(refwatchPath, /M/g)).toBe(1);
    expect(count(refwatchPath, /L/g)).toBe(2);
  });

  it('puts the largest value highest and equal log steps at equal distances', () => {
    const refwatchPath = /<path d="([^"]+)"[^>]*stroke="#1f77b4"/.exec(svg)![1];
    const points = [...refwatchPath.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    expect(points[2].y).toBeLessThan(points[1].y);
    expect(points[1].y).toBeLessThan(points[0].y);
    expect(points[1].x - points[0].x).toBeCloseTo(points[2].x - points[1].x, 0);
  });

  it('draws a bar per measured value, labels it, and marks a missing one n/a', () => {
    expect(count(svg, /<rect x=/g)).toBe(3 + 2); // three bars, two legend boxes
    expect(svg).toContain('>n/a<');
    expect(svg).toContain('>3.3<');
    expect(svg).toContain('>update → visible<');
  });

  it('names every series in a legend', () => {
    for (const label of ['refwatch', 'kubelet', 'p50', 'p99']) expect(svg).toContain(`>${label}<`);
    expect(svg).toContain('stroke-dasharray');
  });

  it('says "no data" on a panel with nothing measured, and still renders', () => {
    const empty = renderFigure({
      title: 't',
      panels: [{ kind: 'line', title: 'p', xLabel: 'x', yLabel: 'y', series: [{ label: 's', color: '#000', points: [{ x: 1, y: undefined }] }] }],
    });
    expect(empty).toContain('no data');
    expect(tagsBalance(empty)).toBe(true);
  });
});
