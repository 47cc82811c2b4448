/**
 * A counting line as points to measure at: the band of width `band` around
 * the polyline, sampled on a grid (`spacing` apart along and across), each
 * sample carrying the unit normal pointing to the line's "in" side and its
 * share of the band's area divided by the band width. Then the people
 * carried across the line between two frames is
 *   sum over samples of density x (displacement . normal) x weight,
 * the band's mean of the density flux: a person who walks through the whole
 * band adds 1 whatever the frame rate, as long as each frame-to-frame step
 * is shorter than the band.
 */

export type Point = [number, number];

export interface BandSamples {
  /** Positions in the coordinates the line was given in (source pixels). */
  x: Float32Array;
  y: Float32Array;
  /** Unit normal towards the "in" side, in source pixels. */
  nx: Float32Array;
  ny: Float32Array;
  /** Area of the sample's cell / band width (source pixels). */
  weight: Float32Array;
  /** Stretch of the line (half a band long) the sample belongs to: motion is netted per stretch before it is split by direction. */
  bin: Int32Array;
  bins: number;
  count: number;
}

/** More samples than this for one line means a line far longer than any frame: the spacing grows instead. */
export const MAX_SAMPLES_PER_LINE = 65_536;

/**
 * `inSide`: which side of the polyline, walking from its first point to its
 * last on the image (x right, y down), is "in".
 */
export function bandSamples(points: readonly Point[], inSide: 'left' | 'right', band: number, spacing: number): BandSamples {
  if (!(band > 0) || !(spacing > 0)) throw new RangeError('band and spacing must be > 0');
  let length = 0;
  for (let i = 1; i < points.length; i++) length += Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  let step = spacing;
  while (Math.ceil(length / step + points.length) * Math.ceil(band / step) > MAX_SAMPLES_PER_LINE) step *= 2;
  const across = Math.max(1, Math.ceil(band / step));
  const xs: number[] = [];
  const ys: number[] = [];
  const nxs: number[] = [];
  const nys: number[] = [];
  const ws: number[] = [];
  const bins: number[] = [];
  const binLength = band / 2;
  let before = 0;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len === 0) continue;
    const dx = (x1 - x0) / len;
    const dy = (y1 - y0) / len;
    // On the image (y down), the right of the direction of travel is (-dy, dx).
    const nx = inSide === 'right' ? -dy : dy;
    const ny = inSide === 'right' ? dx : -dx;
    const along = Math.max(1, Math.ceil(len / step));
    const w = ((len / along) * (band / across)) / band;
    for (let a = 0; a < along; a++) {
      const s = ((a + 0.5) * len) / along;
      for (let c = 0; c < across; c++) {
        const o = -band / 2 + ((c + 0.5) * band) / across;
        xs.push(x0 + dx * s + nx * o);
        ys.push(y0 + dy * s + ny * o);
        nxs.push(nx);
        nys.push(ny);
        ws.push(w);
        bins.push(Math.floor((before + s) / binLength));
      }
    }
    before += len;
  }
  return {
    x: Float32Array.from(xs),
    y: Float32Array.from(ys),
    nx: Float32Array.from(nxs),
    ny: Float32Array.from(nys),
    weight: Float32Array.from(ws),
    bin: Int32Array.from(bins),
    bins: bins.length > 0 ? bins[bins.length - 1] + 1 : 0,
    count: xs.length,
  };
}

/**
 * The part of a grey image of `grey` size (covering a `source`-sized frame)
 * that the flow must cover for these samples: their bounding box plus
 * `margin` grey pixels (the flow window and the largest step it follows),
 * clipped to the image, at least `minSize` each way where the image allows.
 * Undefined when no sample lies on the image.
 */
export function flowWindow(
  samples: BandSamples,
  source: { width: number; height: number },
  grey: { width: number; height: number },
  margin: number,
  minSize = 48,
): { x: number; y: number; width: number; height: number } | undefined {
  const fx = grey.width / source.width;
  const fy = grey.height / source.height;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < samples.count; i++) {
    const x = samples.x[i];
    const y = samples.y[i];
    if (x < 0 || y < 0 || x > source.width || y > source.height) continue;
    x0 = Math.min(x0, x * fx);
    y0 = Math.min(y0, y * fy);
    x1 = Math.max(x1, x * fx);
    y1 = Math.max(y1, y * fy);
  }
  if (x0 === Infinity) return undefined;
  const grow = (lo: number, hi: number, size: number): [number, number] => {
    let a = Math.max(0, Math.floor(lo - margin));
    let b = Math.min(size, Math.ceil(hi + margin));
    while (b - a < Math.min(minSize, size)) {
      if (a > 0) a--;
      if (b < size) b++;
    }
    return [a, b];
  };
  const [gx0, gx1] = grow(x0, x1, grey.width);
  const [gy0, gy1] = grow(y0, y1, grey.height);
  return { x: gx0, y: gy0, width: gx1 - gx0, height: gy1 - gy0 };
}
