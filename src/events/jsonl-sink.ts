/**
 * Zone events as JSON lines (`--events-file PATH`, or `-` for stdout), one
 * object per line with a "type" of "count" or "alert". A disk or pipe that
 * cannot keep up does not grow memory: past maxBufferedBytes lines are
 * dropped and counted.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { AlertPayload, CountPayload, CrossingsPayload, EventCounters, EventKind, EventSink } from './zone-events.js';

export const DEFAULT_JSONL_MAX_BUFFERED_BYTES = 1024 * 1024;

export class JsonLinesSink implements EventSink {
  readonly name = 'jsonl';
  private readonly out: Writable;
  private readonly ownStream: boolean;

  constructor(
    target: string,
    private readonly counters?: EventCounters,
    private readonly maxBufferedBytes = DEFAULT_JSONL_MAX_BUFFERED_BYTES,
  ) {
    this.ownStream = target !== '-';
    this.out = this.ownStream ? createWriteStream(target, { flags: 'a' }) : process.stdout;
    // A failing file (disk full, removed mount) must not crash the server; lines are dropped instead.
    this.out.on('error', () => undefined);
  }

  count(payload: CountPayload): void {
    this.write('count', { type: 'count', ...payload });
  }

  alert(payload: AlertPayload): void {
    this.write('alert', { type: 'alert', ...payload });
  }

  crossings(payload: CrossingsPayload): void {
    this.write('crossings', { type: 'crossings', ...payload });
  }

  private write(kind: EventKind, record: object): void {
    if (this.out.destroyed || this.out.writableLength > this.maxBufferedBytes) {
      this.counters?.dropped(this.name, kind, this.out.destroyed ? 'write-failed' : 'backlog');
      return;
    }
    this.out.write(JSON.stringify(record) + '\n');
    this.counters?.published(this.name, kind);
  }

  close(): Promise<void> {
    if (!this.ownStream) return Promise.resolve();
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
