/**
 * The history store: the recorder's per-second samples and alert transitions
 * are written from the main thread in one transaction per flush (every
 * second, never in the frame path), so a killed process loses at most the
 * last two seconds. Once a minute, and at start, maintenance rolls seconds up
 * into minutes, deletes what is past retention and keeps the file under its
 * cap, a bounded chunk at a time so the event loop is never held long.
 * A write that fails (full disk, file-size limit, I/O error) stops writes
 * with a log line and a metric; serving is untouched and writes are retried.
 */
import { statSync } from 'node:fs';
import type { Database as DatabaseType, Statement } from 'better-sqlite3';
import type { LogSink } from '../log/logger.js';
import { openHistoryDb, sqliteCode } from './open-db.js';
import { HistoryQueries } from './query.js';
import { LineRecorder, type LineSecond } from './line-recorder.js';
import { HistoryRecorder, type AlertRecord, type SecondSample } from './recorder.js';
import { SYSTEM_CLOCK, type Clock, type HistoryCounters, type HistoryLimits, type WriteFailure } from './types.js';

export interface HistoryStoreOptions {
  dir: string;
  limits: HistoryLimits;
  log: LogSink;
  clock?: Clock;
  counters?: HistoryCounters;
  /** How often pending samples are written (default 1000 ms: a kill loses at most ~2 s). */
  flushIntervalMs?: number;
  /** How often rollup, retention and the size cap run (default 60 s). */
  maintenanceIntervalMs?: number;
  /** After a failed write, how long writes stay off before the next try (default 30 s). */
  retryMs?: number;
}

/** Seconds per chunk of rollup or deletion: an hour of seconds for 100 zones is 360,000 rows, a few hundred ms. */
const ROLLUP_CHUNK_S = 600;
const DELETE_CHUNK_S = 6 * 3600;
/** After trimming for the cap, the file is brought to this fraction of it, so trimming is not needed every second. */
const CAP_LOW_WATER = 0.9;

interface FineRow {
  series: number;
  t: number;
  frames: number;
  mean: number;
  max: number;
  smoothed: number | null;
  state: number;
}

interface Statements {
  series: Statement<[string, string], { id: number }>;
  addSeries: Statement<[string, string]>;
  upsertFine: Statement<[FineRow]>;
  upsertHourly: Statement<[FineRow]>;
  addAlert: Statement<[number, number, number, number, string, string, number | null]>;
  lineSeries: Statement<[string, string], { id: number }>;
  addLineSeries: Statement<[string, string]>;
  upsertLine: Statement<[{ series: number; t: number; in: number; out: number }]>;
}

export class HistoryStore {
  readonly recorder: HistoryRecorder;
  /** Counting lines' crossings (src/lines), per second. */
  readonly lineRecorder: LineRecorder;
  readonly queries: HistoryQueries;
  readonly file: string;
  private readonly db: DatabaseType;
  private readonly stmts: Statements;
  private readonly clock: Clock;
  private readonly seriesIds = new Map<string, number>();
  private readonly lineSeriesIds = new Map<string, number>();
  private failingSince: number | undefined;
  private retryAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private maintaining = false;
  private closed = false;

  static open(options: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(options);
  }

  private constructor(private readonly options: HistoryStoreOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    const opened = openHistoryDb(options.dir, { nowMs: this.clock.now() });
    this.db = opened.db;
    this.file = opened.file;
    // A hard backstop under the trimming below: SQLite itself refuses to grow the file past the cap (+ a margin for the trim's own pages).
    const pageSize = Number(this.db.pragma('page_size', { simple: true }));
    this.db.pragma(`max_page_count = ${Math.max(256, Math.ceil((options.limits.maxBytes * 1.05) / pageSize))}`);
    if (opened.movedAside) {
      options.log(
        `history: ${opened.file} was ${opened.movedAside.why}; moved aside to ${opened.movedAside.to} (kept, not deleted) and a new database started`,
        {
          level: 'warn',
          event: 'history-moved-aside',
          reason: opened.movedAside.reason,
          moved_to: opened.movedAside.to,
        },
      );
    }
    if (opened.migrated.from !== opened.migrated.to && opened.migrated.from > 0) {
      options.log(`history: schema migrated from version ${opened.migrated.from} to ${opened.migrated.to}`, { event: 'history-migrated' });
    }
    this.stmts = {
      series: this.db.prepare<[string, string], { id: number }>('SELECT id FROM series WHERE camera = ? AND zone = ?'),
      addSeries: this.db.prepare<[string, string]>('INSERT INTO series (camera, zone) VALUES (?, ?)'),
      // A second already written by an earlier flush (a late frame) is merged into its row, so there is one row per second.
      upsertFine: this.db.prepare<[FineRow]>(`
        INSERT INTO fine (series, t, frames, people_mean, people_max, smoothed, state) VALUES (@series, @t, @frames, @mean, @max, @smoothed, @state)
        ON CONFLICT (series, t) DO UPDATE SET
          people_mean = (people_mean * frames + excluded.people_mean * excluded.frames) / (frames + excluded.frames),
          people_max = max(people_max, excluded.people_max),
          smoothed = coalesce(excluded.smoothed, smoothed),
          state = max(state, excluded.state),
          frames = frames + excluded.frames`),
      // The hour's row is kept current at write time: a month's chart in hours reads 720 rows per zone, not 43,200 minutes.
      upsertHourly: this.db.prepare<[FineRow]>(`
        INSERT INTO hourly (series, t, frames, people_mean, people_max, smoothed, state) VALUES (@series, @t - @t % 3600, @frames, @mean, @max, @smoothed, @state)
        ON CONFLICT (series, t) DO UPDATE SET
          people_mean = (people_mean * frames + excluded.people_mean * excluded.frames) / (frames + excluded.frames),
          people_max = max(people_max, excluded.people_max),
          smoothed = coalesce((smoothed * frames + excluded.smoothed * excluded.frames) / (frames + excluded.frames), excluded.smoothed, smoothed),
          state = max(state, excluded.state),
          frames = frames + excluded.frames`),
      addAlert: this.db.prepare<[number, number, number, number, string, string, number | null]>(
        'INSERT INTO alerts (series, t_ms, state, previous, rule, metric, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      lineSeries: this.db.prepare<[string, string], { id: number }>('SELECT id FROM line_series WHERE camera = ? AND line = ?'),
      addLineSeries: this.db.prepare<[string, string]>('INSERT INTO line_series (camera, line) VALUES (?, ?)'),
      upsertLine: this.db.prepare<[{ series: number; t: number; in: number; out: number }]>(`
        INSERT INTO line_fine (series, t, people_in, people_out) VALUES (@series, @t, @in, @out)
        ON CONFLICT (series, t) DO UPDATE SET people_in = people_in + excluded.people_in, people_out = people_out + excluded.people_out`),
    };
    this.recorder = new HistoryRecorder(
      this.clock,
      { maxSkewMs: options.limits.maxSkewMs, maxPendingSamples: 100_000, maxPendingAlerts: 10_000 },
      options.counters,
    );
    this.lineRecorder = new LineRecorder(this.clock, { maxSkewMs: options.limits.maxSkewMs, maxPendingSamples: 100_000 }, options.counters);
    this.queries = new HistoryQueries(this.db);
  }

  /** Starts the flush and maintenance timers (unref'd: they never keep the process alive) and runs maintenance once. */
  start(): void {
    this.flushTimer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? 1000).unref();
    this.maintenanceTimer = setInterval(() => this.maintainInSteps(), this.options.maintenanceIntervalMs ?? 60_000).unref();
    this.maintainInSteps();
  }

  /** True while writes succeed (false after a failure, until a retry succeeds). */
  get writing(): boolean {
    return this.failingSince === undefined;
  }

  /** Bytes on disk: the database file and its WAL. */
  diskBytes(): number {
    let bytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        bytes += statSync(f).size;
      } catch {
        // no WAL yet
      }
    }
    return bytes;
  }

  /** Writes everything gathered since the last flush in one transaction. */
  flush(): void {
    if (this.closed) return;
    const { samples, alerts } = this.recorder.take();
    const lines = this.lineRecorder.take();
    if (samples.length === 0 && alerts.length === 0 && lines.length === 0) return;
    const now = this.clock.now();
    if (this.failingSince !== undefined && now < this.retryAt) {
      this.options.counters?.dropped('sample', 'write-failed', samples.length);
      this.options.counters?.dropped('alert', 'write-failed', alerts.length);
      this.options.counters?.dropped('line', 'write-failed', lines.length);
      return;
    }
    try {
      this.write(samples, alerts, lines);
    } catch (err) {
      if (sqliteCode(err) === 'SQLITE_FULL' && this.overCap()) {
        // Our own max_page_count, not the disk: make room and try once more.
        this.trimToCap();
        try {
          this.write(samples, alerts, lines);
        } catch (again) {
          this.failed(again, samples.length, alerts.length, lines.length);
          return;
        }
      } else {
        this.failed(err, samples.length, alerts.length, lines.length);
        return;
      }
    }
    this.options.counters?.written('sample', samples.length);
    this.options.counters?.written('alert', alerts.length);
    this.options.counters?.written('line', lines.length);
    if (this.failingSince !== undefined) {
      this.options.log(`history: writes resumed after ${Math.round((now - this.failingSince) / 1000)} s`, { event: 'history-resumed' });
      this.failingSince = undefined;
    }
    if (this.overCap()) this.trimToCap();
  }

  private write(samples: SecondSample[], alerts: AlertRecord[], lines: LineSecond[]): void {
    this.db.transaction(() => {
      for (const s of samples) {
        const row = {
          series: this.seriesId(s.camera, s.zone),
          t: s.t,
          frames: s.frames,
          mean: s.peopleSum / s.frames,
          max: s.peopleMax,
          smoothed: s.smoothed,
          state: s.state,
        };
        this.stmts.upsertFine.run(row);
        this.stmts.upsertHourly.run(row);
      }
      for (const a of alerts) this.stmts.addAlert.run(this.seriesId(a.camera, a.zone), Math.round(a.timeMs), a.state, a.previous, a.rule, a.metric, a.value);
      for (const l of lines) this.stmts.upsertLine.run({ series: this.lineSeriesId(l.camera, l.line), t: l.t, in: l.in, out: l.out });
    })();
  }

  private failed(err: unknown, samples: number, alerts: number, lines: number): void {
    const reason = failureReason(err);
    const now = this.clock.now();
    this.options.counters?.writeFailed(reason);
    this.options.counters?.dropped('sample', 'write-failed', samples);
    this.options.counters?.dropped('alert', 'write-failed', alerts);
    this.options.counters?.dropped('line', 'write-failed', lines);
    // The series caches may hold ids of a rolled-back transaction.
    this.seriesIds.clear();
    this.lineSeriesIds.clear();
    const retryMs = this.options.retryMs ?? 30_000;
    this.retryAt = now + retryMs;
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.options.log(
        `history: writes stopped (${reason}: ${(err as Error).message}); serving goes on, samples are dropped and counted, retrying every ${Math.round(retryMs / 1000)} s`,
        {
          level: 'error',
          event: 'history-write-failed',
          reason,
        },
      );
    }
  }

  private seriesId(camera: string, zone: string): number {
    const k = `${camera}\u0000${zone}`;
    let id = this.seriesIds.get(k);
    if (id === undefined) {
      id = this.stmts.series.get(camera, zone)?.id ?? Number(this.stmts.addSeries.run(camera, zone).lastInsertRowid);
      this.seriesIds.set(k, id);
    }
    return id;
  }

  private lineSeriesId(camera: string, line: string): number {
    const k = `${camera}\u0000${line}`;
    let id = this.lineSeriesIds.get(k);
    if (id === undefined) {
      id = this.stmts.lineSeries.get(camera, line)?.id ?? Number(this.stmts.addLineSeries.run(camera, line).lastInsertRowid);
      this.lineSeriesIds.set(k, id);
    }
    return id;
  }

  /**
   * Rollup, retention and the cap, all of it now (tests, shutdown). The timer
   * runs the same steps one chunk per turn of the event loop instead.
   */
  maintain(): void {
    while (this.maintenanceStep()) {
      // each step is one bounded chunk
    }
  }

  private maintainInSteps(): void {
    if (this.maintaining || this.closed) return;
    this.maintaining = true;
    const step = (): void => {
      let more = false;
      try {
        more = !this.closed && this.maintenanceStep();
      } catch (err) {
        // While writes are failing (full disk) the write path has already said so.
        if (this.writing) this.options.log(`history: maintenance failed: ${(err as Error).message}`, { level: 'warn', event: 'history-maintenance-failed' });
      }
      if (more) setImmediate(step);
      else this.maintaining = false;
    };
    step();
  }

  /** One bounded chunk of work; false when there is nothing left to do. */
  private maintenanceStep(): boolean {
    const { fineHours, days } = this.options.limits;
    const nowS = Math.floor(this.clock.now() / 1000);
    // 1. Seconds older than fineHours become minutes (whole minutes only).
    const rollBefore = Math.floor((nowS - fineHours * 3600) / 60) * 60;
    const oldestFine = this.db.prepare<unknown[], { t: number | null }>('SELECT min(t) AS t FROM fine').get()?.t ?? null;
    if (oldestFine !== null && oldestFine < rollBefore) {
      const from = Math.floor(oldestFine / 60) * 60;
      const to = Math.min(rollBefore, from + ROLLUP_CHUNK_S);
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO coarse (series, t, frames, people_mean, people_max, smoothed, state)
             SELECT series, (t / 60) * 60, sum(frames), sum(people_mean * frames) / sum(frames), max(people_max), sum(smoothed * frames) / sum(CASE WHEN smoothed IS NULL THEN 0 ELSE frames END), max(state)
             FROM fine WHERE t >= ? AND t < ? GROUP BY series, t / 60
             ON CONFLICT (series, t) DO UPDATE SET
               people_mean = (people_mean * frames + excluded.people_mean * excluded.frames) / (frames + excluded.frames),
               people_max = max(people_max, excluded.people_max),
               smoothed = coalesce((smoothed * frames + excluded.smoothed * excluded.frames) / (frames + excluded.frames), excluded.smoothed, smoothed),
               state = max(state, excluded.state),
               frames = frames + excluded.frames`,
          )
          .run(from, to);
        this.db.prepare('DELETE FROM fine WHERE t >= ? AND t < ?').run(from, to);
      })();
      return true;
    }
    // 1b. The same for the lines' seconds: their minutes are sums.
    const oldestLine = this.db.prepare<unknown[], { t: number | null }>('SELECT min(t) AS t FROM line_fine').get()?.t ?? null;
    if (oldestLine !== null && oldestLine < rollBefore) {
      const from = Math.floor(oldestLine / 60) * 60;
      const to = Math.min(rollBefore, from + ROLLUP_CHUNK_S);
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO line_coarse (series, t, people_in, people_out)
             SELECT series, (t / 60) * 60, sum(people_in), sum(people_out) FROM line_fine WHERE t >= ? AND t < ? GROUP BY series, t / 60
             ON CONFLICT (series, t) DO UPDATE SET people_in = people_in + excluded.people_in, people_out = people_out + excluded.people_out`,
          )
          .run(from, to);
        this.db.prepare('DELETE FROM line_fine WHERE t >= ? AND t < ?').run(from, to);
      })();
      return true;
    }
    // 2. Retention: nothing older than `days` is kept.
    const keepFrom = nowS - days * 86_400;
    for (const table of ['coarse', 'fine', 'hourly', 'line_coarse', 'line_fine'] as const) {
      const oldest = this.db.prepare<unknown[], { t: number | null }>(`SELECT min(t) AS t FROM ${table}`).get()?.t ?? null;
      if (oldest !== null && oldest < keepFrom) {
        this.db.prepare(`DELETE FROM ${table} WHERE t < ?`).run(Math.min(keepFrom, oldest + DELETE_CHUNK_S));
        return true;
      }
    }
    if (this.db.prepare('DELETE FROM alerts WHERE t_ms < ?').run(keepFrom * 1000).changes > 0) return true;
    // 3. The cap.
    if (this.overCap()) this.trimToCap();
    this.db.pragma('incremental_vacuum');
    return false;
  }

  private overCap(): boolean {
    return this.usedBytes() + this.walBytes() > this.options.limits.maxBytes;
  }

  private usedBytes(): number {
    const pages = Number(this.db.pragma('page_count', { simple: true })) - Number(this.db.pragma('freelist_count', { simple: true }));
    return pages * Number(this.db.pragma('page_size', { simple: true }));
  }

  private walBytes(): number {
    try {
      return statSync(`${this.file}-wal`).size;
    } catch {
      return 0;
    }
  }

  /** Deletes the oldest rows (minutes first, they are the oldest; then seconds; alerts with them) until under the low-water mark. */
  private trimToCap(): void {
    const target = this.options.limits.maxBytes * CAP_LOW_WATER;
    let deleted = 0;
    // The WAL is folded back into the file (and truncated) so it does not count twice.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    for (let round = 0; round < 10_000 && this.usedBytes() + this.walBytes() > target; round++) {
      // Zones' and lines' rows of the same times go together (a camera may have only lines).
      const oldestCoarse =
        this.db
          .prepare<unknown[], { t: number | null }>(
            'SELECT min(coalesce(a, b), coalesce(b, a)) AS t FROM (SELECT (SELECT min(t) FROM coarse) AS a, (SELECT min(t) FROM line_coarse) AS b)',
          )
          .get()?.t ?? null;
      const oldestFine =
        this.db
          .prepare<unknown[], { t: number | null }>(
            'SELECT min(coalesce(a, b), coalesce(b, a)) AS t FROM (SELECT (SELECT min(t) FROM fine) AS a, (SELECT min(t) FROM line_fine) AS b)',
          )
          .get()?.t ?? null;
      let changes = 0;
      this.db.transaction(() => {
        const cut = oldestCoarse !== null ? oldestCoarse + 3600 : oldestFine !== null ? oldestFine + 60 : undefined;
        if (cut !== undefined) {
          changes = this.db.prepare('DELETE FROM coarse WHERE t < ?').run(cut).changes + this.db.prepare('DELETE FROM fine WHERE t < ?').run(cut).changes;
          // An hour's row goes once any of its hour is gone (it no longer stands for the whole hour).
          changes += this.db.prepare('DELETE FROM hourly WHERE t < ?').run(cut).changes;
          changes +=
            this.db.prepare('DELETE FROM line_coarse WHERE t < ?').run(cut).changes + this.db.prepare('DELETE FROM line_fine WHERE t < ?').run(cut).changes;
        } else changes = this.db.prepare('DELETE FROM hourly WHERE t < (SELECT min(t) + 3600 FROM hourly)').run().changes;
        const oldestKept = Math.min(
          this.db.prepare<unknown[], { t: number | null }>('SELECT min(t) AS t FROM coarse').get()?.t ?? Infinity,
          this.db.prepare<unknown[], { t: number | null }>('SELECT min(t) AS t FROM fine').get()?.t ?? Infinity,
        );
        // Alerts go with the samples of their time; with no samples left, the oldest alerts go by themselves.
        changes += Number.isFinite(oldestKept)
          ? this.db.prepare('DELETE FROM alerts WHERE t_ms < ?').run(oldestKept * 1000).changes
          : this.db.prepare('DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY t_ms LIMIT 1000)').run().changes;
      })();
      deleted += changes;
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      if (changes === 0) break;
    }
    if (deleted > 0) this.options.counters?.capped(deleted);
  }

  /** Writes what is pending, stops the timers and closes the file. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    clearInterval(this.maintenanceTimer);
    this.flush();
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a full disk may refuse the checkpoint; the WAL is replayed at the next start
    }
    this.db.close();
  }
}

export function failureReason(err: unknown): WriteFailure {
  const code = sqliteCode(err) ?? '';
  if (code === 'SQLITE_FULL' || /EFBIG|ENOSPC/.test(String((err as Error)?.message))) return 'disk-full';
  if (code.startsWith('SQLITE_IOERR')) return 'io-error';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return 'corrupt';
  return 'other';
}
