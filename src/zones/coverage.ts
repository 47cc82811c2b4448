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
import { clipToBand, polygonArea, type Point } from './polygon.js';

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
  const poly: Point[] = polygon.map(([x, y]) => [x * sx, y * sy]);
  const cells: number[] = [];
  const weights: number[] = [];
  let area = 0;
  const ys = poly.map((p) => p[1]);
  const r0 = Math.max(0, Math.floor(Math.min(...ys)));
  const r1 = Math.min(map.height - 1, Math.ceil(Math.max(...ys)) - 1);
  for (let r = r0; r <= r1; r++) {
    // Clip to the row first, then each cell of the row to the row's piece.
    const band = clipToBand(poly, 1, r, r + 1);
    if (band.length < 3) continue;
    const xs = band.map((p) => p[0]);
    const c0 = Math.max(0, Math.floor(Math.min(...xs)));
    const c1 = Math.min(map.width - 1, Math.ceil(Math.max(...xs)) - 1);
    for (let c = c0; c <= c1; c++) {
      const piece = clipToBand(band, 0, c, c + 1);
      if (piece.length < 3) continue;
      const w = Math.min(1, polygonArea(piece));
      if (w <= MIN_WEIGHT) continue;
      cells.push(r * map.width + c);
      weights.push(w);
      area += w;
    }
  }
  return { cells: Uint32Array.from(cells), weights: Float32Array.from(weights), area };
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
