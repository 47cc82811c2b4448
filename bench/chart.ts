/**
 * The closed-loop sweep as one SVG (written by hand, no plotting library):
 * left, served throughput against cameras with the measured limit as a
 * dashed line; right, end-to-end latency p50/p90/p99. One colour per max batch.
 */
import type { BenchReport, PointResult } from './report-types.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const PANEL = { width: 440, height: 300, left: 60, top: 40, right: 20, bottom: 50 };
/** Below each panel's plot area: tick labels, then the x-axis title, then (below both panels) the legend. */
const TICK_LABEL_OFFSET = 16;
const AXIS_TITLE_OFFSET = 34;
/** Legend baseline below the axis titles' baseline: a 12 px line plus a gap, so they never overprint. */
const LEGEND_OFFSET = 26;

/** Where the chart's rows sit (baselines, px): the plot's bottom, the axis titles, the legend; and the height. */
export const CHART_LAYOUT = (() => {
  const plotBottom = PANEL.height - PANEL.bottom + PANEL.top;
  const axisTitle = plotBottom + AXIS_TITLE_OFFSET;
  const legend = axisTitle + LEGEND_OFFSET;
  return { plotBottom, axisTitle, legend, height: legend + 12 };
})();

export function renderChart(report: BenchReport): string {
  const closed = report.points.filter((p) => p.mode === 'closed' && !p.tls && !(p.cameras === 1 && p.window === 1));
  const batches = [...new Set(closed.map((p) => p.maxBatch))];
  const cameras = [...new Set(closed.map((p) => p.cameras))].sort((a, b) => a - b);
  const window = closed[0]?.window ?? 0;
  const series = batches.map((b, i) => ({
    batch: b,
    colour: COLOURS[i % COLOURS.length],
    points: closed.filter((p) => p.maxBatch === b).sort((x, y) => x.cameras - y.cameras),
  }));

  const maxFps = Math.max(1, ...closed.map((p) => p.throughputFps), ...report.limits.map((l) => l.throughputFps));
  const latencies = closed.flatMap((p) => [p.latencyMs.endToEnd.p50, p.latencyMs.endToEnd.p99]).filter((v) => v > 0);
  const latencyRange = { min: Math.min(...latencies, 1e9), max: Math.max(...latencies, 1) };
  const xOf = (c: number): number => {
    const i = cameras.indexOf(c);
    return cameras.length <= 1 ? 0.5 : i / (cameras.length - 1);
  };

  const parts: string[] = [];
  const width = PANEL.width * 2 + 20;
  const height = CHART_LAYOUT.height;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(
    text(width / 2, 18, `crowdline bench: ${report.server.model} on ${report.machine.cores} cores, ${window} frames in flight per camera`, 'middle', 14),
  );

  // Left: throughput.
  const left = frame(0, 'served throughput (frames/s)', cameras, { min: 0, max: maxFps }, false, xOf);
  parts.push(left.svg);
  series.forEach((s) => {
    parts.push(
      polyline(
        s.points.map((p) => [left.x(xOf(p.cameras)), left.y(p.throughputFps)]),
        s.colour,
        '',
      ),
    );
    const limit = report.limits.find((l) => l.maxBatch === s.batch);
    if (limit) {
      const y = left.y(limit.throughputFps);
      parts.push(`<line x1="${left.x(0)}" x2="${left.x(1)}" y1="${y}" y2="${y}" stroke="${s.colour}" stroke-dasharray="6 4"/>`);
      // Limits are often close: stagger the labels so they never overprint.
      parts.push(text(left.x(0) + 4 + 150 * series.indexOf(s), y - 4, `limit, batch ${s.batch}: ${limit.throughputFps} fps`, 'start', 11, s.colour));
    }
  });

  // Right: latency percentiles, log scale (closed-loop latency grows with cameras x window).
  const right = frame(PANEL.width + 20, 'end-to-end latency (ms, log scale)', cameras, latencyRange, true, xOf);
  parts.push(right.svg);
  const dashes: Array<['p50' | 'p90' | 'p99', string]> = [
    ['p50', ''],
    ['p90', '2 3'],
    ['p99', '8 4'],
  ];
  series.forEach((s) => {
    for (const [q, dash] of dashes) {
      parts.push(
        polyline(
          s.points.map((p: PointResult) => [right.x(xOf(p.cameras)), right.y(p.latencyMs.endToEnd[q])]),
          s.colour,
          dash,
        ),
      );
    }
  });

  // Legend.
  let lx = 70;
  const ly = CHART_LAYOUT.legend;
  series.forEach((s) => {
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"/>`);
    parts.push(text(lx + 28, ly, `max batch ${s.batch}`, 'start'));
    lx += 120;
  });
  for (const [q, dash] of dashes) {
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#444" stroke-width="2" stroke-dasharray="${dash}"/>`);
    parts.push(text(lx + 28, ly, `latency ${q}`, 'start'));
    lx += 100;
  }
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#444" stroke-dasharray="6 4"/>`);
  parts.push(text(lx + 28, ly, 'limit (no network)', 'start'));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

interface Frame {
  svg: string;
  x(fraction: number): number;
  y(value: number): number;
}

function frame(offsetX: number, title: string, cameras: number[], range: { min: number; max: number }, log: boolean, xOf: (c: number) => number): Frame {
  const x0 = offsetX + PANEL.left;
  const x1 = offsetX + PANEL.width - PANEL.right;
  const y0 = CHART_LAYOUT.plotBottom;
  const y1 = PANEL.top;
  const x = (f: number): number => round(x0 + (x1 - x0) * f);
  let ticks: number[];
  let y: (v: number) => number;
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.max(range.min, 1e-3)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(range.max, lo * 10)));
    const span = Math.log10(hi) - Math.log10(lo);
    y = (v: number): number => round(y0 - ((y0 - y1) * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / span);
    ticks = [];
    for (let decade = lo; decade <= hi; decade *= 10) for (const m of [1, 2, 5]) if (decade * m <= hi) ticks.push(decade * m);
  } else {
    const top = niceCeil(range.max * 1.1);
    y = (v: number): number => round(y0 - ((y0 - y1) * v) / top);
    ticks = Array.from({ length: 6 }, (_, i) => (top * i) / 5);
  }
  const svg: string[] = [];
  svg.push(text((x0 + x1) / 2, y1 - 8, title, 'middle', 13));
  svg.push(`<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="black"/><line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="black"/>`);
  for (const v of ticks) {
    svg.push(`<line x1="${x0 - 4}" x2="${x1}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    svg.push(text(x0 - 6, y(v) + 4, formatTick(v), 'end'));
  }
  for (const c of cameras) svg.push(text(x(xOf(c)), y0 + TICK_LABEL_OFFSET, String(c), 'middle'));
  svg.push(text((x0 + x1) / 2, CHART_LAYOUT.axisTitle, 'cameras (closed loop)', 'middle'));
  return { svg: svg.join('\n'), x, y };
}

function polyline(points: Array<[number, number]>, colour: string, dash: string): string {
  const dots = points.map(([px, py]) => `<circle cx="${px}" cy="${py}" r="3" fill="${colour}"/>`).join('');
  return `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points.map((p) => p.join(',')).join(' ')}"/>${dots}`;
}

function text(x: number, y: number, content: string, anchor: 'start' | 'middle' | 'end', size = 12, fill = '#222'): string {
  const safe = content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<text x="${round(x)}" y="${round(y)}" text-anchor="${anchor}" font-size="${size}" fill="${fill}">${safe}</text>`;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function formatTick(v: number): string {
  return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
