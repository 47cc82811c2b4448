/**
 * A zone's polygon as weights on density-map cells: each cell's weight is the
 * exact fraction of its area inside the polygon, so the people in the zone
 * are dot(weights, map). Only cells the polygon touches are stored (sparse),
 * so a frame costs O(cells in the zone), not O(map).
 *
 * Coordinates: the map covers the whole network input, which is the whole
 * frame resized (docs/protocol.md §3.4), so a polygon corner (x, y) in an
 * image of `source` size lands at (x * mapW / source.width, y * mapH /
 * source.height) in cell units, where cell (c, r) spans [c, c+1] x [r, r+1].
 */
import { clipToBand, type Point } from './polygon.js';

export interface CoverageMask {
  /** Row-major cell index (r * mapWidth + c) of every touched cell. */
  cells: Uint32Array;
  /** Fraction of that cell inside the polygon, in (0, 1]. */
  weights: Float32Array;
  /** Sum of weights: the zone's area in cells (1 person per cell of uniform density 1). */
  area: number;
}

export interface Size {
  width: number;
  height: number;
}

/** Weights below this are rounding noise from clipping along a cell edge. */
const MIN_WEIGHT = 1e-9;

export function coverageMask(polygon: readonly Point[], source: Size, map: Size): CoverageMask {
  const sx = map.width / source.width;
  const sy = map.height / source.height;
  // Only the part on the map counts; clipping keeps every x in [0, width] for the accumulation below.
  const scaled: Point[] = polygon.map(([x, y]) => [x * sx, y * sy]);
  const poly = clipToBand(clipToBand(scaled, 0, 0, map.width), 1, 0, map.height);
  const stride = map.width + 2;
  const acc = new Float64Array(stride * map.height);
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) accumulateEdge(acc, stride, map.height, poly[j], poly[i]);
  const cells: number[] = [];
  const weights: number[] = [];
  let area = 0;
  for (let r = 0; r < map.height; r++) {
    let cover = 0;
    for (let c = 0; c < map.width; c++) {
      cover += acc[r * stride + c];
      const w = Math.min(1, Math.abs(cover));
      if (w <= MIN_WEIGHT) continue;
      cells.push(r * map.width + c);
      weights.push(w);
      area += w;
    }
  }
  return { cells: Uint32Array.from(cells), weights: Float32Array.from(weights), area };
}

/**
 * Signed-area accumulation of one edge (the exact-coverage rasteriser of
 * font-rs / stb_truetype): for each row the edge crosses, the area between
 * the edge and the cell's right side goes to the cells it passes, and the
 * rest of its height to the next cell, so a running sum along the row is
 * each cell's exact covered fraction. x must lie in [0, width].
 */
function accumulateEdge(acc: Float64Array, stride: number, rows: number, from: Point, to: Point): void {
  // A (nearly) flat edge covers no area; skipping it also keeps dx/dy finite.
  if (Math.abs(from[1] - to[1]) < 1e-12) return;
  const width = stride - 2;
  const dir = from[1] < to[1] ? 1 : -1;
  const [p0, p1] = dir === 1 ? [from, to] : [to, from];
  const dxdy = (p1[0] - p0[0]) / (p1[1] - p0[1]);
  let x = Math.min(width, Math.max(0, p0[0]));
  const rEnd = Math.min(rows, Math.ceil(p1[1]));
  for (let r = Math.max(0, Math.floor(p0[1])); r < rEnd; r++) {
    const line = r * stride;
    const dy = Math.min(r + 1, p1[1]) - Math.max(r, p0[1]);
    // Clamped: rounding must not step outside [0, width] (the clipped polygon does not).
    const xnext = Math.min(width, Math.max(0, x + dxdy * dy));
    const d = dy * dir;
    const x0 = Math.min(x, xnext);
    const x1 = Math.max(x, xnext);
    const x0floor = Math.floor(x0);
    const x0i = x0floor;
    const x1ceil = Math.ceil(x1);
    const x1i = x1ceil;
    if (x1i <= x0i + 1) {
      // The edge stays within one cell in this row.
      const xmf = 0.5 * (x + xnext) - x0floor;
      acc[line + x0i] += d - d * xmf;
      acc[line + x0i + 1] += d * xmf;
    } else {
      const s = 1 / (x1 - x0);
      const x0f = x0 - x0floor;
      const a0 = 0.5 * s * (1 - x0f) * (1 - x0f);
      const x1f = x1 - x1ceil + 1;
      const am = 0.5 * s * x1f * x1f;
      acc[line + x0i] += d * a0;
      if (x1i === x0i + 2) {
        acc[line + x0i + 1] += d * (1 - a0 - am);
      } else {
        const a1 = s * (1.5 - x0f);
        acc[line + x0i + 1] += d * (a1 - a0);
        for (let xi = x0i + 2; xi < x1i - 1; xi++) acc[line + xi] += d * s;
        const a2 = a1 + (x1i - x0i - 3) * s;
        acc[line + x1i - 1] += d * (1 - a2 - am);
      }
      acc[line + x1i] += d * am;
    }
    x = xnext;
  }
}

/** People in the zone: the map summed over the mask, accumulated in f64 from the full-precision f32 map. */
export function maskedSum(mask: CoverageMask, values: Float32Array): number {
  const { cells, weights } = mask;
  let sum = 0;
  for (let i = 0; i < cells.length; i++) sum += weights[i] * values[cells[i]];
  return sum;
}

/**
 * Masks per (map size, source size), computed on first use. A camera keeps
 * one frame size, so the cache holds one or two entries; it is capped so a
 * client cycling frame sizes cannot grow it.
 */
export class MaskCache {
  private readonly masks = new Map<string, CoverageMask>();

  constructor(
    private readonly polygon: readonly Point[],
    private readonly maxEntries = 8,
  ) {}

  get size(): number {
    return this.masks.size;
  }

  get(source: Size, map: Size): CoverageMask {
    const key = `${map.width}x${map.height}/${source.width}x${source.height}`;
    let mask = this.masks.get(key);
    if (!mask) {
      if (this.masks.size >= this.maxEntries) this.masks.delete(this.masks.keys().next().value as string);
      mask = coverageMask(this.polygon, source, map);
      this.masks.set(key, mask);
    }
    return mask;
  }
}
