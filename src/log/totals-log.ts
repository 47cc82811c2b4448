/**
 * One log line per interval (a minute by default) with what the server did
 * in it: frames by outcome, cameras heard from, connections, worst latency.
 * Enough to see from the log alone whether a server is busy or idle, without
 * a line per frame.
 */
import type { FrameReport, ServerObserver } from '../accept/observer.js';
import type { LogSink } from './logger.js';

export const DEFAULT_TOTALS_INTERVAL_MS = 60_000;

/** Live state read when the line is written. */
export interface TotalsSources {
  connections(): number;
  queueDepth(): number;
}

export class TotalsLog implements ServerObserver {
  private received = 0;
  private ok = 0;
  private dropped = 0;
  private failed = 0;
  private opened = 0;
  private serverUsSum = 0;
  private serverUsMax = 0;
  private answered = 0;
  private readonly cameras = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sources: TotalsSources | undefined;

  constructor(
    private readonly log: LogSink,
    private readonly intervalMs = DEFAULT_TOTALS_INTERVAL_MS,
  ) {}

  /** Starts the periodic line; sources give the live connection count and queue depth. */
  start(sources: TotalsSources): void {
    this.sources = sources;
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  connectionOpened(): void {
    this.opened++;
  }

  frameReceived(): void {
    this.received++;
  }

  frameAnswered(report: FrameReport): void {
    this.answered++;
    this.serverUsSum += report.serverUs;
    this.serverUsMax = Math.max(this.serverUsMax, report.serverUs);
    if (report.status === 'ok') {
      this.ok++;
      this.cameras.add(report.camera);
    } else if (report.status === 'dropped') this.dropped++;
    else this.failed++;
  }

  /** Writes the line for the interval so far and starts a new one. */
  flush(): void {
    const seconds = this.intervalMs > 0 ? this.intervalMs / 1000 : 60;
    const meanMs = this.answered > 0 ? this.serverUsSum / this.answered / 1000 : 0;
    const fields = {
      event: 'totals',
      interval_s: seconds,
      connections: this.sources?.connections() ?? 0,
      connections_opened: this.opened,
      cameras: this.cameras.size,
      frames_received: this.received,
      frames_ok: this.ok,
      frames_dropped: this.dropped,
      frames_failed: this.failed,
      queue_depth: this.sources?.queueDepth() ?? 0,
      server_ms_mean: Math.round(meanMs * 10) / 10,
      server_ms_max: Math.round(this.serverUsMax / 100) / 10,
    };
    this.log(
      `totals for the last ${seconds} s: ${fields.frames_ok} ok, ${fields.frames_dropped} dropped, ${fields.frames_failed} failed of ${fields.frames_received} frames ` +
        `from ${fields.cameras} camera(s); ${fields.connections} connection(s) open; server time mean ${fields.server_ms_mean} ms, max ${fields.server_ms_max} ms`,
      fields,
    );
    this.received = this.ok = this.dropped = this.failed = this.opened = this.answered = 0;
    this.serverUsSum = this.serverUsMax = 0;
    this.cameras.clear();
  }
}
