/** Plane geometry for zones: area, clipping to an axis-aligned band, simplicity. */
export type Point = readonly [number, number];

/** Shoelace area, absolute (orientation does not matter). */
export function polygonArea(poly: readonly Point[]): number {
  let twice = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) twice += poly[j][0] * poly[i][1] - poly[i][0] * poly[j][1];
  return Math.abs(twice) / 2;
}

/**
 * Sutherland-Hodgman against the band lo <= coordinate(axis) <= hi. The
 * clipper is convex, so the result's area is exactly the intersection's even
 * for a concave polygon (pieces may be joined by zero-area edges).
 */
export function clipToBand(poly: readonly Point[], axis: 0 | 1, lo: number, hi: number): Point[] {
  return clipHalf(clipHalf(poly, axis, lo, 1), axis, hi, -1);
}

/** Keeps the side where sign * (p[axis] - bound) >= 0. */
function clipHalf(poly: readonly Point[], axis: 0 | 1, bound: number, sign: 1 | -1): Point[] {
  const out: Point[] = [];
  const n = poly.length;
  if (n === 0) return out;
  let prev = poly[n - 1];
  let prevIn = sign * (prev[axis] - bound) >= 0;
  for (let i = 0; i < n; i++) {
    const cur = poly[i];
    const curIn = sign * (cur[axis] - bound) >= 0;
    if (curIn !== prevIn) {
      const t = (bound - prev[axis]) / (cur[axis] - prev[axis]);
      const other = axis === 0 ? 1 : 0;
      const crossing = prev[other] + t * (cur[other] - prev[other]);
      out.push(axis === 0 ? [bound, crossing] : [crossing, bound]);
    }
    if (curIn) out.push(cur);
    prev = cur;
    prevIn = curIn;
  }
  return out;
}

/**
 * Why a polygon cannot be a zone (zero area, edges that cross), or undefined.
 * A crossing polygon has no clear inside, so its sum would mean nothing.
 * O(n^2) in corners, n <= 256: run once per site load.
 */
export function simplePolygonProblem(poly: readonly Point[]): string | undefined {
  const n = poly.length;
  for (let i = 0; i < n; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % n];
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a corner; that is not a crossing.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      const c = poly[j];
      const d = poly[(j + 1) % n];
      if (segmentsIntersect(a, b, c, d)) return `edges ${i + 1} and ${j + 1} cross or touch (corners must go round the zone once)`;
    }
  }
  return polygonArea(poly) === 0 ? 'has zero area' : undefined;
}

function orient(p: Point, q: Point, r: Point): number {
  return Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
}

function onSegment(p: Point, q: Point, r: Point): boolean {
  return Math.min(p[0], r[0]) <= q[0] && q[0] <= Math.max(p[0], r[0]) && Math.min(p[1], r[1]) <= q[1] && q[1] <= Math.max(p[1], r[1]);
}

function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(a, c, b)) || (o2 === 0 && onSegment(a, d, b)) || (o3 === 0 && onSegment(c, a, d)) || (o4 === 0 && onSegment(c, b, d));
}
