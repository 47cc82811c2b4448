/**
 * The history database's schema and its forward-only migrations. The
 * `schema_version` table records each migration applied (and when); a file
 * whose version is newer than this code knows is not touched (open-db moves
 * it aside). `application_id` marks the file as crowdline's, so a foreign
 * SQLite file is recognised.
 */
import type { Database as DatabaseType } from 'better-sqlite3';

/** 'CRLH' */
export const HISTORY_APPLICATION_ID = 0x43524c48;

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const SAMPLE_COLUMNS = `
  series INTEGER NOT NULL,
  t INTEGER NOT NULL,
  frames INTEGER NOT NULL,
  people_mean REAL NOT NULL,
  people_max REAL NOT NULL,
  smoothed REAL,
  state INTEGER NOT NULL,
  PRIMARY KEY (series, t)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'series, per-second and per-minute samples, alert transitions',
    sql: `
      CREATE TABLE series (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, zone TEXT NOT NULL, UNIQUE (camera, zone));
      -- t: epoch seconds of the second (fine) or of the minute's start (coarse)
      CREATE TABLE fine (${SAMPLE_COLUMNS}) WITHOUT ROWID;
      CREATE TABLE coarse (${SAMPLE_COLUMNS}) WITHOUT ROWID;
      CREATE INDEX fine_t ON fine (t);
      CREATE INDEX coarse_t ON coarse (t);
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        series INTEGER NOT NULL,
        t_ms INTEGER NOT NULL,
        state INTEGER NOT NULL,
        previous INTEGER NOT NULL,
        rule TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL
      );
      CREATE INDEX alerts_series_t ON alerts (series, t_ms);
      CREATE INDEX alerts_t ON alerts (t_ms);`,
  },
  {
    version: 2,
    description: 'per-hour samples kept up to date at write time, so long charts read 720 rows a month per zone',
    sql: `
      CREATE TABLE hourly (${SAMPLE_COLUMNS}) WITHOUT ROWID;
      CREATE INDEX hourly_t ON hourly (t);
      INSERT INTO hourly (series, t, frames, people_mean, people_max, smoothed, state)
        SELECT series, t - t % 3600, sum(frames), sum(people_mean * frames) / sum(frames), max(people_max),
               sum(smoothed * frames) / sum(CASE WHEN smoothed IS NULL THEN 0 ELSE frames END), max(state)
        FROM (SELECT * FROM fine UNION ALL SELECT * FROM coarse) WHERE true GROUP BY series, t - t % 3600;`,
  },
  {
    version: 3,
    description: 'counting lines: people in and out per second (per minute past the rollup)',
    sql: `
      CREATE TABLE line_series (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, line TEXT NOT NULL, UNIQUE (camera, line));
      -- t: epoch seconds of the second (line_fine) or of the minute's start (line_coarse); a row only for a span with crossings
      CREATE TABLE line_fine (series INTEGER NOT NULL, t INTEGER NOT NULL, people_in REAL NOT NULL, people_out REAL NOT NULL, PRIMARY KEY (series, t)) WITHOUT ROWID;
      CREATE TABLE line_coarse (series INTEGER NOT NULL, t INTEGER NOT NULL, people_in REAL NOT NULL, people_out REAL NOT NULL, PRIMARY KEY (series, t)) WITHOUT ROWID;
      CREATE INDEX line_fine_t ON line_fine (t);
      CREATE INDEX line_coarse_t ON line_coarse (t);`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The version a file is at: 0 for a file without the version table (new, empty). */
export function schemaVersion(db: DatabaseType): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = db.prepare<unknown[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
  return row?.v ?? 0;
}

/** Applies every migration above the file's version, each in its own transaction; returns the versions before and after. */
export function migrate(db: DatabaseType, nowMs: number, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = schemaVersion(db);
  if (from === 0) {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)');
    db.pragma(`application_id = ${HISTORY_APPLICATION_ID}`);
  }
  let to = from;
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at_ms) VALUES (?, ?)').run(m.version, Math.round(nowMs));
    })();
    to = m.version;
  }
  return { from, to };
}
