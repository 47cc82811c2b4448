/**
 * Opens (or creates) the history database and makes sure it is crowdline's:
 * a file that is not SQLite, is damaged, belongs to another program or was
 * written by a newer crowdline is moved aside (renamed, with its -wal and
 * -shm, never deleted) and a new database is started, with a log line.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database, { type Database as DatabaseType } from 'better-sqlite3';
import { HISTORY_APPLICATION_ID, migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion, type Migration } from './schema.js';

export const HISTORY_FILE_NAME = 'history.db';

/** Why a file is not used. */
export type RejectReason = 'corrupt' | 'foreign' | 'newer';

class RejectedFile extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenedHistoryDb {
  db: DatabaseType;
  file: string;
  /** Set when an unusable file was found and renamed. */
  movedAside?: { to: string; reason: RejectReason; why: string };
  migrated: { from: number; to: number };
}

/** SQLite's words for "this is not a (healthy) database file". */
const CORRUPT_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function openHistoryDb(dir: string, deps: { nowMs: number; migrations?: readonly Migration[] }): OpenedHistoryDb {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const file = path.join(dir, HISTORY_FILE_NAME);
  const migrations = deps.migrations ?? MIGRATIONS;
  let movedAside: OpenedHistoryDb['movedAside'];
  for (let attempt = 0; ; attempt++) {
    const db = new Database(file);
    try {
      prepare(db, migrations);
      const migrated = migrate(db, deps.nowMs, migrations);
      return { db, file, movedAside, migrated };
    } catch (err) {
      db.close();
      const rejected =
        err instanceof RejectedFile ? err : CORRUPT_CODES.has(sqliteCode(err) ?? '') ? new RejectedFile('corrupt', (err as Error).message) : undefined;
      // Anything else (permissions, a full disk while creating) is the caller's to report; a second rejection means renaming did not help.
      if (!rejected || attempt > 0) throw err;
      const to = moveAside(file, rejected.reason, deps.nowMs);
      movedAside = { to, reason: rejected.reason, why: rejected.message };
    }
  }
}

function prepare(db: DatabaseType, migrations: readonly Migration[]): void {
  // Only takes effect on a file without tables: lets deleted rows give pages back to the file system.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  // A committed transaction survives a crash of the process in WAL mode; NORMAL skips the fsync per commit.
  db.pragma('synchronous = NORMAL');
  // The WAL is truncated back to this after checkpoints (it counts against the disk cap).
  db.pragma('journal_size_limit = 4194304');
  const tables = db.prepare<unknown[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()?.n ?? 0;
  const appId = db.pragma('application_id', { simple: true });
  if (tables > 0 && appId !== HISTORY_APPLICATION_ID)
    throw new RejectedFile('foreign', `not a crowdline history database (application_id ${String(appId)}, ${tables} table(s))`);
  const version = schemaVersion(db);
  const known = migrations[migrations.length - 1]?.version ?? SCHEMA_VERSION;
  if (version > known) throw new RejectedFile('newer', `written by a newer crowdline (schema ${version}; this one knows up to ${known})`);
  if (tables > 0) {
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw new RejectedFile('corrupt', `damaged: ${String(check)}`);
  }
}

/** history.db -> history.db.corrupt-20261207T051500Z (and its -wal, -shm beside it). */
function moveAside(file: string, reason: RejectReason, nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  let to = `${file}.${reason}-${stamp}`;
  for (let n = 2; existsSync(to); n++) to = `${file}.${reason}-${stamp}-${n}`;
  renameSync(file, to);
  for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, to + suffix);
  return to;
}
