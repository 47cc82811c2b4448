/**
 * Where a counting line's arrows and their labels go, as pure geometry
 * shared by every drawing of the lines: the camera client's (client/display/line-overlay.ts,
 * on the picture), the console's (web/console/line-overlay.tsx, in SVG), and
 * the server's check of which side of a line is a zone's inside
 * (src/lines/zone-residual.ts). No imports: the console page loads it as it
 * is (served at /src/common/arrow-geometry.js).
 *
 * On the image (y down) the right of a line's direction of travel is
 * (-dy, dx) (docs/protocol.md §3.8).
 */

export type Pt = [number, number];
/** A point as given (read only). */
type Given = readonly [number, number];

/** An arrow from its tail to its tip. */
export interface Arrow {
  from: Pt;
  to: Pt;
}

export interface Arrows {
  /** Arrow to the "in" side: tail on the other side, tip on the "in" side. */
  in: Arrow;
  out: Arrow;
}

/** Arrow sizes in pixels of a 768-pixel-wide picture, scaled with it. */
export const ARROW_SIZE = { halfLength: 26, apart: 24 } as const;

/** The longest segment of a polyline (the first of equals): its ends, unit direction and length. Undefined when every segment has length 0. */
export function longestSegment(points: readonly Given[]): { a: Given; b: Given; dx: number; dy: number; length: number } | undefined {
  let best = -1;
  let bestLength = 0;
  for (let i = 1; i < points.length; i++) {
    const length = Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
    if (length > bestLength) {
      bestLength = length;
      best = i;
    }
  }
  if (best < 0) return undefined;
  const a = points[best - 1];
  const b = points[best];
  return { a, b, dx: (b[0] - a[0]) / bestLength, dy: (b[1] - a[1]) / bestLength, length: bestLength };
}

/** The unit normal pointing to `side` of a direction (dx, dy) on the image. */
export function sideNormal(dx: number, dy: number, side: 'left' | 'right'): Pt {
  return side === 'right' ? [-dy, dx] : [dy, -dx];
}

/**
 * Where a line's two arrows go, in picture pixels (not rounded): across the
 * middle of its longest segment, side by side along it, each `halfLength`
 * to either side of the line. Undefined when every segment has length 0.
 */
export function lineArrows(points: readonly Given[], inSide: 'left' | 'right', scale: number): Arrows | undefined {
  const seg = longestSegment(points);
  if (!seg) return undefined;
  const { dx, dy } = seg;
  const [nx, ny] = sideNormal(dx, dy, inSide);
  const half = ARROW_SIZE.halfLength * scale;
  const apart = Math.min(ARROW_SIZE.apart * scale, seg.length / 4);
  const mx = (seg.a[0] + seg.b[0]) / 2;
  const my = (seg.a[1] + seg.b[1]) / 2;
  const at = (along: number, across: number): Pt => [mx + dx * along + nx * across, my + dy * along + ny * across];
  return { in: { from: at(apart, -half), to: at(apart, half) }, out: { from: at(-apart, half), to: at(-apart, -half) } };
}

/** The two ends of an arrow's head (a third of its length, 30 degrees off the shaft), not rounded. Undefined for an arrow of length 0. */
export function arrowHead(from: Given, to: Given): [Pt, Pt] | undefined {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  if (length === 0) return undefined;
  const ux = (to[0] - from[0]) / length;
  const uy = (to[1] - from[1]) / length;
  const head = length / 3;
  const side = (sign: number): Pt => {
    const c = Math.cos(Math.PI / 6);
    const s = sign * Math.sin(Math.PI / 6);
    return [to[0] - head * (ux * c - uy * s), to[1] - head * (uy * c + ux * s)];
  };
  return [side(1), side(-1)];
}

/** The unit vector from `from` towards `to` ([0, 0] when they are the same point): the way an arrow's label is pushed beyond its tip. */
export function direction(from: Given, to: Given): Pt {
  return unit([to[0] - from[0], to[1] - from[1]]) ?? [0, 0];
}

/** `v` scaled to length 1 (undefined for the zero vector). */
export function unit(v: Given): Pt | undefined {
  const length = Math.sqrt(v[0] * v[0] + v[1] * v[1]);
  return length > 0 ? [v[0] / length, v[1] / length] : undefined;
}

/** Along a line, from its "out" arrow to its "in" arrow: the way the "in" label slides to clear another (the "out" label the other way). */
export function alongLine(arrows: Arrows): Pt | undefined {
  return unit([
    (arrows.in.from[0] + arrows.in.to[0] - arrows.out.from[0] - arrows.out.to[0]) / 2,
    (arrows.in.from[1] + arrows.in.to[1] - arrows.out.from[1] - arrows.out.to[1]) / 2,
  ]);
}

/** A label's box (or the picture's): left, top, width, height. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Most steps a label slides to clear the labels placed before it (lines close together on a small picture). */
export const MAX_SLIDE_STEPS = 12;

/** `box` moved by the least that puts it inside `bounds` (its position passed through `round`). */
export function inside(box: Box, bounds: Box, round: (v: number) => number = (v) => v): Box {
  return {
    x: Math.max(bounds.x, Math.min(bounds.x + bounds.w - box.w, round(box.x))),
    y: Math.max(bounds.y, Math.min(bounds.y + bounds.h - box.h, round(box.y))),
    w: box.w,
    h: box.h,
  };
}

/**
 * Where a label goes so it covers none of `placed`: where it is, or moved
 * along `slide` by `step` at a time (at most MAX_SLIDE_STEPS), kept inside
 * `bounds`. When nothing is clear it stays where it was. The camera client
 * rounds to whole pixels; the console page does not.
 */
export function slideClear(box: Box, slide: Given | undefined, step: number, placed: readonly Box[], bounds: Box, round?: (v: number) => number): Box {
  const clear = (b: Box): boolean => !placed.some((p) => b.x < p.x + p.w && p.x < b.x + b.w && b.y < p.y + p.h && p.y < b.y + b.h);
  if (clear(box) || !slide) return box;
  for (let k = 1; k <= MAX_SLIDE_STEPS; k++) {
    const moved = inside({ x: box.x + slide[0] * step * k, y: box.y + slide[1] * step * k, w: box.w, h: box.h }, bounds, round);
    if (clear(moved)) return moved;
  }
  return box;
}
