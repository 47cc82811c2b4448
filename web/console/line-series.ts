/**
 * What a counting line's chart draws, from the API's answer: every step of
 * the window (the API lists only steps with crossings, so a missing step is
 * zero), the people in per step, those out per step (negative: drawn below
 * the axis), and the net (in - out) summed from the window's start.
 */
import type { LineSeries, Window } from './history-api.js';

/** uPlot's aligned columns: time, in per step, -out per step, net since the window's start. */
export type LineColumns = [number[], number[], number[], number[]];

export interface LineTotals {
  in: number;
  out: number;
}

export function lineColumns(s: LineSeries | undefined, w: Window): LineColumns {
  const cols: LineColumns = [[], [], [], []];
  const at = new Map<number, number>();
  s?.time.forEach((t, i) => at.set(t, i));
  let net = 0;
  for (let t = w.from; t < w.to; t += w.step) {
    const i = at.get(t);
    const crossedIn = s && i !== undefined ? s.in[i] : 0;
    const crossedOut = s && i !== undefined ? s.out[i] : 0;
    net += crossedIn - crossedOut;
    cols[0].push(t);
    cols[1].push(crossedIn);
    cols[2].push(-crossedOut);
    cols[3].push(net);
  }
  return cols;
}

/** The window's crossings, in and out. */
export function lineTotals(s: LineSeries | undefined): LineTotals {
  let crossedIn = 0;
  let crossedOut = 0;
  if (!s) return { in: 0, out: 0 };
  for (let i = 0; i < s.time.length; i++) {
    crossedIn += s.in[i];
    crossedOut += s.out[i];
  }
  return { in: crossedIn, out: crossedOut };
}
