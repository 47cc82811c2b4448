/**
 * A camera's counting lines over its picture: each polyline, and across the
 * middle of its longest segment an arrow to the line's "in" side labelled
 * with the people counted in, and one back labelled with those out (the
 * RESULT's line block, v1.4). The geometry is the camera client's too
 * (src/common/arrow-geometry.ts, served to the page as it is).
 */
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { alongLine, arrowHead, direction, inside, lineArrows, slideClear, unit, type Box, type Pt } from '../../src/common/arrow-geometry.js';
import { people } from './format.js';
import type { CameraLine, UpdateHeader } from './wire.js';

/** An arrow's shaft and head as one SVG path. */
function arrowPath(from: Pt, to: Pt): string {
  const p = (q: Pt): string => `${q[0].toFixed(1)},${q[1].toFixed(1)}`;
  const head = arrowHead(from, to);
  return `M${p(from)} L${p(to)}${head ? ` M${p(head[0])} L${p(to)} L${p(head[1])}` : ''}`;
}

/**
 * After each render, on the real sizes: keeps every label inside the picture
 * and moves one that would cover a label before it along its line, half its
 * height at a time, until clear (the client's rule: src/common/arrow-geometry.ts).
 * Writes only each label's CSS `translate`, so nothing renders again. It
 * reads the layout, so it runs only when a label's text or the picture's
 * size changed, not on every frame.
 */
function layOut(holder: HTMLElement, slides: ReadonlyArray<Pt | undefined>): void {
  const labels = [...holder.querySelectorAll<HTMLElement>(':scope > .line-label, :scope > .line-name')];
  for (const label of labels) label.style.translate = '';
  const area = holder.getBoundingClientRect();
  const bounds: Box = { x: area.left, y: area.top, w: area.width, h: area.height };
  const rects = labels.map((label) => label.getBoundingClientRect());
  const placed: Box[] = [];
  labels.forEach((label, i) => {
    const r = rects[i];
    const box = slideClear(inside({ x: r.left, y: r.top, w: r.width, h: r.height }, bounds), slides[Number(label.dataset.order)], r.height / 2, placed, bounds);
    placed.push(box);
    const [dx, dy] = [box.x - r.left, box.y - r.top];
    if (dx !== 0 || dy !== 0) label.style.translate = `${dx.toFixed(1)}px ${dy.toFixed(1)}px`;
  });
}

export function LineOverlay({ lines, header, space }: { lines: CameraLine[]; header: UpdateHeader | undefined; space: { width: number; height: number } }) {
  const scale = space.width / 768;
  const drawn = lines.map((line) => ({ line, arrows: lineArrows(line.points, line.in, scale), totals: header?.lines?.find((l) => l.id === line.id) }));
  // A label's edge touches its arrow's tip, on the far side (shifted by its own size, whatever the picture's), so the head stays visible.
  // Labels in drawing order (per line: in, out, name), each with the way it may slide along its line.
  const slides: Array<Pt | undefined> = [];
  const latestSlides = useRef(slides);
  latestSlides.current = slides;
  const holder = useRef<HTMLDivElement>(null);
  // What the labels say and where they start: the layout changes only with these.
  const shown = `${space.width}x${space.height}|${drawn.map(({ line, totals }) => `${line.id}:${line.name}:${totals ? `${people(totals.in)}/${people(totals.out)}` : '-'}`).join(',')}`;
  useLayoutEffect(() => {
    if (holder.current) layOut(holder.current, latestSlides.current);
  }, [shown]);
  // Labels are sized with the picture (cqw): a resize with no new frame moves them too.
  useEffect(() => {
    const element = holder.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => layOut(element, latestSlides.current));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
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
          const along = arrows && alongLine(arrows);
          const labels = arrows
            ? (['in', 'out'] as const).map((dir) => {
                const [ux, uy] = direction(arrows[dir].from, arrows[dir].to);
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
