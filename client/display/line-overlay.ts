/**
 * Draws a camera's counting lines (protocol v1.4 LINES + the RESULT's line
 * block) over a picture of any size, the window tile or the recorded frame:
 * each polyline scaled like the zones, and across it two arrows at the
 * middle of its longest segment, one pointing to the "in" side labelled
 * with the people counted in, one pointing back labelled with those out.
 */
import { alongLine, arrowHead, lineArrows as arrowsAt, slideClear, unit, type Arrow, type Arrows, type Box, type Pt } from '../../src/common/arrow-geometry.js';
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

/** Colours (BGR): the line white, "in" cyan, "out" magenta (apart from the zones' green, amber and red). */
export const LINE_COLOURS: Readonly<Record<'line' | 'in' | 'out', Bgr>> = {
  line: [255, 255, 255],
  in: [255, 255, 0],
  out: [255, 0, 255],
};

/** Stroke width in pixels of a 768-pixel-wide picture, scaled with it (the arrows' sizes: src/common/arrow-geometry.ts). */
const ARROW_THICKNESS = 2;

/** A line's arrows (src/common/arrow-geometry.ts) on whole pixels. */
export function lineArrows(points: readonly Pt[], inSide: 'left' | 'right', scale: number): Arrows | undefined {
  const arrows = arrowsAt(points, inSide, scale);
  return arrows && { in: roundArrow(arrows.in), out: roundArrow(arrows.out) };
}

const roundPt = (p: Pt): Pt => [Math.round(p[0]), Math.round(p[1])];
const roundArrow = (a: Arrow): Arrow => ({ from: roundPt(a.from), to: roundPt(a.to) });

/** The strokes of an arrow, on whole pixels: its shaft and the two sides of its head. */
export function arrowStrokes(from: Pt, to: Pt): Array<[Pt, Pt]> {
  const head = arrowHead(from, to);
  if (!head) return [];
  return [
    [from, to],
    [to, roundPt(head[0])],
    [to, roundPt(head[1])],
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
  const thickness = Math.max(1, Math.round(ARROW_THICKNESS * scale));
  const labels: Label[] = [];
  for (const line of view.lines.lines) {
    const points = scalePolygon(view.lines, sent, line.points, image.cols, image.rows);
    // LINE_8, not anti-aliased: the line and arrows keep their exact colours (as the zones do).
    image.drawPolylines([points.map(([x, y]) => new cv.Point2(x, y))], false, new cv.Vec3(...LINE_COLOURS.line), thickness, cv.LINE_8);
    const arrows = lineArrows(points, line.in, scale);
    const c = counts.get(line.id);
    if (arrows) {
      // Along the line, from the "out" arrow to the "in" one: where each label may slide to clear another.
      const along = alongLine(arrows);
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
export type LabelBox = Box;

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

/** Where a label goes so it covers none of `placed`: moved along `slide` by half its height at a time, on whole pixels (src/common/arrow-geometry.ts). */
export function placeLabel(box: LabelBox, slide: Pt | undefined, placed: readonly LabelBox[], cols: number, rows: number): LabelBox {
  return slideClear(box, slide, Math.max(2, Math.round(box.h / 2)), placed, { x: 0, y: 0, w: cols, h: rows }, Math.round);
}
