/**
 * What leaves the server about counting lines (MQTT, JSON lines, through the
 * zone event sinks): a line's cumulative in, out and net, and what crossed
 * since the line's previous event, at most once per interval per line (by
 * the server's clock) and only when someone crossed. Counts are cumulative,
 * so an event that is rate-limited away loses nothing: the next one has it.
 */
import type { CrossingsPayload, EventSink } from '../events/zone-events.js';
import type { LineListener, LineReading } from './line-tracker.js';

const round = (v: number): number => Math.round(v * 1000) / 1000;
const iso = (ms: number): string => new Date(Math.abs(ms) <= 8.64e15 ? ms : Date.now()).toISOString();

export class LineEventFanout implements LineListener {
  /** Per line (site-file names only, so bounded by the site file): when it last published, and its totals then. */
  private readonly last = new Map<string, { at: number; in: number; out: number }>();

  constructor(
    private readonly sinks: readonly EventSink[],
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  reading(r: LineReading): void {
    const key = `${r.camera}\u0000${r.line}`;
    const t = this.now();
    const last = this.last.get(key);
    if (last && t - last.at < this.intervalMs) return;
    this.last.set(key, { at: t, in: r.in, out: r.out });
    const payload: CrossingsPayload = {
      camera: r.camera,
      line: r.line,
      in: round(r.in),
      out: round(r.out),
      net: round(r.in - r.out),
      since_in: round(r.in - (last?.in ?? 0)),
      since_out: round(r.out - (last?.out ?? 0)),
      time: iso(r.timeMs),
    };
    for (const sink of this.sinks) sink.crossings?.(payload);
  }

  lineRemoved(camera: string, line: string): void {
    this.last.delete(`${camera}\u0000${line}`);
  }
}
