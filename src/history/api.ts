/**
 * The history HTTP API (docs/api.md), independent of the HTTP server that
 * mounts it: a request is a path, its query and the Accept header; the
 * answer is a status, a content type and a body. Every parameter is parsed
 * and bounded (zod); a bad one is a 400 naming it and saying why.
 */
import { z } from 'zod';
import { zoneAlertStateName, type ZoneAlertStateCode } from '../framing/index.js';
import { isValidName, NAME_RULE } from '../common/camera-name.js';
import type { SiteConfig } from '../zones/site-file.js';
import { API_STEPS, bucketCount, stepFor } from './buckets.js';
import type { HistoryStore } from './store.js';
import type { Clock } from './types.js';

export interface ApiLimits {
  /** Longest from..to of one request. */
  maxRangeS: number;
  /** Most points (buckets x zones) one history request may return. */
  maxPoints: number;
  /** Most alert transitions one request may return. */
  maxAlerts: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = { maxRangeS: 31 * 86_400, maxPoints: 100_000, maxAlerts: 5_000 };

/** Buckets of a request without a step: the least step of API_STEPS that keeps within it. */
const DEFAULT_POINTS = 1000;
const DEFAULT_RANGE_S = 3600;
const DEFAULT_ALERTS = 500;

export interface ApiRequest {
  /** e.g. /api/v1/history */
  path: string;
  query: URLSearchParams;
  accept?: string;
}

export interface ApiResponse {
  status: number;
  contentType: 'application/json; charset=utf-8' | 'text/csv; charset=utf-8';
  body: string;
  /** A file name for CSV downloads (Content-Disposition). */
  filename?: string;
}

export interface HistoryApiDeps {
  /** The site file in force (absent: no --site). */
  site: () => SiteConfig | undefined;
  /** Absent: history is off (--history off, no --site, or it could not start). */
  store?: HistoryStore;
  clock: Clock;
  limits: ApiLimits;
}

const name = (what: string) => z.string().refine(isValidName, `${what} must be a camera or zone name as in the site file (${NAME_RULE})`);
const lineName = z.string().refine(isValidName, `line must be a line name as in the site file (${NAME_RULE})`);

/** An ISO 8601 time with a zone (2026-12-07T05:00:00Z) or epoch seconds; returns epoch ms. */
const time = (what: string) =>
  z.string().transform((text, ctx) => {
    const ms = /^-?\d+(\.\d+)?$/.test(text)
      ? Number(text) * 1000
      : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)
        ? Date.parse(text)
        : Number.NaN;
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${what} must be an ISO 8601 time with a zone (2026-12-07T05:00:00Z) or epoch seconds, got ${JSON.stringify(text.slice(0, 40))}`,
      });
      return z.NEVER;
    }
    return ms;
  });

const rangeFields = {
  from: time('from').optional(),
  to: time('to').optional(),
  format: z.enum(['json', 'csv']).optional(),
};

const historySchema = z
  .object({
    camera: name('camera'),
    zone: name('zone').optional(),
    step: z
      .string()
      .regex(/^\d{1,9}$/, 'step must be a whole number of seconds')
      .transform(Number)
      .refine((v) => v >= 1, 'step must be at least 1 second')
      .optional(),
    ...rangeFields,
  })
  .strict();

const linesSchema = z
  .object({
    camera: name('camera'),
    line: lineName.optional(),
    step: historySchema.shape.step,
    ...rangeFields,
  })
  .strict();

const STATES = { ok: 0, warning: 1, alarm: 2 } as const;

const alertsSchema = z
  .object({
    camera: name('camera').optional(),
    zone: name('zone').optional(),
    state: z
      .string()
      .regex(/^(ok|warning|alarm)(,(ok|warning|alarm))*$/, 'state must be ok, warning, alarm or a comma-separated list of them')
      .transform((s) => [...new Set(s.split(','))].map((v) => STATES[v as keyof typeof STATES]))
      .optional(),
    limit: z
      .string()
      .regex(/^\d{1,9}$/, 'limit must be a whole number')
      .transform(Number)
      .optional(),
    ...rangeFields,
  })
  .strict()
  .refine((q) => q.zone === undefined || q.camera !== undefined, { message: 'zone needs camera', path: ['zone'] });

class BadRequest extends Error {}

export class HistoryApi {
  constructor(private readonly deps: HistoryApiDeps) {}

  /** The API's answer, or undefined when the path is not one of its routes. */
  handle(req: ApiRequest): ApiResponse | undefined {
    try {
      switch (req.path) {
        case '/api/v1/cameras':
          return this.cameras(req);
        case '/api/v1/history':
          return this.history(req);
        case '/api/v1/alerts':
          return this.alerts(req);
        case '/api/v1/lines':
          return this.lines(req);
        default:
          return undefined;
      }
    } catch (err) {
      if (err instanceof BadRequest) return json(400, { error: err.message });
      throw err;
    }
  }

  private cameras(req: ApiRequest): ApiResponse {
    if ([...req.query.keys()].length > 0) throw new BadRequest(`unknown parameter ${JSON.stringify([...req.query.keys()][0])}: /api/v1/cameras takes none`);
    const now = this.deps.clock.now();
    const dayStart = new Date(now);
    dayStart.setHours(0, 0, 0, 0);
    const fromS = Math.floor(dayStart.getTime() / 1000);
    const store = this.deps.store;
    const site = this.deps.site();
    const seen = new Set<string>();
    const cameras = [...(site?.cameras.values() ?? [])].map((cam) => ({
      name: cam.name,
      in_site: true,
      width: cam.reference?.width ?? null,
      height: cam.reference?.height ?? null,
      zones: cam.zones.map((z) => {
        seen.add(`${cam.name}\u0000${z.name}`);
        const latest = store?.recorder.latestReading(cam.name, z.name);
        const peak = store?.queries.peak(cam.name, z.name, fromS, Math.floor(now / 1000) + 1);
        return {
          name: z.name,
          id: z.id,
          in_site: true,
          polygon: z.polygon,
          capacity: z.capacity ?? null,
          smoothing_s: z.smoothingS,
          rules: z.rules.map((r) => ({
            level: zoneAlertStateName(r.level),
            metric: r.metric,
            above: r.above,
            for_s: r.forMs / 1000,
            clear_below: r.clearBelow,
            clear_for_s: r.clearForMs / 1000,
          })),
          now: latest
            ? {
                time: iso(latest.timeMs),
                people: round(latest.people),
                smoothed: finite(latest.smoothed),
                occupancy: finite(latest.occupancy),
                state: zoneAlertStateName(latest.state as ZoneAlertStateCode),
              }
            : null,
          peak_today: peak ? { time: iso(peak.t * 1000), people: round(peak.people) } : null,
        };
      }),
      lines: cam.lines.map((l) => ({ name: l.name, id: l.id, points: l.points, in: l.in, band_px: l.bandPx ?? null })),
    }));
    // Zones that have history but are no longer in the site file can still be charted.
    const gone = new Map<string, Array<{ name: string; in_site: false }>>();
    for (const s of store?.queries.series() ?? []) {
      if (seen.has(`${s.camera}\u0000${s.zone}`)) continue;
      const list = gone.get(s.camera) ?? [];
      list.push({ name: s.zone, in_site: false });
      gone.set(s.camera, list);
    }
    const all: Array<{ name: string; in_site: boolean; zones: unknown[] }> = cameras;
    for (const [camera, zones] of gone) {
      const known = all.find((c) => c.name === camera);
      if (known) known.zones.push(...zones);
      else all.push({ name: camera, in_site: false, zones });
    }
    return json(200, { time: iso(now), day_start: iso(dayStart.getTime()), history: store !== undefined, cameras: all });
  }

  private range(q: { from?: number; to?: number }): { fromMs: number; toMs: number } {
    const toMs = q.to ?? this.deps.clock.now();
    const fromMs = q.from ?? toMs - DEFAULT_RANGE_S * 1000;
    if (!(fromMs < toMs)) throw new BadRequest('from must be before to');
    if (toMs - fromMs > this.deps.limits.maxRangeS * 1000) {
      throw new BadRequest(
        `from..to spans ${Math.ceil((toMs - fromMs) / 86_400_000)} days, over the limit of ${this.deps.limits.maxRangeS / 86_400} days (--api-max-range-days)`,
      );
    }
    return { fromMs, toMs };
  }

  /**
   * The range in whole seconds and the step (asked, or the least of API_STEPS that keeps DEFAULT_POINTS), refused
   * when steps x series would be over --api-max-points: the answer says which step would fit.
   */
  private buckets(q: { from?: number; to?: number; step?: number }, seriesCount: number, noun: 'zone' | 'line'): { fromS: number; toS: number; step: number } {
    const { fromMs, toMs } = this.range(q);
    const fromS = Math.floor(fromMs / 1000);
    const toS = Math.ceil(toMs / 1000);
    const spanS = toS - fromS;
    const step = q.step ?? stepFor(spanS, DEFAULT_POINTS, API_STEPS);
    const series = Math.max(1, seriesCount);
    const points = bucketCount(spanS, step) * series;
    if (points > this.deps.limits.maxPoints) {
      const least = Math.ceil((spanS * series) / this.deps.limits.maxPoints);
      throw new BadRequest(
        `${points} points (${bucketCount(spanS, step)} steps x ${series} ${noun}(s)) is over the limit of ${this.deps.limits.maxPoints} per request (--api-max-points): use step >= ${least} or a shorter range`,
      );
    }
    return { fromS, toS, step };
  }

  private history(req: ApiRequest): ApiResponse {
    const q = parse(historySchema, req.query);
    const store = this.requireStore();
    const { fromS, toS, step } = this.buckets(q, q.zone === undefined ? this.zoneCount(q.camera) : 1, 'zone');
    // Hour-wide buckets over whole hours are read from the per-hour rows.
    const whole = step % 3600 === 0;
    const series = store.queries.history({
      camera: q.camera,
      zone: q.zone,
      fromS: whole ? fromS - (fromS % 3600) : fromS,
      toS: whole ? Math.ceil(toS / 3600) * 3600 : toS,
      stepS: step,
    });
    if (wantsCsv(req, q.format)) {
      const lines = ['camera,zone,time,epoch_s,frames,people_mean,people_max,smoothed,state'];
      for (const s of series) {
        s.time.forEach((t, i) => {
          const smoothed = s.smoothed[i];
          lines.push(
            [
              csv(s.camera),
              csv(s.zone),
              iso(t * 1000),
              t,
              s.frames[i],
              round(s.people_mean[i]),
              round(s.people_max[i]),
              smoothed === null ? '' : round(smoothed),
              zoneAlertStateName(s.state[i] as ZoneAlertStateCode),
            ].join(','),
          );
        });
      }
      return {
        status: 200,
        contentType: 'text/csv; charset=utf-8',
        body: lines.join('\n') + '\n',
        filename: `crowdline-${safeFile(q.camera)}${q.zone ? `-${safeFile(q.zone)}` : ''}-history.csv`,
      };
    }
    return json(200, {
      from: iso(fromS * 1000),
      to: iso(toS * 1000),
      step,
      series: series.map((s) => ({
        camera: s.camera,
        zone: s.zone,
        time: s.time,
        frames: s.frames,
        people_mean: s.people_mean.map(round),
        people_max: s.people_max.map(round),
        smoothed: s.smoothed.map((v) => (v === null ? null : round(v))),
        state: s.state,
      })),
    });
  }

  /** A line's crossings in buckets (docs/api.md): the same range, step and point limits as history. */
  private lines(req: ApiRequest): ApiResponse {
    const q = parse(linesSchema, req.query);
    const store = this.requireStore();
    const { fromS, toS, step } = this.buckets(q, q.line === undefined ? this.lineCount(q.camera) : 1, 'line');
    const series = store.queries.lines({ camera: q.camera, line: q.line, fromS, toS, stepS: step });
    if (wantsCsv(req, q.format)) {
      const rows = ['camera,line,time,epoch_s,in,out,net'];
      for (const s of series) {
        s.time.forEach((t, i) =>
          rows.push([csv(s.camera), csv(s.line), iso(t * 1000), t, round(s.in[i]), round(s.out[i]), round(s.in[i] - s.out[i])].join(',')),
        );
      }
      return {
        status: 200,
        contentType: 'text/csv; charset=utf-8',
        body: rows.join('\n') + '\n',
        filename: `crowdline-${safeFile(q.camera)}${q.line ? `-${safeFile(q.line)}` : ''}-lines.csv`,
      };
    }
    return json(200, {
      from: iso(fromS * 1000),
      to: iso(toS * 1000),
      step,
      series: series.map((s) => ({
        camera: s.camera,
        line: s.line,
        time: s.time,
        in: s.in.map(round),
        out: s.out.map(round),
        net: s.in.map((v, i) => round(v - s.out[i])),
      })),
    });
  }

  private lineCount(camera: string): number {
    const inSite = this.deps.site()?.cameras.get(camera)?.lines.length ?? 0;
    const stored = this.deps.store?.queries.lineSeries().filter((s) => s.camera === camera).length ?? 0;
    return Math.max(inSite, stored);
  }

  private alerts(req: ApiRequest): ApiResponse {
    const q = parse(alertsSchema, req.query);
    const store = this.requireStore();
    const { fromMs, toMs } = this.range(q);
    const limit = q.limit ?? Math.min(DEFAULT_ALERTS, this.deps.limits.maxAlerts);
    if (limit < 1 || limit > this.deps.limits.maxAlerts)
      throw new BadRequest(`limit must be 1..${this.deps.limits.maxAlerts} (--api-max-alerts), got ${limit}`);
    // One more than asked says whether the list was cut.
    const rows = store.queries.alerts({ camera: q.camera, zone: q.zone, fromMs, toMs, states: q.state, limit: limit + 1 });
    const truncated = rows.length > limit;
    const alerts = rows.slice(0, limit).map((a) => ({
      camera: a.camera,
      zone: a.zone,
      time: iso(a.timeMs),
      state: zoneAlertStateName(a.state as ZoneAlertStateCode),
      previous: zoneAlertStateName(a.previous as ZoneAlertStateCode),
      rule: a.rule,
      metric: a.metric,
      value: a.value === null ? null : round(a.value),
    }));
    if (wantsCsv(req, q.format)) {
      const lines = ['camera,zone,time,state,previous,rule,metric,value'];
      for (const a of alerts) lines.push([csv(a.camera), csv(a.zone), a.time, a.state, a.previous, csv(a.rule), a.metric, a.value ?? ''].join(','));
      return { status: 200, contentType: 'text/csv; charset=utf-8', body: lines.join('\n') + '\n', filename: 'crowdline-alerts.csv' };
    }
    return json(200, { from: iso(fromMs), to: iso(toMs), limit, truncated, alerts });
  }

  private zoneCount(camera: string): number {
    const inSite = this.deps.site()?.cameras.get(camera)?.zones.length ?? 0;
    const stored = this.deps.store?.queries.series().filter((s) => s.camera === camera).length ?? 0;
    return Math.max(inSite, stored);
  }

  private requireStore(): HistoryStore {
    if (!this.deps.store) throw new BadRequest('history is off on this server (no --site, --history off, or its database could not be opened: see the log)');
    return this.deps.store;
  }
}

function parse<T extends z.ZodTypeAny>(schema: T, query: URLSearchParams): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in raw) throw new BadRequest(`${k} is given more than once`);
    raw[k] = v;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data as z.output<T>;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') throw new BadRequest(`unknown parameter ${JSON.stringify(issue.keys[0])}`);
  const field = issue.path.join('.');
  throw new BadRequest(issue.message.startsWith(field) || field === '' ? issue.message : `${field}: ${issue.message}`);
}

function wantsCsv(req: ApiRequest, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  return /(^|,)\s*text\/csv\b/.test(req.accept ?? '');
}

function json(status: number, body: unknown): ApiResponse {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
const finite = (v: number): number | null => (Number.isFinite(v) ? round(v) : null);
const iso = (ms: number): string => new Date(ms).toISOString();
const safeFile = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** A CSV field: quoted when needed, and a leading = + - @ neutralised so a spreadsheet does not run it as a formula. */
function csv(text: string): string {
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
