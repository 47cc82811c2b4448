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
  const labels: Array<{ text: string; at: Pt; colour: Bgr; away?: Pt }> = [];
  for (const line of view.lines.lines) {
    const points = scalePolygon(view.lines, sent, line.points, image.cols, image.rows);
    // LINE_8, not anti-aliased: the line and arrows keep their exact colours (as the zones do).
    image.drawPolylines([points.map(([x, y]) => new cv.Point2(x, y))], false, new cv.Vec3(...LINE_COLOURS.line), thickness, cv.LINE_8);
    const arrows = lineArrows(points, line.in, scale);
    const c = counts.get(line.id);
    if (arrows) {
      for (const dir of ['in', 'out'] as const) {
        const { from, to } = arrows[dir];
        const colour = new cv.Vec3(...LINE_COLOURS[dir]);
        // Shaft and head drawn as lines (the binding's drawArrowedLine drew no head here).
        for (const [a, b] of arrowStrokes(from, to)) image.drawLine(new cv.Point2(...a), new cv.Point2(...b), colour, thickness, cv.LINE_8);
        // The count sits beyond the arrow's tip, so the head stays visible.
        labels.push({ text: c ? `${dir} ${crossingCount(c[dir])}` : dir, at: to, colour: LINE_COLOURS[dir], away: [to[0] - from[0], to[1] - from[1]] });
      }
    }
    labels.push({ text: line.name, at: points[0], colour: LINE_COLOURS.line });
  }
  for (const label of labels) drawLabel(cv, image, label.text, label.at, label.colour, fontScale, label.away);
}

/** Text on a dark band centred on `at` (or just beyond it in the direction `away`), kept inside the picture. */
function drawLabel(cv: OpenCV, image: Mat, text: string, at: Pt, colour: Bgr, fontScale: number, away?: Pt): void {
  const { size, baseLine } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, fontScale, 1);
  const w = Math.min(image.cols, size.width + 6);
  const h = Math.min(image.rows, size.height + baseLine + 6);
  let [cx, cy] = at;
  const length = away ? Math.hypot(away[0], away[1]) : 0;
  if (away && length > 0) {
    const [ux, uy] = [away[0] / length, away[1] / length];
    const gap = (Math.abs(ux) * w) / 2 + (Math.abs(uy) * h) / 2 + 2;
    cx += ux * gap;
    cy += uy * gap;
  }
  const x = Math.max(0, Math.min(image.cols - w, Math.round(cx - w / 2)));
  const y = Math.max(0, Math.min(image.rows - h, Math.round(cy - h / 2)));
  const band = image.getRegion(new cv.Rect(x, y, w, h));
  band.convertTo(cv.CV_8UC3, 0.35).copyTo(band);
  image.putText(text, new cv.Point2(x + 3, y + 3 + size.height), cv.FONT_HERSHEY_SIMPLEX, fontScale, new cv.Vec3(...colour), 1, cv.LINE_AA);
}
