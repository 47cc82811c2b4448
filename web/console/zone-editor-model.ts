/**
 * The zone editor's data: zones as the form holds them (numbers as the text
 * typed, so the server's parser, not the page, says what is wrong), the
 * conversion to and from the site file's spelling, and the geometry the
 * drawing needs. No DOM here.
 */
import type { ZoneEntry, ZoneRule } from './zones-api.js';

export type Point = [number, number];

export interface RuleDraft {
  level: string;
  metric: string;
  above: string;
  for_s: string;
  clear_below: string;
  clear_for_s: string;
}

export interface ZoneDraft {
  /** Stable for the page (keys, selection); never sent. */
  key: number;
  name: string;
  polygon: Point[];
  capacity: string;
  smoothing_s: string;
  alerts: RuleDraft[];
}

let nextKey = 1;

const text = (value: number | string | null | undefined): string => (value === undefined || value === null ? '' : String(value));

export function toDraft(zone: ZoneEntry): ZoneDraft {
  return {
    key: nextKey++,
    name: zone.name,
    polygon: zone.polygon.map(([x, y]) => [x, y]),
    capacity: text(zone.capacity),
    smoothing_s: text(zone.smoothing_s),
    alerts: (zone.alerts ?? []).map((r) => ({
      level: text(r.level),
      metric: text(r.metric ?? 'smoothed'),
      above: text(r.above),
      for_s: text(r.for_s),
      clear_below: text(r.clear_below),
      clear_for_s: text(r.clear_for_s),
    })),
  };
}

/** A typed number, or what was typed when it is not one (the server says why), or absent when empty. */
function number(value: string): number | string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/** The zone as the site file spells it; empty fields are left out (their defaults apply). */
export function fromDraft(draft: ZoneDraft): ZoneEntry {
  const zone: ZoneEntry = { name: draft.name.trim(), polygon: draft.polygon.map(([x, y]) => [x, y]) };
  const capacity = number(draft.capacity);
  if (capacity !== undefined) zone.capacity = capacity;
  const smoothing = number(draft.smoothing_s);
  if (smoothing !== undefined) zone.smoothing_s = smoothing;
  if (draft.alerts.length > 0) {
    zone.alerts = draft.alerts.map((r) => {
      const rule: ZoneRule = { level: r.level, metric: r.metric };
      for (const key of ['above', 'for_s', 'clear_below', 'clear_for_s'] as const) {
        const value = number(r[key]);
        if (value !== undefined) rule[key] = value;
      }
      return rule;
    });
  }
  return zone;
}

export function newRule(): RuleDraft {
  return { level: 'warning', metric: 'smoothed', above: '', for_s: '10', clear_below: '', clear_for_s: '' };
}

/** `zone-1`, `zone-2`...: the first not taken. */
export function freeName(zones: readonly ZoneDraft[]): string {
  const taken = new Set(zones.map((z) => z.name));
  for (let i = 1; ; i++) if (!taken.has(`zone-${i}`)) return `zone-${i}`;
}

export function newZone(zones: readonly ZoneDraft[], polygon: Point[]): ZoneDraft {
  return { key: nextKey++, name: freeName(zones), polygon, capacity: '', smoothing_s: '', alerts: [] };
}

/** Whole pixels inside the image: site files are read by people. */
export function snap([x, y]: Point, space: { width: number; height: number }): Point {
  return [Math.round(Math.min(space.width, Math.max(0, x))), Math.round(Math.min(space.height, Math.max(0, y)))];
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** A polygon moved by (dx, dy), kept inside the image as a whole (its shape never changes). */
export function translate(polygon: readonly Point[], dx: number, dy: number, space: { width: number; height: number }): Point[] {
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  const cx = Math.min(space.width - Math.max(...xs), Math.max(-Math.min(...xs), Math.round(dx)));
  const cy = Math.min(space.height - Math.max(...ys), Math.max(-Math.min(...ys), Math.round(dy)));
  return polygon.map(([x, y]) => [x + cx, y + cy]);
}

/** The mean of the corners (where the name label goes). */
export function centre(polygon: readonly Point[]): Point {
  let x = 0;
  let y = 0;
  for (const [px, py] of polygon) {
    x += px;
    y += py;
  }
  return [x / polygon.length, y / polygon.length];
}

/** Where a server error points, as the form's field names: `capacity`, `alerts.0.above`; zone-level ones as ''. */
export interface FieldError {
  zone: number | undefined;
  field: string;
  message: string;
}

/** Where the loader's messages say where (`camera "x", zone "y", field alerts, [0], field above: `); names never hold quotes. */
const LOCATION = /^camera "[^"]*"(?:, (?:zone|line) (?:"[^"]*"|#\d+))?(?:, (?:field \w+|\[\d+\]))*: /;

/** The loader's message without the file and location, for beside the field it is about. */
export function shortMessage(message: string): string {
  const afterFile = message.slice(message.indexOf(': ') + 2);
  const where = LOCATION.exec(afterFile);
  return where ? afterFile.slice(where[0].length) : afterFile;
}
