/** What the history store needs from outside: a clock (injected in tests) and counters (Prometheus implements them). */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** Why a write failed: a full disk or file-size limit, another I/O error, a read-only file, a damaged file. */
export type WriteFailure = 'disk-full' | 'io-error' | 'read-only' | 'corrupt' | 'other';

/** What a row holds: a zone's second, an alert transition, a line's second of crossings. */
export type HistoryRowKind = 'sample' | 'alert' | 'line';

export interface HistoryCounters {
  written(kind: HistoryRowKind, n: number): void;
  dropped(kind: HistoryRowKind, reason: 'not-finite' | 'pending-full' | 'write-failed', n?: number): void;
  writeFailed(reason: WriteFailure): void;
  /** A reading stamped at the server clock because its capture time was too far off. */
  skewed(): void;
  /** Rows deleted to keep the database under --history-max-mb. */
  capped(rows: number): void;
}

export interface HistoryLimits {
  /** Per-second rows older than this are rolled up into per-minute rows. */
  fineHours: number;
  /** Everything older than this is deleted. */
  days: number;
  /** The database and its WAL together stay under this; the oldest rows go first. */
  maxBytes: number;
  /** Capture times further than this from the server clock are recorded at the server clock. */
  maxSkewMs: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  fineHours: 48,
  days: 30,
  maxBytes: 2048 * 1024 * 1024,
  maxSkewMs: 300_000,
};
