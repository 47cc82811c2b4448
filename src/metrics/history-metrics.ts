/** Prometheus metrics of the history store (docs/history.md lists them). Labels are fixed words, never client input. */
import { Counter, type Registry } from 'prom-client';
import { sampledGauge } from './sampled-gauge.js';
import type { HistoryCounters, HistoryRowKind, WriteFailure } from '../history/types.js';

export class HistoryMetrics implements HistoryCounters {
  private readonly rows: Counter<'kind'>;
  private readonly droppedTotal: Counter<'kind' | 'reason'>;
  private readonly failures: Counter<'reason'>;
  private readonly skewedTotal: Counter;
  private readonly cappedTotal: Counter;

  constructor(registry: Registry, state: { writing: () => boolean; diskBytes: () => number }) {
    const registers = [registry];
    this.rows = new Counter({
      name: 'crowdline_history_written_total',
      help: 'Rows written to the history database, by kind: sample (a zone second), alert (a transition), line (a line second with crossings)',
      labelNames: ['kind'] as const,
      registers,
    });
    this.droppedTotal = new Counter({
      name: 'crowdline_history_dropped_total',
      help: 'Samples and alert transitions not written: write-failed (writes are stopped), pending-full (more than fit between two flushes), not-finite (a broken count)',
      labelNames: ['kind', 'reason'] as const,
      registers,
    });
    this.failures = new Counter({
      name: 'crowdline_history_write_failures_total',
      help: 'Failed history writes, by reason (disk-full, io-error, read-only, corrupt, other)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.skewedTotal = new Counter({
      name: 'crowdline_history_clock_skewed_total',
      help: 'Readings recorded at the server clock because their capture time was over --history-max-skew-s away',
      registers,
    });
    this.cappedTotal = new Counter({
      name: 'crowdline_history_capped_rows_total',
      help: 'Oldest rows deleted to keep the database under --history-max-mb',
      registers,
    });
    sampledGauge(registry, 'crowdline_history_writing', '1 while history writes succeed, 0 after a failed write until a retry succeeds', () =>
      state.writing() ? 1 : 0,
    );
    sampledGauge(registry, 'crowdline_history_disk_bytes', 'Bytes of the history database and its write-ahead log', state.diskBytes);
  }

  written(kind: HistoryRowKind, n: number): void {
    if (n > 0) this.rows.inc({ kind }, n);
  }

  dropped(kind: HistoryRowKind, reason: 'not-finite' | 'pending-full' | 'write-failed', n = 1): void {
    if (n > 0) this.droppedTotal.inc({ kind, reason }, n);
  }

  writeFailed(reason: WriteFailure): void {
    this.failures.inc({ reason });
  }

  skewed(): void {
    this.skewedTotal.inc();
  }

  capped(rows: number): void {
    this.cappedTotal.inc(rows);
  }
}
