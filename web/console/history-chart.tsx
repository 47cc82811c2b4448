/**
 * One zone's chart (uPlot): people per bucket (mean, and the peak frame),
 * the smoothed value the alert rules use, the rules' raise lines, and the
 * periods in warning or alarm shaded behind. The uPlot instance is kept on
 * its element (`element.uplot`) so a test, or a person in the browser's
 * console, can read exactly what is plotted. The time axis, the axes' look,
 * the height and the chart's life in its element are exported for the
 * other history charts (line-chart.tsx).
 */
import { type RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ChartColumns, Period, Threshold } from './history-series.js';

declare global {
  interface HTMLElement {
    /** The chart drawn in this element (history-chart.tsx). */
    uplot?: uPlot;
  }
}

const COLORS = {
  people: '#58a6ff',
  smoothed: '#f0883e',
  max: 'rgba(88, 166, 255, 0.45)',
  axis: '#8b949e',
  grid: 'rgba(139, 148, 158, 0.16)',
  warning: '#e3b341',
  alarm: '#f85149',
  warningShade: 'rgba(227, 179, 65, 0.14)',
  alarmShade: 'rgba(248, 81, 73, 0.2)',
  labelGround: 'rgba(22, 27, 34, 0.85)',
};

export interface ChartProps {
  columns: ChartColumns;
  /** Epoch seconds: the x axis spans the whole range even where there is no data. */
  from: number;
  to: number;
  thresholds: Threshold[];
  periods: Period[];
}

/** Behind the series: one band per warning/alarm period, the full plot height. */
function shadePeriods(u: uPlot, periods: Period[]): void {
  const { ctx, bbox } = u;
  ctx.save();
  for (const p of periods) {
    const x0 = Math.max(bbox.left, u.valToPos(p.from, 'x', true));
    const x1 = Math.min(bbox.left + bbox.width, u.valToPos(p.to, 'x', true));
    if (x1 <= x0) continue;
    ctx.fillStyle = p.level === 'alarm' ? COLORS.alarmShade : COLORS.warningShade;
    // At least a device pixel, so a one-second alarm on a month's chart still shows.
    ctx.fillRect(x0, bbox.top, Math.max(x1 - x0, devicePixelRatio), bbox.height);
  }
  ctx.restore();
}

/** Over the series: a dashed line per rule with its label at the right end. */
function drawThresholds(u: uPlot, lines: Threshold[]): void {
  const { ctx, bbox } = u;
  const dpr = devicePixelRatio;
  ctx.save();
  ctx.setLineDash([6 * dpr, 4 * dpr]);
  ctx.lineWidth = 1.5 * dpr;
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  for (const line of lines) {
    const y = Math.round(u.valToPos(line.value, 'y', true));
    if (y < bbox.top || y > bbox.top + bbox.height) continue;
    const color = line.level === 'alarm' ? COLORS.alarm : COLORS.warning;
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    // The label on a dark patch, readable where the series cross it.
    const right = bbox.left + bbox.width - 4 * dpr;
    const width = ctx.measureText(line.label).width;
    ctx.fillStyle = COLORS.labelGround;
    ctx.fillRect(right - width - 3 * dpr, y - 15 * dpr, width + 6 * dpr, 13 * dpr);
    ctx.fillStyle = color;
    ctx.fillText(line.label, right, y - 3 * dpr);
  }
  ctx.restore();
}

/** The axes' font, set on the axes and used to measure their labels. */
export const AXIS_FONT = '12px system-ui, sans-serif';

// Built once: the axis is redrawn on every live update.
const timeWithSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const timeWithoutSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const timeOf = (withSeconds: boolean): Intl.DateTimeFormat => (withSeconds ? timeWithSeconds : timeWithoutSeconds);
const dayOf = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/**
 * The time axis's labels: the time of day (with seconds when ticks are under a minute apart), or the date when
 * they are a day or more apart; under the first tick and where the day changes, the date on a second line. The
 * date line is never wider than a time (uPlot's own first label, "12/7/26 3:05pm" under ":30", ran into the next).
 */
function timeLabels(_u: uPlot, splits: number[], _axis: number, _space: number, incr: number): string[] {
  if (incr >= 86_400) return splits.map((t) => dayOf.format(t * 1000));
  const time = timeOf(incr < 60);
  let previousDay = '';
  return splits.map((t) => {
    const day = dayOf.format(t * 1000);
    const label = day === previousDay ? time.format(t * 1000) : `${time.format(t * 1000)}\n${day}`;
    previousDay = day;
    return label;
  });
}

let measure: CanvasRenderingContext2D | null | undefined;
/** Least CSS pixels between time ticks: the widest label this locale writes (a time with seconds), and a gap. */
function timeSpace(): number {
  measure ??= document.createElement('canvas').getContext('2d');
  if (!measure) return 90;
  measure.font = AXIS_FONT;
  const widest = Math.max(...['23:59:59', '12:59:59'].map((h) => measure!.measureText(timeOf(true).format(new Date(`2026-12-07T${h}`))).width));
  return Math.ceil(widest) + 24;
}

/** A value axis in the page's look. */
export const VALUE_AXIS: uPlot.Axis = {
  stroke: COLORS.axis,
  font: AXIS_FONT,
  grid: { stroke: COLORS.grid, width: 1 },
  ticks: { stroke: COLORS.grid, width: 1 },
  size: 44,
};

/** The time axis: labels that fit the locale's widest time, the date under the first tick and where the day changes. */
export function timeAxis(): uPlot.Axis {
  return { ...VALUE_AXIS, space: timeSpace(), values: timeLabels, size: 52 };
}

/** The options read the latest props through `now()`, so new data is a setData on the same chart, not a new chart. */
function options(now: () => ChartProps, width: number, height: number): uPlot.Options {
  const value = (_u: uPlot, v: number | null): string => (v === null ? '–' : v.toFixed(1));
  return {
    width,
    height,
    series: [
      {},
      { label: 'people', stroke: COLORS.people, width: 1.5, value },
      { label: 'smoothed', stroke: COLORS.smoothed, width: 2, value },
      { label: 'peak frame', stroke: COLORS.max, width: 1, dash: [3, 3], show: false, value },
    ],
    scales: {
      x: { time: true, range: () => [now().from, now().to] },
      // From zero (a count), and high enough that every rule's line is on the chart.
      y: {
        range: (_u, _min, max) => {
          const top = Math.max(0, ...now().thresholds.map((t) => t.value));
          return [0, Math.max(1, (Number.isFinite(max) ? Math.max(max, top) : top) * 1.1)];
        },
      },
    },
    axes: [timeAxis(), VALUE_AXIS],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    hooks: {
      drawClear: [(u) => shadePeriods(u, now().periods)],
      draw: [(u) => drawThresholds(u, now().thresholds)],
    },
  };
}

/** Chart height: short on a phone, up to 45 % of a big screen's height. */
export const heightFor = (width: number): number => (width < 600 ? 220 : Math.round(Math.min(520, Math.max(280, innerHeight * 0.45))));

/**
 * A uPlot chart for the life of the element `box` refers to, made once by `make` (its options read the latest
 * props themselves) and sized to the element's width; new `data` (or a change in `deps`) is a setData on the same
 * chart, so the legend's choices and the cursor stay across a refresh. Another range, zone or line is a new chart
 * with the legend's defaults: the chart pages show nothing of the previous query while the next one loads, so the
 * element, and the chart with it, is made anew.
 */
export function useChart(make: (width: number, height: number) => uPlot.Options, data: uPlot.AlignedData, deps: readonly unknown[]): RefObject<HTMLDivElement> {
  const box = useRef<HTMLDivElement>(null);
  const first = useRef({ make, data });
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = Math.max(200, element.clientWidth);
    const chart = new uPlot(first.current.make(width, heightFor(width)), first.current.data, element);
    element.uplot = chart;
    const observer = new ResizeObserver(() => {
      const w = Math.max(200, element.clientWidth);
      if (w !== chart.width) chart.setSize({ width: w, height: heightFor(w) });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      element.uplot = undefined;
    };
  }, []);
  useEffect(() => {
    box.current?.uplot?.setData(data);
  }, [data, ...deps]);
  return box;
}

export function ZoneChart(props: ChartProps) {
  const latest = useRef(props);
  latest.current = props;
  const box = useChart((width, height) => options(() => latest.current, width, height), props.columns, [props.from, props.to, props.thresholds, props.periods]);
  return (
    <div
      class="zone-chart"
      ref={box}
      data-from={props.from}
      data-to={props.to}
      data-thresholds={JSON.stringify(props.thresholds)}
      data-periods={JSON.stringify(props.periods)}
    />
  );
}
