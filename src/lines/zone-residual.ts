/**
 * The consistency check of the line counts (docs/zones.md, "Consistency"):
 * for a zone whose whole boundary is covered by counting lines, people can
 * only get in or out across those lines, so over a window the change in the
 * zone's count must equal what the lines counted in minus out. The
 * difference, the residual, is a health signal of the estimate: it stays
 * near 0 while the model and the flow work, and grows when either fails
 * (the flow misses motion, the model miscounts at the line).
 *
 * Two inputs, in capture time: each frame's zone reading (bucketed into
 * per-second means, which averages the frame-to-frame noise of the map), and
 * each closed counting window of the lines (about 1 s, applied a frame or
 * two late because motion runs on a worker). The residual over
 * [s0, s0 + window] is evaluated `lagS` behind the newest second, once
 * every line window that can fall inside it has arrived.
 */
import { longestSegment, sideNormal } from '../common/arrow-geometry.js';
import type { LineListener, LineReading } from './line-tracker.js';
import type { CameraConfig, SiteConfig } from '../zones/site-file.js';
import type { ZoneListener, ZoneReport } from '../zones/zone-tracker.js';

type Point = readonly [number, number];

export interface ResidualOptions {
  /** Length of the window the zone's change is compared over (s). */
  windowS: number;
  /** How far behind the newest frame the window ends (s): line windows close late. */
  lagS: number;
}

export const RESIDUAL_DEFAULTS: ResidualOptions = { windowS: 60, lagS: 3 };

/** A zone closed by lines: which lines bound it, and whether each one's "in" side is the zone's inside (+1) or outside (-1). */
export interface ClosedZone {
  zone: string;
  lines: Array<{ line: string; sign: 1 | -1 }>;
}

/** Where the residual goes (a Prometheus gauge in the server). */
export interface ResidualSink {
  residual(camera: string, zone: string, value: number): void;
  residualRemoved?(camera: string, zone: string): void;
}

/** The boundary may stray from a line by this fraction of the zone's size (a site file drawn by hand). */
const TOLERANCE_FRACTION = 0.01;
/** Points checked along each edge and each line. */
const SAMPLES_PER_EDGE = 32;

/**
 * The zones of a camera whose boundary its lines cover: every line that
 * lies on the boundary (all of it within the tolerance) is one of the zone's
 * lines, and every point of the boundary must be within the tolerance of one
 * of them. A line that runs past the zone counts crossings elsewhere too, so
 * it never closes a zone.
 */
export function closedZones(camera: CameraConfig): ClosedZone[] {
  const out: ClosedZone[] = [];
  for (const zone of camera.zones) {
    const poly = zone.polygon;
    const xs = poly.map((p) => p[0]);
    const ys = poly.map((p) => p[1]);
    const size = Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    const tol = Math.max(1e-9, TOLERANCE_FRACTION * size);
    const ring = [...poly, poly[0]];
    const onBoundary = camera.lines.filter((l) => alongPolyline(l.points).every((p) => distanceToPolyline(p, ring) <= tol));
    if (onBoundary.length === 0) continue;
    const covered = alongPolyline(ring).every((p) => onBoundary.some((l) => distanceToPolyline(p, l.points) <= tol));
    if (!covered) continue;
    out.push({
      zone: zone.name,
      lines: onBoundary.map((l) => ({ line: l.name, sign: inSideIsInside(l.points, l.in, poly, tol) ? 1 : -1 })),
    });
  }
  return out;
}

interface ZoneState {
  closed: ClosedZone;
  /** Per second (epoch s): sum and number of the zone's per-frame counts. */
  seconds: Map<number, { sum: number; n: number }>;
  newest: number | undefined;
  /** Closed line windows: capture time of the frame that closed it and its net inflow into the zone. */
  flux: Array<{ timeMs: number; net: number }>;
}

/** Seconds kept per zone beyond the window and the lag; and line windows kept per zone. */
const SLACK_S = 4;
const MAX_FLUX_ENTRIES = 65_536;

export class ZoneResidual {
  private cameras = new Map<string, Map<string, ZoneState>>();
  private readonly options: ResidualOptions;

  /** Hear the zone tracker through this. */
  readonly zones: ZoneListener = { reading: (r) => this.zoneReading(r) };
  /** Hear the line tracker through this. */
  readonly lines: LineListener = { reading: (r) => this.lineReading(r) };

  constructor(
    site: SiteConfig,
    private readonly sink: ResidualSink,
    options: Partial<ResidualOptions> = {},
  ) {
    this.options = { ...RESIDUAL_DEFAULTS, ...options };
    this.replaceSite(site);
  }

  /** Which zones of which cameras are checked (tests, docs). */
  closed(): Array<{ camera: string } & ClosedZone> {
    return [...this.cameras].flatMap(([camera, zones]) => [...zones.values()].map((z) => ({ camera, ...z.closed })));
  }

  /** A reload: zones still closed by the same lines keep their history; others start afresh or lose their series. */
  replaceSite(site: SiteConfig): void {
    const next = new Map<string, Map<string, ZoneState>>();
    for (const cam of site.cameras.values()) {
      const zones = new Map<string, ZoneState>();
      for (const closed of closedZones(cam)) {
        const old = this.cameras.get(cam.name)?.get(closed.zone);
        zones.set(
          closed.zone,
          old && JSON.stringify(old.closed) === JSON.stringify(closed) ? old : { closed, seconds: new Map(), newest: undefined, flux: [] },
        );
      }
      if (zones.size > 0) next.set(cam.name, zones);
    }
    for (const [camera, zones] of this.cameras) {
      for (const zone of zones.keys()) if (!next.get(camera)?.has(zone)) this.sink.residualRemoved?.(camera, zone);
    }
    this.cameras = next;
  }

  private zoneReading(r: ZoneReport): void {
    const state = this.cameras.get(r.camera)?.get(r.zone);
    if (!state || !Number.isFinite(r.people) || !Number.isFinite(r.timeMs)) return;
    const second = Math.floor(r.timeMs / 1000);
    const bucket = state.seconds.get(second);
    if (bucket) {
      bucket.sum += r.people;
      bucket.n++;
    } else state.seconds.set(second, { sum: r.people, n: 1 });
    if (state.newest !== undefined && second <= state.newest) return;
    state.newest = second;
    this.evaluate(r.camera, r.zone, state, second);
  }

  private lineReading(r: LineReading): void {
    const zones = this.cameras.get(r.camera);
    if (!zones || !Number.isFinite(r.timeMs)) return;
    for (const state of zones.values()) {
      const bound = state.closed.lines.find((l) => l.line === r.line);
      if (!bound) continue;
      if (state.flux.length >= MAX_FLUX_ENTRIES) state.flux.shift();
      state.flux.push({ timeMs: r.timeMs, net: bound.sign * (r.stepIn - r.stepOut) });
    }
  }

  /** On the first frame of a new second: the residual over the window that ends lagS before it; old seconds and windows go. */
  private evaluate(camera: string, zone: string, state: ZoneState, newest: number): void {
    const { windowS, lagS } = this.options;
    const end = newest - lagS;
    const start = end - windowS;
    const keepFrom = start - SLACK_S;
    for (const s of state.seconds.keys()) if (s < keepFrom) state.seconds.delete(s);
    while (state.flux.length > 0 && state.flux[0].timeMs < keepFrom * 1000) state.flux.shift();
    const a = state.seconds.get(start);
    const b = state.seconds.get(end);
    // A second without frames (the camera was off) gives no residual for this window.
    if (!a || !b) return;
    // Each count stands for the middle of its second; line windows closed in between carried the change.
    const fromMs = start * 1000 + 500;
    const toMs = end * 1000 + 500;
    let net = 0;
    for (const f of state.flux) if (f.timeMs >= fromMs && f.timeMs < toMs) net += f.net;
    this.sink.residual(camera, zone, b.sum / b.n - a.sum / a.n - net);
  }
}

/** Points along a polyline: its vertices and SAMPLES_PER_EDGE between each pair. */
function alongPolyline(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    for (let k = 0; k < SAMPLES_PER_EDGE; k++) out.push([x0 + ((x1 - x0) * k) / SAMPLES_PER_EDGE, y0 + ((y1 - y0) * k) / SAMPLES_PER_EDGE]);
  }
  out.push(points[points.length - 1]);
  return out;
}

function distanceToPolyline(p: Point, points: readonly Point[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 1; i < points.length; i++) best = Math.min(best, distanceToSegment(p, points[i - 1], points[i]));
  return best;
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Whether the side a line calls "in" is the zone's inside: a point just off the middle of its longest segment, on that side. */
function inSideIsInside(points: readonly Point[], side: 'left' | 'right', poly: readonly Point[], tol: number): boolean {
  const seg = longestSegment(points);
  if (!seg) return false;
  const [nx, ny] = sideNormal(seg.dx, seg.dy, side);
  const step = Math.max(2 * tol, 1e-6);
  return pointInPolygon([(seg.a[0] + seg.b[0]) / 2 + nx * step, (seg.a[1] + seg.b[1]) / 2 + ny * step], poly);
}

function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
