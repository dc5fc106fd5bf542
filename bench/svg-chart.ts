/**
 * Benchmark figures as hand-written SVG text: line charts (a value against the number of
 * objects, optionally on log axes) and grouped bar charts (a value per category and series),
 * laid out as panels of one figure. Plain SVG 1.1 that GitHub renders in a README; no chart
 * library, because a few axes, paths and rectangles are all these figures need.
 *
 * Missing values (a variant that did not converge, or was skipped, at a size) are left out:
 * a line breaks there instead of bridging the gap, and a bar is drawn as "n/a".
 */

/** One point of a line; x is the number of objects, typically. */
export interface Point {
  x: number;
  /** undefined: nothing measured at x. */
  y: number | undefined;
}

/** One line of a line chart. */
export interface LineSeries {
  label: string;
  /** Any SVG colour. */
  color: string;
  dashed?: boolean;
  points: Point[];
}

/** A panel with one line per series, y against x. */
export interface LinePanel {
  kind: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log scale on x (sizes 1,000 / 10,000 / 100,000 are even steps). Default false. */
  logX?: boolean;
  /** Log scale on y. Default false: a linear y axis from 0. */
  logY?: boolean;
  /** Labelled x positions. Default: the distinct x values of the points. */
  xTicks?: number[];
  series: LineSeries[];
}

/** One bar per category, all in one colour. */
export interface BarSeries {
  label: string;
  color: string;
  /** One value per category of the panel; undefined draws "n/a". */
  values: Array<number | undefined>;
}

/** A panel of grouped bars: a group per category, a bar per series. */
export interface BarPanel {
  kind: 'bar';
  title: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
}

/** Either kind of panel. */
export type Panel = LinePanel | BarPanel;

/** Panels laid out in rows, with a title and notes. */
export interface Figure {
  title: string;
  /** Lines of small print under the panels: method, machine, caveats. */
  notes?: string[];
  panels: Panel[];
  /** Panels per row. Default 2. */
  columns?: number;
}

const PANEL_WIDTH = 480;
const PLOT_HEIGHT = 300;
const MARGIN = { left: 64, right: 16, top: 34, bottom: 46 };
const LEGEND_ROW = 18;
/** Two legend columns fit labels up to this many characters at 11 px; longer ones get a row each. */
const LEGEND_LABEL_FITS = 30;
const FIGURE_TITLE = 34;
const NOTE_LINE = 16;

/** Text safe inside an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^k, about `target` of them,
 * starting at or below min and ending at or above max.
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) throw new RangeError(`no ticks for [${min}, ${max}]`);
  if (max === min) return max === 0 ? [0, 1] : niceTicks(Math.min(0, min), Math.max(0, max), target);
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: number[] = [];
  for (let i = Math.floor(min / step); i <= Math.ceil(max / step); i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** Powers of ten covering [min, max] (both > 0). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) throw new RangeError(`no log ticks for [${min}, ${max}]`);
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  if (ticks.length === 1) ticks.push(ticks[0] * 10);
  return ticks;
}

/** 1000 → "1k", 2500000 → "2.5M", 0.25 → "0.25": short labels for ticks and bars. */
export function formatNumber(v: number): string {
  const abs = Math.abs(v);
  const short = (x: number) => String(Number(x.toPrecision(3)));
  if (abs >= 1e6) return `${short(v / 1e6)}M`;
  if (abs >= 1e4 || (abs >= 1e3 && v % 1000 === 0)) return `${short(v / 1e3)}k`;
  return short(v);
}

/** Maps a domain onto pixels; log scales take the log of both. */
export function scale(domain: [number, number], range: [number, number], log = false): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const [d0, d1] = [f(domain[0]), f(domain[1])];
  const span = d1 - d0 || 1;
  return (v) => range[0] + ((f(v) - d0) / span) * (range[1] - range[0]);
}

const fmt = (v: number) => String(Math.round(v * 10) / 10);

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

function legendColumns(items: Array<{ label: string }>): number {
  return items.some((item) => item.label.length > LEGEND_LABEL_FITS) ? 1 : 2;
}

function legend(items: Array<{ label: string; color: string; dashed?: boolean; box?: boolean }>, top: number): string {
  const columns = legendColumns(items);
  const colWidth = (PANEL_WIDTH - MARGIN.left) / columns;
  return items
    .map((item, i) => {
      const x = MARGIN.left + (i % columns) * colWidth;
      const y = top + Math.floor(i / columns) * LEGEND_ROW;
      const mark = item.box
        ? `<rect x="${fmt(x)}" y="${fmt(y - 9)}" width="12" height="10" fill="${item.color}"/>`
        : `<line x1="${fmt(x)}" y1="${fmt(y - 4)}" x2="${fmt(x + 18)}" y2="${fmt(y - 4)}" stroke="${item.color}" stroke-width="2"${item.dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
      return mark + text(x + 24, y, item.label, 'font-size="11"');
    })
    .join('');
}

function legendHeight(items: Array<{ label: string }>): number {
  return Math.ceil(items.length / legendColumns(items)) * LEGEND_ROW + 6;
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  body: string;
}

/** Title, y axis with grid lines and labels, x baseline and the y-axis label. */
function frame(title: string, yLabel: string, yTicks: number[], logY: boolean): Omit<Frame, 'x'> {
  const plotBottom = MARGIN.top + PLOT_HEIGHT;
  const y = scale([yTicks[0], yTicks[yTicks.length - 1]], [plotBottom, MARGIN.top], logY);
  const parts = [text(MARGIN.left, 20, title, 'font-size="13" font-weight="bold"')];
  for (const t of yTicks) {
    parts.push(`<line x1="${MARGIN.left}" y1="${fmt(y(t))}" x2="${PANEL_WIDTH - MARGIN.right}" y2="${fmt(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(text(MARGIN.left - 6, y(t) + 4, formatNumber(t), 'text-anchor="end" font-size="11"'));
  }
  parts.push(`<line x1="${MARGIN.left}" y1="${plotBottom}" x2="${PANEL_WIDTH - MARGIN.right}" y2="${plotBottom}" stroke="#333"/>`);
  parts.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${plotBottom}" stroke="#333"/>`);
  const mid = MARGIN.top + PLOT_HEIGHT / 2;
  parts.push(text(16, mid, yLabel, `text-anchor="middle" font-size="11" transform="rotate(-90 16 ${fmt(mid)})"`));
  return { y, body: parts.join('') };
}

function yTicksFor(values: number[], log: boolean): number[] {
  if (values.length === 0) return [0, 1];
  if (log) return logTicks(Math.min(...values), Math.max(...values));
  return niceTicks(0, Math.max(...values));
}

function renderLine(panel: LinePanel): { body: string; height: number } {
  const defined = panel.series.flatMap((s) => s.points.filter((p): p is { x: number; y: number } => p.y !== undefined && Number.isFinite(p.y)));
  const ys = defined.map((p) => p.y).filter((v) => !panel.logY || v > 0);
  const xsAll = [...new Set(panel.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const xTicks = panel.xTicks ?? xsAll;
  const { y, body } = frame(panel.title, panel.yLabel, yTicksFor(ys, panel.logY ?? false), panel.logY ?? false);
  const plotBottom = MARGIN.top + PLOT_HEIGHT;
  const parts = [body];
  const xDomain: [number, number] = xTicks.length > 0 ? [Math.min(...xTicks, ...xsAll), Math.max(...xTicks, ...xsAll)] : [0, 1];
  // Keep the outermost points off the axes.
  const pad = 24;
  const x = scale(xDomain[0] === xDomain[1] ? [xDomain[0] - 1, xDomain[1] + 1] : xDomain, [MARGIN.left + pad, PANEL_WIDTH - MARGIN.right - pad], panel.logX);
  for (const t of xTicks) parts.push(text(x(t), plotBottom + 16, formatNumber(t), 'text-anchor="middle" font-size="11"'));
  parts.push(text(MARGIN.left + (PANEL_WIDTH - MARGIN.left - MARGIN.right) / 2, plotBottom + 36, panel.xLabel, 'text-anchor="middle" font-size="11"'));
  if (defined.length === 0) parts.push(text(MARGIN.left + 20, MARGIN.top + 24, 'no data', 'font-size="11" fill="#888"'));
  for (const s of panel.series) {
    const points = [...s.points].sort((a, b) => a.x - b.x);
    let d = '';
    let penDown = false;
    for (const p of points) {
      const usable = p.y !== undefined && Number.isFinite(p.y) && (!panel.logY || p.y > 0);
      if (!usable) {
        penDown = false;
        continue;
      }
      d += `${penDown ? 'L' : 'M'}${fmt(x(p.x))} ${fmt(y(p.y!))} `;
      penDown = true;
      parts.push(`<circle cx="${fmt(x(p.x))}" cy="${fmt(y(p.y!))}" r="3" fill="${s.color}"/>`);
    }
    if (d) parts.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  }
  const legendTop = plotBottom + MARGIN.bottom + 12;
  parts.push(legend(panel.series, legendTop));
  return { body: parts.join(''), height: legendTop + legendHeight(panel.series) };
}

function renderBars(panel: BarPanel): { body: string; height: number } {
  const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const { y, body } = frame(panel.title, panel.yLabel, yTicksFor(values, false), false);
  const plotBottom = MARGIN.top + PLOT_HEIGHT;
  const parts = [body];
  const groupWidth = (PANEL_WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, panel.categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, panel.series.length);
  panel.categories.forEach((category, c) => {
    const groupLeft = MARGIN.left + c * groupWidth + groupWidth * 0.1;
    parts.push(text(groupLeft + groupWidth * 0.4, plotBottom + 16, category, 'text-anchor="middle" font-size="11"'));
    panel.series.forEach((s, i) => {
      const v = s.values[c];
      const left = groupLeft + i * barWidth;
      const centre = left + barWidth / 2;
      if (v === undefined || !Number.isFinite(v)) {
        parts.push(text(centre, plotBottom - 4, 'n/a', 'text-anchor="middle" font-size="8" fill="#888"'));
        return;
      }
      const top = y(v);
      parts.push(`<rect x="${fmt(left + 1)}" y="${fmt(top)}" width="${fmt(Math.max(1, barWidth - 2))}" height="${fmt(plotBottom - top)}" fill="${s.color}"/>`);
      parts.push(text(centre, top - 3, formatNumber(v), 'text-anchor="middle" font-size="8"'));
    });
  });
  const legendTop = plotBottom + MARGIN.bottom - 4;
  parts.push(
    legend(
      panel.series.map((s) => ({ ...s, box: true })),
      legendTop,
    ),
  );
  return { body: parts.join(''), height: legendTop + legendHeight(panel.series) };
}

/** The whole figure as an SVG document. */
export function renderFigure(figure: Figure): string {
  const columns = Math.max(1, Math.min(figure.columns ?? 2, figure.panels.length || 1));
  const rendered = figure.panels.map((p) => (p.kind === 'line' ? renderLine(p) : renderBars(p)));
  const rows: Array<typeof rendered> = [];
  for (let i = 0; i < rendered.length; i += columns) rows.push(rendered.slice(i, i + columns));
  const parts: string[] = [];
  let top = FIGURE_TITLE;
  for (const row of rows) {
    row.forEach((panel, i) => parts.push(`<g transform="translate(${i * PANEL_WIDTH} ${top})">${panel.body}</g>`));
    top += Math.max(...row.map((p) => p.height));
  }
  const width = columns * PANEL_WIDTH;
  for (const note of figure.notes ?? []) {
    top += NOTE_LINE;
    parts.push(text(16, top - 4, note, 'font-size="11" fill="#444"'));
  }
  const height = top + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${fmt(height)}" viewBox="0 0 ${width} ${fmt(height)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(16, 22, figure.title, 'font-size="15" font-weight="bold"'),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
