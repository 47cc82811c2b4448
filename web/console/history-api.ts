/**
 * The history API (docs/api.md) as the console's history pages use it:
 * typed answers, the URLs they are fetched from (the CSV link is the same
 * URL with format=csv, so a download holds exactly the rows on the screen),
 * the chart's range picks, the step each one uses (from the steps in
 * src/history/buckets.ts, which the server's API shares) and how often each
 * is fetched again. Zones' and lines' charts share all of it.
 */
import { bucketCount, CHART_STEPS, type LineBuckets, stepFor as bucketsStepFor, stepAtLeast, type ZoneBuckets } from '../../src/history/buckets.js';
import type { AlertState } from './wire.js';

export interface ZoneRule {
  level: 'warning' | 'alarm';
  metric: 'people' | 'smoothed' | 'occupancy';
  above: number;
  for_s: number;
  clear_below: number;
  clear_for_s: number;
}

export interface ZoneNow {
  time: string;
  people: number;
  smoothed: number | null;
  occupancy: number | null;
  state: AlertState;
}

/** A zone of /api/v1/cameras: in the site file (all fields), or one that only has history left. */
export interface SiteZone {
  name: string;
  in_site: boolean;
  id?: number;
  capacity?: number | null;
  smoothing_s?: number;
  rules?: ZoneRule[];
  now?: ZoneNow | null;
  peak_today?: { time: string; people: number } | null;
}

/** A counting line of /api/v1/cameras, as the site file has it. */
export interface SiteLine {
  name: string;
  id: number;
  points: Array<[number, number]>;
  in: 'left' | 'right';
  band_px: number | null;
}

export interface SiteCamera {
  name: string;
  in_site: boolean;
  zones: SiteZone[];
  /** Absent for a camera no longer in the site file. */
  lines?: SiteLine[];
}

export interface CamerasAnswer {
  time: string;
  day_start: string;
  history: boolean;
  cameras: SiteCamera[];
}

/** One zone's buckets, the columns the server's query returns (src/history/buckets.ts). */
export type Series = ZoneBuckets;

export interface HistoryAnswer {
  from: string;
  to: string;
  step: number;
  series: Series[];
}

/** One line's buckets (src/history/buckets.ts) and the API's net (in - out) per bucket. */
export type LineSeries = LineBuckets & { net: number[] };

export interface LinesAnswer {
  from: string;
  to: string;
  step: number;
  series: LineSeries[];
}

export interface AlertRow {
  camera: string;
  zone: string;
  time: string;
  state: AlertState;
  previous: AlertState;
  rule: string;
  metric: string;
  value: number | null;
}

export interface AlertsAnswer {
  from: string;
  to: string;
  limit: number;
  truncated: boolean;
  alerts: AlertRow[];
}

/** The chart's ranges, shortest first; the key is what the page's address carries (#/chart/hall/entry/6h). */
export const RANGES = [
  { key: '10m', label: '10 min', seconds: 600 },
  { key: '1h', label: '1 h', seconds: 3600 },
  { key: '6h', label: '6 h', seconds: 6 * 3600 },
  { key: '24h', label: '24 h', seconds: 86_400 },
  { key: '7d', label: '7 d', seconds: 7 * 86_400 },
  { key: '30d', label: '30 d', seconds: 30 * 86_400 },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];

export function rangeFor(key: string | undefined): (typeof RANGES)[number] {
  return RANGES.find((r) => r.key === key) ?? RANGES[1];
}

/** Points one zone's chart asks for at most: the API's default bucket count, well under --api-max-points. */
export const CHART_POINTS = 1000;

/** The smallest step that keeps `seconds` within CHART_POINTS buckets (10 min: 1 s; 30 d: 1 h). */
export function stepFor(seconds: number, points = CHART_POINTS): number {
  return bucketsStepFor(seconds, points, CHART_STEPS);
}

/**
 * The chart's step for a server whose --api-max-points is under a chart's points: its 400 says the least step that
 * fits ("... use step >= 8 or a shorter range", docs/api.md); the next step of the ladder at or above it.
 */
export function stepFromRefusal(err: unknown): number | undefined {
  const least = err instanceof ApiError && err.status === 400 ? /use step >= (\d+)/.exec(err.message) : null;
  return least ? stepAtLeast(Number(least[1]), CHART_STEPS) : undefined;
}

/** How often a range is fetched again while shown (its end moves with the clock); long ranges stay put. */
export function refreshMs(seconds: number): number | undefined {
  if (seconds <= 3600) return 10_000;
  if (seconds <= 86_400) return 60_000;
  return undefined;
}

export interface Window {
  /** Epoch seconds, inclusive. */
  from: number;
  /** Epoch seconds, exclusive. */
  to: number;
  step: number;
}

/** The last `seconds` up to now, its ends on step boundaries so a reload a moment later asks for the same buckets. */
export function windowEndingNow(seconds: number, nowMs = Date.now(), step = stepFor(seconds)): Window {
  const to = Math.ceil(nowMs / 1000 / step) * step;
  return { from: to - bucketCount(seconds, step) * step, to, step };
}

export function historyUrl(camera: string, zone: string, w: Window, format?: 'csv'): string {
  const q = new URLSearchParams({ camera, zone, from: String(w.from), to: String(w.to), step: String(w.step) });
  if (format) q.set('format', format);
  return `/api/v1/history?${q.toString()}`;
}

/** A camera's crossings (every line of it without `line`) in buckets of the window's step. */
export function linesUrl(camera: string, line: string | undefined, w: Window, format?: 'csv'): string {
  const q = new URLSearchParams({ camera });
  if (line !== undefined) q.set('line', line);
  q.set('from', String(w.from));
  q.set('to', String(w.to));
  q.set('step', String(w.step));
  if (format) q.set('format', format);
  return `/api/v1/lines?${q.toString()}`;
}

export interface AlertFilter {
  camera?: string;
  zone?: string;
  /** States entered; empty: all. */
  states?: AlertState[];
  /** Epoch seconds. */
  from: number;
  to: number;
  limit?: number;
}

export function alertsUrl(f: AlertFilter, format?: 'csv'): string {
  const q = new URLSearchParams({ from: String(f.from), to: String(f.to) });
  if (f.camera) q.set('camera', f.camera);
  if (f.camera && f.zone) q.set('zone', f.zone);
  if (f.states && f.states.length > 0 && f.states.length < 3) q.set('state', f.states.join(','));
  if (f.limit !== undefined) q.set('limit', String(f.limit));
  if (format) q.set('format', format);
  return `/api/v1/alerts?${q.toString()}`;
}

/** An API error: the server's own reason (400 says which parameter and why). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(url, { credentials: 'same-origin', signal, headers: { accept: 'application/json' } });
  if (!r.ok) {
    const body = (await r.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(r.status, body.error ?? `${r.status} ${r.statusText}`);
  }
  return (await r.json()) as T;
}

/**
 * The last `seconds` as a chart asks for them: its window ending now (in `step`, or the range's own) and the API's
 * answer for it. A server with a lower --api-max-points refuses the step with the least one that fits; the window is
 * then asked again with that (a page passes the window's step to its next refresh, so it is refused only once).
 */
export async function getWindow<T>(
  seconds: number,
  url: (w: Window) => string,
  signal?: AbortSignal,
  firstStep?: number,
): Promise<{ window: Window; answer: T }> {
  let step = firstStep;
  for (;;) {
    const window = windowEndingNow(seconds, Date.now(), step);
    try {
      return { window, answer: await getJson<T>(url(window), signal) };
    } catch (err) {
      const coarser = stepFromRefusal(err);
      if (coarser === undefined || coarser <= window.step) throw err;
      step = coarser;
    }
  }
}

export const getCameras = (signal?: AbortSignal): Promise<CamerasAnswer> => getJson<CamerasAnswer>('/api/v1/cameras', signal);

export function chartHref(camera: string, zone: string, range?: string): string {
  return `#/chart/${encodeURIComponent(camera)}/${encodeURIComponent(zone)}${range ? `/${range}` : ''}`;
}

/** A counting line's chart: #/line/CAMERA/LINE/RANGE. */
export function lineChartHref(camera: string, line: string, range?: string): string {
  return `#/line/${encodeURIComponent(camera)}/${encodeURIComponent(line)}${range ? `/${range}` : ''}`;
}
