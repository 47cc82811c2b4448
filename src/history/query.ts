/**
 * Reads from the history database: which cameras and zones have history, a
 * range of samples in buckets of `step` seconds, alert transitions, and a
 * zone's peak over a range. Per-second rows and per-minute rows (past the
 * rollup) are read together; a bucket's mean is weighted by frames.
 */
import type { Database as DatabaseType } from 'better-sqlite3';
import type { LineBuckets, ZoneBuckets } from './buckets.js';

export interface SeriesInfo {
  camera: string;
  zone: string;
  /** Epoch seconds of the first and last sample kept (null: none, only alerts). */
  first: number | null;
  last: number | null;
}

export interface AlertRow {
  camera: string;
  zone: string;
  timeMs: number;
  state: number;
  previous: number;
  rule: string;
  metric: string;
  value: number | null;
}

interface BucketRow {
  b: number;
  f: number;
  pm: number;
  mx: number;
  sm: number | null;
  sf: number;
  st: number;
}

export class HistoryQueries {
  constructor(private readonly db: DatabaseType) {}

  series(): SeriesInfo[] {
    return this.db
      .prepare<unknown[], SeriesInfo>(
        `SELECT s.camera, s.zone,
           min((SELECT min(t) FROM coarse WHERE series = s.id), (SELECT min(t) FROM fine WHERE series = s.id)) AS first,
           max((SELECT max(t) FROM coarse WHERE series = s.id), (SELECT max(t) FROM fine WHERE series = s.id)) AS last
         FROM series s ORDER BY s.camera, s.zone`,
      )
      .all()
      .map((r) => ({ ...r, first: r.first ?? r.last ?? null, last: r.last ?? r.first ?? null }));
  }

  private seriesIds(camera: string, zone: string | undefined): Array<{ id: number; camera: string; zone: string }> {
    return zone === undefined
      ? this.db
          .prepare<unknown[], { id: number; camera: string; zone: string }>('SELECT id, camera, zone FROM series WHERE camera = ? ORDER BY zone')
          .all(camera)
      : this.db
          .prepare<unknown[], { id: number; camera: string; zone: string }>('SELECT id, camera, zone FROM series WHERE camera = ? AND zone = ?')
          .all(camera, zone);
  }

  /** Samples with from <= t < to (epoch seconds) in buckets of stepS; one entry per zone with history (all of the camera's without a zone). */
  history(q: { camera: string; zone?: string; fromS: number; toS: number; stepS: number }): ZoneBuckets[] {
    // Steps of whole hours over whole hours read the per-hour rows (kept current at write time).
    const hourly = q.stepS % 3600 === 0 && q.fromS % 3600 === 0 && q.toS % 3600 === 0;
    const stmt = hourly
      ? this.db.prepare<Record<string, number>, BucketRow>(
          `SELECT t - (t % @step) AS b, sum(frames) AS f, sum(people_mean * frames) AS pm, max(people_max) AS mx,
             sum(smoothed * frames) AS sm, sum(CASE WHEN smoothed IS NULL THEN 0 ELSE frames END) AS sf, max(state) AS st
           FROM hourly WHERE series = @series AND t >= @from AND t < @to GROUP BY b ORDER BY b`,
        )
      : this.db.prepare<Record<string, number>, BucketRow>(
          `SELECT t - (t % @step) AS b, sum(frames) AS f, sum(people_mean * frames) AS pm, max(people_max) AS mx,
         sum(smoothed * frames) AS sm, sum(CASE WHEN smoothed IS NULL THEN 0 ELSE frames END) AS sf, max(state) AS st
       FROM (SELECT t, frames, people_mean, people_max, smoothed, state FROM fine WHERE series = @series AND t >= @from AND t < @to
             UNION ALL
             SELECT t, frames, people_mean, people_max, smoothed, state FROM coarse WHERE series = @series AND t >= @from AND t < @to)
       GROUP BY b ORDER BY b`,
        );
    return this.seriesIds(q.camera, q.zone).map((s) => {
      const out: ZoneBuckets = { camera: s.camera, zone: s.zone, time: [], frames: [], people_mean: [], people_max: [], smoothed: [], state: [] };
      for (const r of stmt.iterate({ series: s.id, from: q.fromS, to: q.toS, step: q.stepS })) {
        out.time.push(r.b);
        out.frames.push(r.f);
        out.people_mean.push(r.pm / r.f);
        out.people_max.push(r.mx);
        out.smoothed.push(r.sm === null || r.sf === 0 ? null : r.sm / r.sf);
        out.state.push(r.st);
      }
      return out;
    });
  }

  /** Lines with crossings in the database: (camera, line) pairs. */
  lineSeries(): Array<{ camera: string; line: string }> {
    return this.db.prepare<unknown[], { camera: string; line: string }>('SELECT camera, line FROM line_series ORDER BY camera, line').all();
  }

  /** Crossings with from <= t < to (epoch seconds) summed in buckets of stepS; one entry per line with history (all of the camera's without a line). */
  lines(q: { camera: string; line?: string; fromS: number; toS: number; stepS: number }): LineBuckets[] {
    const ids =
      q.line === undefined
        ? this.db
            .prepare<unknown[], { id: number; camera: string; line: string }>('SELECT id, camera, line FROM line_series WHERE camera = ? ORDER BY line')
            .all(q.camera)
        : this.db
            .prepare<unknown[], { id: number; camera: string; line: string }>('SELECT id, camera, line FROM line_series WHERE camera = ? AND line = ?')
            .all(q.camera, q.line);
    const stmt = this.db.prepare<Record<string, number>, { b: number; pin: number; pout: number }>(
      `SELECT t - (t % @step) AS b, sum(people_in) AS pin, sum(people_out) AS pout
       FROM (SELECT t, people_in, people_out FROM line_fine WHERE series = @series AND t >= @from AND t < @to
             UNION ALL
             SELECT t, people_in, people_out FROM line_coarse WHERE series = @series AND t >= @from AND t < @to)
       GROUP BY b ORDER BY b`,
    );
    return ids.map((s) => {
      const out: LineBuckets = { camera: s.camera, line: s.line, time: [], in: [], out: [] };
      for (const r of stmt.iterate({ series: s.id, from: q.fromS, to: q.toS, step: q.stepS })) {
        out.time.push(r.b);
        out.in.push(r.pin);
        out.out.push(r.pout);
      }
      return out;
    });
  }

  /** Alert transitions with fromMs <= time < toMs, newest first, at most limit. */
  alerts(q: { camera?: string; zone?: string; fromMs: number; toMs: number; states?: number[]; limit: number }): AlertRow[] {
    const where = ['a.t_ms >= @from', 'a.t_ms < @to'];
    const params: Record<string, number | string> = { from: q.fromMs, to: q.toMs, limit: q.limit };
    if (q.camera !== undefined) {
      where.push('s.camera = @camera');
      params.camera = q.camera;
    }
    if (q.zone !== undefined) {
      where.push('s.zone = @zone');
      params.zone = q.zone;
    }
    if (q.states && q.states.length > 0) where.push(`a.state IN (${q.states.map((v) => Number(v) | 0).join(', ')})`);
    return this.db
      .prepare<Record<string, number | string>, AlertRow>(
        `SELECT s.camera, s.zone, a.t_ms AS timeMs, a.state, a.previous, a.rule, a.metric, a.value
         FROM alerts a JOIN series s ON s.id = a.series WHERE ${where.join(' AND ')}
         ORDER BY a.t_ms DESC, a.id DESC LIMIT @limit`,
      )
      .all(params);
  }

  /** The highest people count of a zone with fromS <= t < toS, and the second it was seen (undefined: no samples). */
  peak(camera: string, zone: string, fromS: number, toS: number): { people: number; t: number } | undefined {
    const row = this.db
      .prepare<Record<string, number | string>, { people: number | null; t: number | null }>(
        `SELECT people_max AS people, t FROM (
           SELECT t, people_max FROM fine WHERE series = (SELECT id FROM series WHERE camera = @camera AND zone = @zone) AND t >= @from AND t < @to
           UNION ALL
           SELECT t, people_max FROM coarse WHERE series = (SELECT id FROM series WHERE camera = @camera AND zone = @zone) AND t >= @from AND t < @to)
         ORDER BY people_max DESC, t LIMIT 1`,
      )
      .get({ camera, zone, from: fromS, to: toS });
    return row && row.people !== null && row.t !== null ? { people: row.people, t: row.t } : undefined;
  }
}
