/**
 * A counting line's chart (uPlot): the people counted in per step as bars
 * up, those out as bars down (the colours of the picture's arrows), and the
 * net (in - out) since the range's start as a stepped line on its own scale
 * at the right, whose zero is the bars' zero. The instance is kept on its
 * element (`element.uplot`), as the zone chart's is.
 */
import { useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { people, signedPeople } from './format.js';
import { AXIS_FONT, timeAxis, useChart, VALUE_AXIS } from './history-chart.js';
import type { LineColumns } from './line-series.js';

const COLORS = {
  in: '#22d3ee',
  inFill: 'rgba(34, 211, 238, 0.7)',
  out: '#e879f9',
  outFill: 'rgba(232, 121, 249, 0.7)',
  net: '#e6edf3',
  zero: 'rgba(230, 237, 243, 0.45)',
};

export interface LineChartProps {
  columns: LineColumns;
  /** Epoch seconds: the x axis spans the whole range. */
  from: number;
  to: number;
}

/** Tick labels: whole numbers without decimals when every tick is whole (out below zero reads as a count, unsigned). */
function ticks(splits: number[], sign: boolean): string[] {
  const whole = splits.every((v) => Number.isInteger(v));
  return splits.map((v) => {
    const text = whole ? String(Math.abs(v)) : Math.abs(v).toFixed(1);
    return sign && Math.abs(v) > 1e-9 ? `${v > 0 ? '+' : '-'}${text}` : text;
  });
}

let measure: CanvasRenderingContext2D | null | undefined;
/** A value axis as wide as its widest label (uPlot's fixed width cut "+150.0" short). */
function axisSize(u: uPlot, values: string[] | null): number {
  measure ??= document.createElement('canvas').getContext('2d');
  if (!measure || !values) return 44;
  measure.font = AXIS_FONT;
  return Math.ceil(Math.max(0, ...values.map((v) => measure!.measureText(v).width))) + 18;
}

/** A range around zero holding every value (at least ±1), with room above the highest. */
function symmetric(values: readonly number[]): uPlot.Range.MinMax {
  let top = 1;
  for (const v of values) top = Math.max(top, Math.abs(v));
  return [-top * 1.1, top * 1.1];
}

/** The zero of both scales: a line across the plot. */
function drawZero(u: uPlot): void {
  const { ctx, bbox } = u;
  const y = Math.round(u.valToPos(0, 'y', true));
  ctx.save();
  ctx.strokeStyle = COLORS.zero;
  ctx.lineWidth = devicePixelRatio;
  ctx.beginPath();
  ctx.moveTo(bbox.left, y);
  ctx.lineTo(bbox.left + bbox.width, y);
  ctx.stroke();
  ctx.restore();
}

/** In or out per step, as bars (out is drawn below zero; its legend shows the people, unsigned). */
function barSeries(label: string, stroke: string, fill: string, paths: uPlot.Series['paths']): uPlot.Series {
  return { label, stroke, fill, width: 0, paths, points: { show: false }, value: (_u, v) => (v === null ? '–' : people(Math.abs(v))) };
}

function options(now: () => LineChartProps, width: number, height: number): uPlot.Options {
  const bars = uPlot.paths.bars?.({ align: 1, size: [0.85, Number.POSITIVE_INFINITY, 1] });
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  return {
    width,
    height,
    series: [
      {},
      barSeries('in', COLORS.in, COLORS.inFill, bars),
      barSeries('out', COLORS.out, COLORS.outFill, bars),
      {
        label: 'net since start',
        scale: 'net',
        stroke: COLORS.net,
        width: 2,
        paths: stepped,
        points: { show: false },
        value: (_u, v) => (v === null ? '–' : signedPeople(v)),
      },
    ],
    scales: {
      x: { time: true, range: () => [now().from, now().to] },
      // Both scales are symmetric about zero, so the bars' zero and the net's zero are one line.
      y: { range: () => symmetric([...now().columns[1], ...now().columns[2]]) },
      net: { range: () => symmetric(now().columns[3]) },
    },
    axes: [
      timeAxis(),
      { ...VALUE_AXIS, size: axisSize, values: (_u, splits) => ticks(splits, false) },
      { ...VALUE_AXIS, scale: 'net', side: 1, size: axisSize, stroke: COLORS.net, grid: { show: false }, values: (_u, splits) => ticks(splits, true) },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    hooks: { draw: [drawZero] },
  };
}

export function LineChart(props: LineChartProps) {
  const latest = useRef(props);
  latest.current = props;
  const box = useChart((width, height) => options(() => latest.current, width, height), props.columns, [props.from, props.to]);
  return <div class="zone-chart line-chart" ref={box} data-from={props.from} data-to={props.to} />;
}
