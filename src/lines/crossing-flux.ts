/**
 * People carried across one line between two frames, split by direction:
 * the flux of the density through the line's band (band.ts) along the
 * measured motion (flow.ts). Pure arithmetic, no state: the tracker
 * (line-tracker.ts) feeds it frame pairs in capture order.
 */
import type { BandSamples } from './band.js';
import type { FlowField } from './flow.js';

export interface DensityGrid {
  width: number;
  height: number;
  values: Float32Array;
}

export interface FluxGeometry {
  /** Source (line coordinate) size: the frame, or the site's reference size. */
  source: { width: number; height: number };
  /** Band width in source pixels. */
  band: number;
}

export interface Crossing {
  /** People carried to the "in" side, and to the other side (both >= 0). */
  in: number;
  out: number;
}

/** Bilinear sample of a grid at continuous coordinates where (0.5, 0.5) is the centre of the first cell; clamped to the grid. */
function at(values: Float32Array, w: number, h: number, x: number, y: number): number {
  const cx = Math.min(w - 1, Math.max(0, x - 0.5));
  const cy = Math.min(h - 1, Math.max(0, y - 0.5));
  const x0 = Math.min(w - 2, Math.floor(cx));
  const y0 = Math.min(h - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = y0 * w + x0;
  const top = values[i] + (values[i + 1] - values[i]) * fx;
  const bottom = values[i + w] + (values[i + w + 1] - values[i + w]) * fx;
  return top + (bottom - top) * fy;
}

/**
 * Adds one step (two frames `dtS` apart) to per-stretch sums: `net[b]` the
 * people carried across stretch b (positive: to the "in" side), `massTime[b]`
 * the people in its band x seconds (to tell walking from swaying: see
 * line-tracker.ts).
 */
export function addStepFlux(
  samples: BandSamples,
  geometry: FluxGeometry,
  flow: FlowField,
  before: DensityGrid,
  after: DensityGrid,
  dtS: number,
  net: Float64Array,
  massTime: Float64Array,
): void {
  const { width: sw, height: sh } = geometry.source;
  // Source pixels -> flow pixels and density cells (each covers the whole frame, resized).
  const fx = flow.fullWidth / sw;
  const fy = flow.fullHeight / sh;
  const mx = after.width / sw;
  const my = after.height / sh;
  const cellArea = 1 / (mx * my);
  for (let i = 0; i < samples.count; i++) {
    const x = samples.x[i];
    const y = samples.y[i];
    if (x < 0 || y < 0 || x > sw || y > sh) continue;
    const d = (at(before.values, before.width, before.height, x * mx, y * my) + at(after.values, after.width, after.height, x * mx, y * my)) * 0.5;
    if (d <= 0) continue;
    const u = at(flow.u, flow.width, flow.height, x * fx - flow.x0, y * fy - flow.y0) / fx;
    const v = at(flow.v, flow.width, flow.height, x * fx - flow.x0, y * fy - flow.y0) / fy;
    const across = u * samples.nx[i] + v * samples.ny[i];
    const people = (d / cellArea) * samples.weight[i];
    const b = samples.bin[i];
    net[b] += people * across;
    massTime[b] += people * geometry.band * dtS;
  }
}

/** One step's crossings split per sample (no netting): for the flux arithmetic's own test. */
export function crossingFlux(samples: BandSamples, geometry: FluxGeometry, flow: FlowField, before: DensityGrid, after: DensityGrid): Crossing {
  const net = new Float64Array(samples.bins);
  addStepFlux(samples, geometry, flow, before, after, 1, net, new Float64Array(samples.bins));
  let into = 0;
  let out = 0;
  for (const n of net) {
    if (n > 0) into += n;
    else out -= n;
  }
  return { in: into, out };
}
