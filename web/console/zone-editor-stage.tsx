/**
 * The zone editor's drawing layer: an SVG over the camera's picture, in the
 * polygons' own coordinates. Drawing: each click (or tap) adds a corner;
 * clicking the first or the last corner again (so a double-click), or Enter
 * closes the zone.
 * Editing: click a zone to select it, drag it to move it, drag a corner to
 * move the corner, drag an edge's midpoint to add a corner there. Pointer
 * events, so a finger works like a mouse; handles are larger on touch
 * screens.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { centre, distance, snap, translate, type Point, type ZoneDraft } from './zone-editor-model.js';

export interface Space {
  width: number;
  height: number;
}

interface StageProps {
  zones: readonly ZoneDraft[];
  selected: number | undefined;
  /** Corners of the zone being drawn; undefined when not drawing. */
  drawing: Point[] | undefined;
  space: Space;
  onSelect(key: number | undefined): void;
  onPolygon(key: number, polygon: Point[]): void;
  onDrawPoint(point: Point): void;
  onDrawClose(): void;
}

type Drag = { kind: 'move'; key: number; start: Point; original: Point[] } | { kind: 'corner'; key: number; index: number };

export function ZoneStage(props: StageProps) {
  const svg = useRef<SVGSVGElement>(null);
  const [pxWidth, setPxWidth] = useState(0);
  const [cursor, setCursor] = useState<Point | undefined>();
  const [coarse, setCoarse] = useState(() => window.matchMedia('(pointer: coarse)').matches);
  const drag = useRef<Drag | undefined>(undefined);
  const { space, zones, selected, drawing } = props;

  useEffect(() => {
    const element = svg.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setPxWidth(element.clientWidth));
    observer.observe(element);
    setPxWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  // Image units per screen pixel: handles keep their size on screen whatever the picture's.
  const unit = pxWidth > 0 ? space.width / pxWidth : 1;
  const handle = (coarse ? 13 : 7) * unit;
  const reach = (coarse ? 22 : 12) * unit;

  const toSpace = (event: PointerEvent): Point => {
    const box = (svg.current as SVGSVGElement).getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * space.width, ((event.clientY - box.top) / box.height) * space.height];
  };

  const onPointerDown = (event: PointerEvent): void => {
    if (event.button !== 0) return;
    event.preventDefault();
    if (event.pointerType === 'touch' && !coarse) setCoarse(true);
    const point = toSpace(event);
    if (drawing) {
      // A press on the first or the last corner closes the zone (so a double-click or double-tap on the last
      // corner does, whatever the time between its presses: a timed double missed on a loaded machine and
      // added a duplicate corner instead). A press on the last corner never adds a corner on top of it.
      const last = drawing[drawing.length - 1];
      const onLast = last !== undefined && distance(point, last) <= reach;
      if (drawing.length >= 3 && (onLast || distance(point, drawing[0]) <= reach)) props.onDrawClose();
      else if (!onLast) props.onDrawPoint(snap(point, space));
      return;
    }
    const target = event.target as SVGElement;
    const key = Number(target.dataset.key);
    const role = target.dataset.role;
    const zone = zones.find((z) => z.key === key);
    if (!zone || role === undefined) {
      props.onSelect(undefined);
      return;
    }
    if (role === 'corner') drag.current = { kind: 'corner', key, index: Number(target.dataset.index) };
    else if (role === 'mid') {
      const index = Number(target.dataset.index) + 1;
      const polygon = [...zone.polygon];
      polygon.splice(index, 0, snap(point, space));
      props.onPolygon(key, polygon);
      drag.current = { kind: 'corner', key, index };
    } else {
      props.onSelect(key);
      drag.current = { kind: 'move', key, start: point, original: zone.polygon };
    }
    svg.current?.setPointerCapture(event.pointerId);
  };

  const onPointerMove = (event: PointerEvent): void => {
    const point = toSpace(event);
    if (drawing) {
      setCursor(point);
      return;
    }
    const d = drag.current;
    if (!d) return;
    const zone = zones.find((z) => z.key === d.key);
    if (!zone) return;
    if (d.kind === 'move') props.onPolygon(d.key, translate(d.original, point[0] - d.start[0], point[1] - d.start[1], space));
    else
      props.onPolygon(
        d.key,
        zone.polygon.map((p, i) => (i === d.index ? snap(point, space) : p)),
      );
  };

  const endDrag = (event: PointerEvent): void => {
    drag.current = undefined;
    if (svg.current?.hasPointerCapture(event.pointerId)) svg.current.releasePointerCapture(event.pointerId);
  };

  const points = (polygon: readonly Point[]): string => polygon.map(([x, y]) => `${x},${y}`).join(' ');
  const chosen = zones.find((z) => z.key === selected);
  const closable = drawing !== undefined && drawing.length >= 3 && cursor !== undefined && distance(cursor, drawing[0]) <= reach;
  return (
    <>
      <svg
        ref={svg}
        class={`zone-editor-layer${drawing ? ' drawing' : ''}`}
        viewBox={`0 0 ${space.width} ${space.height}`}
        preserveAspectRatio="none"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        onPointerLeave={() => setCursor(undefined)}
      >
        {zones.map((zone) => (
          <polygon
            key={zone.key}
            class={`edit-zone${zone.key === selected ? ' selected' : ''}`}
            points={points(zone.polygon)}
            data-key={zone.key}
            data-role="zone"
            data-zone={zone.name}
            vector-effect="non-scaling-stroke"
          />
        ))}
        {chosen &&
          !drawing &&
          chosen.polygon.map((p, i) => {
            const next = chosen.polygon[(i + 1) % chosen.polygon.length];
            return (
              <circle
                key={`m${i}`}
                class="mid"
                cx={(p[0] + next[0]) / 2}
                cy={(p[1] + next[1]) / 2}
                r={handle * 0.6}
                data-key={chosen.key}
                data-role="mid"
                data-index={i}
                vector-effect="non-scaling-stroke"
              />
            );
          })}
        {chosen &&
          !drawing &&
          chosen.polygon.map(([x, y], i) => (
            <circle
              key={`c${i}`}
              class="corner"
              cx={x}
              cy={y}
              r={handle}
              data-key={chosen.key}
              data-role="corner"
              data-index={i}
              vector-effect="non-scaling-stroke"
            />
          ))}
        {drawing && (
          <>
            <polyline class="drawing-line" points={points(cursor && !closable ? [...drawing, cursor] : drawing)} vector-effect="non-scaling-stroke" />
            {drawing.map(([x, y], i) => (
              <circle
                key={i}
                class={`corner${i === 0 && closable ? ' closable' : ''}`}
                cx={x}
                cy={y}
                r={i === 0 ? handle * 1.2 : handle * 0.8}
                vector-effect="non-scaling-stroke"
              />
            ))}
          </>
        )}
      </svg>
      {zones.map((zone) => {
        // The selected zone's name is in its fields; its label would hide the corners being dragged.
        if (zone.key === selected && !drawing) return null;
        const [cx, cy] = centre(zone.polygon);
        return (
          <div
            key={zone.key}
            class={`zone-label edit-label${zone.key === selected ? ' selected' : ''}`}
            style={{ left: `${(100 * cx) / space.width}%`, top: `${(100 * cy) / space.height}%` }}
          >
            {zone.name || '(no name)'}
          </div>
        );
      })}
    </>
  );
}
