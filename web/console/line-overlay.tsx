/**
 * A camera's counting lines over its picture: each polyline, and across the
 * middle of its longest segment an arrow to the line's "in" side labelled
 * with the people counted in, and one back labelled with those out (the
 * RESULT's line block, v1.4). The geometry is the client's
 * (client/display/line-overlay.ts): y down, the right of the direction of
 * travel is (-dy, dx).
 */
import { useLayoutEffect, useRef } from 'preact/hooks';
import { people } from './format.js';
import type { CameraLine, UpdateHeader } from './wire.js';

type Pt = [number, number];

interface Arrows {
  in: { from: Pt; to: Pt };
  out: { from: Pt; to: Pt };
}

/** Arrow half-length and spacing, in pixels of a 768-wide picture. */
const HALF = 26;
const APART = 24;

export function lineArrows(points: readonly Pt[], side: 'left' | 'right', scale: number): Arrows | undefined {
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
  const nx = side === 'right' ? -dy : dy;
  const ny = side === 'right' ? dx : -dx;
  const half = HALF * scale;
  const apart = Math.min(APART * scale, bestLength / 4);
  const mx = (x0 + x1) / 2;
  const my = (y0 + y1) / 2;
  const at = (along: number, across: number): Pt => [mx + dx * along + nx * across, my + dy * along + ny * across];
  return { in: { from: at(apart, -half), to: at(apart, half) }, out: { from: at(-apart, half), to: at(-apart, -half) } };
}

/** An arrow's shaft and head as one SVG path. */
function arrowPath(from: Pt, to: Pt): string {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const ux = (to[0] - from[0]) / length;
  const uy = (to[1] - from[1]) / length;
  const head = length / 3;
  const side = (sign: number): Pt => {
    const c = Math.cos(Math.PI / 6);
    const s = sign * Math.sin(Math.PI / 6);
    return [to[0] - head * (ux * c - uy * s), to[1] - head * (uy * c + ux * s)];
  };
  const p = (q: Pt): string => `${q[0].toFixed(1)},${q[1].toFixed(1)}`;
  return `M${p(from)} L${p(to)} M${p(side(1))} L${p(to)} L${p(side(-1))}`;
}

/** Most half-height steps a label slides to clear the labels before it (lines close together on a small picture). */
const MAX_SLIDE_STEPS = 12;

interface Placed {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * After each render, on the real sizes: keeps every label inside the picture
 * and moves one that would cover a label before it along its line, half its
 * height at a time, until clear (the client's rule, client/display/line-overlay.ts).
 * Writes only each label's CSS `translate`, so nothing renders again.
 */
function layOut(holder: HTMLElement, slides: ReadonlyArray<Pt | undefined>): void {
  const labels = [...holder.querySelectorAll<HTMLElement>(':scope > .line-label, :scope > .line-name')];
  for (const label of labels) label.style.translate = '';
  const area = holder.getBoundingClientRect();
  const rects = labels.map((label) => label.getBoundingClientRect());
  const placed: Placed[] = [];
  const inside = (r: DOMRect, dx: number, dy: number): [number, number] => [
    Math.max(area.left - r.left, Math.min(area.right - r.right, dx)),
    Math.max(area.top - r.top, Math.min(area.bottom - r.bottom, dy)),
  ];
  const clear = (r: DOMRect, dx: number, dy: number): boolean =>
    !placed.some((p) => r.left + dx < p.right && p.left < r.right + dx && r.top + dy < p.bottom && p.top < r.bottom + dy);
  labels.forEach((label, i) => {
    const r = rects[i];
    let [dx, dy] = inside(r, 0, 0);
    const slide = slides[Number(label.dataset.order)];
    if (!clear(r, dx, dy) && slide) {
      const step = r.height / 2;
      for (let k = 1; k <= MAX_SLIDE_STEPS; k++) {
        const [mx, my] = inside(r, dx + slide[0] * step * k, dy + slide[1] * step * k);
        if (clear(r, mx, my)) {
          [dx, dy] = [mx, my];
          break;
        }
      }
    }
    placed.push({ left: r.left + dx, top: r.top + dy, right: r.right + dx, bottom: r.bottom + dy });
    if (dx !== 0 || dy !== 0) label.style.translate = `${dx.toFixed(1)}px ${dy.toFixed(1)}px`;
  });
}

function unit(v: Pt): Pt | undefined {
  const length = Math.hypot(v[0], v[1]);
  return length > 0 ? [v[0] / length, v[1] / length] : undefined;
}

export function LineOverlay({ lines, header, space }: { lines: CameraLine[]; header: UpdateHeader | undefined; space: { width: number; height: number } }) {
  const scale = space.width / 768;
  const drawn = lines.map((line) => ({ line, arrows: lineArrows(line.points, line.in, scale), totals: header?.lines?.find((l) => l.id === line.id) }));
  // A label's edge touches its arrow's tip, on the far side (shifted by its own size, whatever the picture's), so the head stays visible.
  const unitFromTo = (from: Pt, to: Pt): Pt => unit([to[0] - from[0], to[1] - from[1]]) ?? [0, 0];
  // Labels in drawing order (per line: in, out, name), each with the way it may slide along its line.
  const slides: Array<Pt | undefined> = [];
  const holder = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (holder.current) layOut(holder.current, slides);
  });
  const pos = ([x, y]: Pt) => ({ left: `${(100 * x) / space.width}%`, top: `${(100 * y) / space.height}%` });
  return (
    <>
      <svg class="count-lines" viewBox={`0 0 ${space.width} ${space.height}`} preserveAspectRatio="none" aria-hidden="true">
        {drawn.map(({ line, arrows }) => (
          <g key={line.id}>
            <polyline class="count-line" points={line.points.map(([x, y]) => `${x},${y}`).join(' ')} vector-effect="non-scaling-stroke" />
            {arrows && <path class="line-arrow in" d={arrowPath(arrows.in.from, arrows.in.to)} vector-effect="non-scaling-stroke" />}
            {arrows && <path class="line-arrow out" d={arrowPath(arrows.out.from, arrows.out.to)} vector-effect="non-scaling-stroke" />}
          </g>
        ))}
      </svg>
      <div class="line-labels" ref={holder}>
        {drawn.flatMap(({ line, arrows, totals }) => {
          const along =
            arrows &&
            unit([
              arrows.in.to[0] + arrows.in.from[0] - arrows.out.to[0] - arrows.out.from[0],
              arrows.in.to[1] + arrows.in.from[1] - arrows.out.to[1] - arrows.out.from[1],
            ]);
          const labels = arrows
            ? (['in', 'out'] as const).map((dir) => {
                const [ux, uy] = unitFromTo(arrows[dir].from, arrows[dir].to);
                slides.push(along && (dir === 'in' ? along : [-along[0], -along[1]]));
                return (
                  <div
                    key={`${line.id}-${dir}`}
                    class={`line-label ${dir}`}
                    data-line={line.name}
                    data-dir={dir}
                    data-order={slides.length - 1}
                    title={`${line.name}: people counted ${dir === 'in' ? 'in' : 'out'} since the server started`}
                    style={{
                      ...pos(arrows[dir].to),
                      transform: `translate(calc(${(-50 + 52 * ux).toFixed(1)}% + ${(3 * ux).toFixed(1)}px), calc(${(-50 + 52 * uy).toFixed(1)}% + ${(3 * uy).toFixed(1)}px))`,
                    }}
                  >
                    {dir} <span class="people">{totals ? people(totals[dir]) : '–'}</span>
                  </div>
                );
              })
            : [];
          // The name at the first point, as the client draws it.
          const [p0, p1] = line.points;
          slides.push(unit([p1[0] - p0[0], p1[1] - p0[1]]));
          labels.push(
            <div key={`${line.id}-name`} class="line-name" data-line={line.name} data-order={slides.length - 1} style={pos(p0)}>
              {line.name}
            </div>,
          );
          return labels;
        })}
      </div>
    </>
  );
}
