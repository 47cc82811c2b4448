/**
 * A camera's counting lines over its picture: each polyline, and across the
 * middle of its longest segment an arrow to the line's "in" side labelled
 * with the people counted in, and one back labelled with those out (the
 * RESULT's line block, v1.4). The geometry is the client's
 * (client/display/line-overlay.ts): y down, the right of the direction of
 * travel is (-dy, dx).
 */
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

export function LineOverlay({ lines, header, space }: { lines: CameraLine[]; header: UpdateHeader | undefined; space: { width: number; height: number } }) {
  const scale = space.width / 768;
  const drawn = lines.map((line) => ({ line, arrows: lineArrows(line.points, line.in, scale), totals: header?.lines?.find((l) => l.id === line.id) }));
  // A label's edge touches its arrow's tip, on the far side (shifted by its own size, whatever the picture's), so the head stays visible.
  const unit = (from: Pt, to: Pt): Pt => {
    const length = Math.hypot(to[0] - from[0], to[1] - from[1]) || 1;
    return [(to[0] - from[0]) / length, (to[1] - from[1]) / length];
  };
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
      {drawn.flatMap(({ line, arrows, totals }) =>
        arrows
          ? (['in', 'out'] as const).map((dir) => {
              const [x, y] = arrows[dir].to;
              const [ux, uy] = unit(arrows[dir].from, arrows[dir].to);
              return (
                <div
                  key={`${line.id}-${dir}`}
                  class={`line-label ${dir}`}
                  data-line={line.name}
                  data-dir={dir}
                  title={`${line.name}: people counted ${dir === 'in' ? 'in' : 'out'} since the server started`}
                  style={{
                    left: `${(100 * x) / space.width}%`,
                    top: `${(100 * y) / space.height}%`,
                    transform: `translate(calc(${(-50 + 52 * ux).toFixed(1)}% + ${(3 * ux).toFixed(1)}px), calc(${(-50 + 52 * uy).toFixed(1)}% + ${(3 * uy).toFixed(1)}px))`,
                  }}
                >
                  {dir} <span class="people">{totals ? people(totals[dir]) : '–'}</span>
                </div>
              );
            })
          : [],
      )}
    </>
  );
}
