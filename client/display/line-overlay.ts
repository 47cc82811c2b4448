/**
 * Draws a camera's counting lines (protocol v1.4 LINES + the RESULT's line
 * block) over a picture of any size, the window tile or the recorded frame:
 * each polyline scaled like the zones, and across it two arrows at the
 * middle of its longest segment, one pointing to the "in" side labelled
 * with the people counted in, one pointing back labelled with those out.
 */
import type { LineCrossings, LinesMessage } from '../../src/framing/index.js';
import type { Mat, OpenCV } from '../opencv.js';
import { scalePolygon, type SentSize } from './zone-overlay.js';

/** One camera's lines and the crossings of the frame being drawn. */
export interface LineView {
  lines: LinesMessage;
  /** Absent: the frame was not answered ok (or the server sent no block); the arrows carry no counts. */
  crossings?: readonly LineCrossings[];
}

type Bgr = readonly [number, number, number];
type Pt = [number, number];

/** Colours (BGR): the line white, "in" cyan, "out" magenta (apart from the zones' green, amber and red). */
export const LINE_COLOURS: Readonly<Record<'line' | 'in' | 'out', Bgr>> = {
  line: [255, 255, 255],
  in: [255, 255, 0],
  out: [255, 0, 255],
};

/** Sizes in pixels of a 768-pixel-wide picture, scaled with it. */
const ARROW = { halfLength: 26, apart: 24, thickness: 2 };

export interface Arrows {
  /** Arrow to the "in" side: tail on the other side, tip on the "in" side. */
  in: { from: Pt; to: Pt };
  out: { from: Pt; to: Pt };
}

/**
 * Where a line's two arrows go, in picture pixels: across the middle of its
 * longest (scaled) segment, side by side along it, each `halfLength` to
 * either side of the line. Undefined when every segment has length 0 there.
 */
export function lineArrows(points: readonly Pt[], inSide: 'left' | 'right', scale: number): Arrows | undefined {
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
  const [x0, y0] = points[best - 1];
  const [x1, y1] = points[best];
  const dx = (x1 - x0) / bestLength;
  const dy = (y1 - y0) / bestLength;
  // On the image (y down) the right of the direction of travel is (-dy, dx) (docs/protocol.md §3.8).
  const nx = inSide === 'right' ? -dy : dy;
  const ny = inSide === 'right' ? dx : -dx;
  const half = ARROW.halfLength * scale;
  const apart = Math.min(ARROW.apart * scale, bestLength / 4);
  const mx = (x0 + x1) / 2;
  const my = (y0 + y1) / 2;
  const at = (along: number, across: number): Pt => [Math.round(mx + dx * along + nx * across), Math.round(my + dy * along + ny * across)];
  return { in: { from: at(apart, -half), to: at(apart, half) }, out: { from: at(-apart, half), to: at(-apart, -half) } };
}

/** The strokes of an arrow: its shaft and the two sides of its head (a third of its length, 30 degrees off). */
export function arrowStrokes(from: Pt, to: Pt): Array<[Pt, Pt]> {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  if (length === 0) return [];
  const ux = (to[0] - from[0]) / length;
  const uy = (to[1] - from[1]) / length;
  const head = length / 3;
  const side = (sign: number): Pt => {
    const c = Math.cos(Math.PI / 6);
    const s = sign * Math.sin(Math.PI / 6);
    return [Math.round(to[0] - head * (ux * c - uy * s)), Math.round(to[1] - head * (uy * c + ux * s))];
  };
  return [
    [from, to],
    [to, side(1)],
    [to, side(-1)],
  ];
}

/** "12.3" under 100 people, "1234" above. */
export function crossingCount(value: number): string {
  return value < 100 ? value.toFixed(1) : Math.round(value).toString();
}

/** Draws every line of `view` on `image`, in place. */
export function drawLines(cv: OpenCV, image: Mat, view: LineView, sent: SentSize): void {
  const counts = new Map<number, LineCrossings>();
  for (const c of view.crossings ?? []) if (!counts.has(c.id)) counts.set(c.id, c);
  const scale = image.cols / 768;
  const fontScale = Math.max(0.35, Math.min(0.8, 0.55 * scale));
  const thickness = Math.max(1, Math.round(ARROW.thickness * scale));
  const labels: Label[] = [];
  for (const line of view.lines.lines) {
    const points = scalePolygon(view.lines, sent, line.points, image.cols, image.rows);
    // LINE_8, not anti-aliased: the line and arrows keep their exact colours (as the zones do).
    image.drawPolylines([points.map(([x, y]) => new cv.Point2(x, y))], false, new cv.Vec3(...LINE_COLOURS.line), thickness, cv.LINE_8);
    const arrows = lineArrows(points, line.in, scale);
    const c = counts.get(line.id);
    if (arrows) {
      // Along the line, from the "out" arrow to the "in" one: where each label may slide to clear another.
      const along = unit([
        (arrows.in.from[0] + arrows.in.to[0] - arrows.out.from[0] - arrows.out.to[0]) / 2,
        (arrows.in.from[1] + arrows.in.to[1] - arrows.out.from[1] - arrows.out.to[1]) / 2,
      ]);
      for (const dir of ['in', 'out'] as const) {
        const { from, to } = arrows[dir];
        const colour = new cv.Vec3(...LINE_COLOURS[dir]);
        // Shaft and head drawn as lines (the binding's drawArrowedLine drew no head here).
        for (const [a, b] of arrowStrokes(from, to)) image.drawLine(new cv.Point2(...a), new cv.Point2(...b), colour, thickness, cv.LINE_8);
        // The count sits beyond the arrow's tip, so the head stays visible.
        const slide: Pt | undefined = along && (dir === 'in' ? along : [-along[0], -along[1]]);
        labels.push({ text: c ? `${dir} ${crossingCount(c[dir])}` : dir, at: to, colour: LINE_COLOURS[dir], away: [to[0] - from[0], to[1] - from[1]], slide });
      }
    }
    const first = unit([points[1][0] - points[0][0], points[1][1] - points[0][1]]);
    labels.push({ text: line.name, at: points[0], colour: LINE_COLOURS.line, slide: first });
  }
  const placed: LabelBox[] = [];
  for (const label of labels) {
    const { size, baseLine } = cv.getTextSize(label.text, cv.FONT_HERSHEY_SIMPLEX, fontScale, 1);
    const box = placeLabel(
      labelBox(size.width, size.height + baseLine, label.at, label.away, image.cols, image.rows),
      label.slide,
      placed,
      image.cols,
      image.rows,
    );
    placed.push(box);
    const band = image.getRegion(new cv.Rect(box.x, box.y, box.w, box.h));
    band.convertTo(cv.CV_8UC3, 0.35).copyTo(band);
    image.putText(
      label.text,
      new cv.Point2(box.x + 3, box.y + 3 + size.height),
      cv.FONT_HERSHEY_SIMPLEX,
      fontScale,
      new cv.Vec3(...label.colour),
      1,
      cv.LINE_AA,
    );
  }
}

interface Label {
  text: string;
  at: Pt;
  colour: Bgr;
  /** Place the label just beyond `at` in this direction (an arrow's tip), instead of centred on it. */
  away?: Pt;
  /** Unit vector: the way the label moves, step by step, when it would cover a label drawn before it. */
  slide?: Pt;
}

/** A label's dark band, in picture pixels (integers). */
export interface LabelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Most half-height steps a label slides to clear the labels drawn before it (lines close together on a small picture). */
const MAX_SLIDE_STEPS = 12;

function unit(v: Pt): Pt | undefined {
  const length = Math.sqrt(v[0] * v[0] + v[1] * v[1]);
  return length > 0 ? [v[0] / length, v[1] / length] : undefined;
}

/** The band for text `textW x textH` (3 px margins) centred on `at` (or just beyond it in the direction `away`), kept inside the picture. */
export function labelBox(textW: number, textH: number, at: Pt, away: Pt | undefined, cols: number, rows: number): LabelBox {
  const w = Math.min(cols, textW + 6);
  const h = Math.min(rows, textH + 6);
  let [cx, cy] = at;
  const length = away ? Math.hypot(away[0], away[1]) : 0;
  if (away && length > 0) {
    const [ux, uy] = [away[0] / length, away[1] / length];
    const gap = (Math.abs(ux) * w) / 2 + (Math.abs(uy) * h) / 2 + 2;
    cx += ux * gap;
    cy += uy * gap;
  }
  return { x: Math.max(0, Math.min(cols - w, Math.round(cx - w / 2))), y: Math.max(0, Math.min(rows - h, Math.round(cy - h / 2))), w, h };
}

/**
 * Where a label goes so it covers none of `placed`: where it wants to be, or
 * moved along `slide` by half its height at a time (at most MAX_SLIDE_STEPS),
 * inside the picture. When nothing is clear it stays where it wanted to be.
 */
export function placeLabel(box: LabelBox, slide: Pt | undefined, placed: readonly LabelBox[], cols: number, rows: number): LabelBox {
  const clear = (b: LabelBox): boolean => !placed.some((p) => b.x < p.x + p.w && p.x < b.x + b.w && b.y < p.y + p.h && p.y < b.y + b.h);
  if (clear(box) || !slide) return box;
  const step = Math.max(2, Math.round(box.h / 2));
  for (let k = 1; k <= MAX_SLIDE_STEPS; k++) {
    const moved = {
      x: Math.max(0, Math.min(cols - box.w, Math.round(box.x + slide[0] * step * k))),
      y: Math.max(0, Math.min(rows - box.h, Math.round(box.y + slide[1] * step * k))),
      w: box.w,
      h: box.h,
    };
    if (clear(moved)) return moved;
  }
  return box;
}
