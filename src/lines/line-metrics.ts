/**
 * Prometheus metrics for counting lines, on the server's registry. Labels
 * come from the site file (camera and line names), never from clients; a
 * line removed by a reload loses its series.
 */
import { Counter, type Registry } from 'prom-client';
import type { LineListener, LineReading, SkipReason } from './line-tracker.js';

export class LineMetrics implements LineListener {
  private readonly crossings: Counter<'camera' | 'line' | 'direction'>;
  private readonly skips: Counter<'camera' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.crossings = new Counter({
      name: 'crowdline_line_crossings_total',
      help: 'People counted crossing the line (density flux, fractional), by direction: in (to the side the site file names) or out',
      labelNames: ['camera', 'line', 'direction'] as const,
      registers,
    });
    this.skips = new Counter({
      name: 'crowdline_line_motion_skipped_total',
      help: 'Frame-to-frame steps whose motion was not measured (nothing counted), by reason: reconnect, gap, time, size, overload, failed',
      labelNames: ['camera', 'reason'] as const,
      registers,
    });
  }

  reading(r: LineReading): void {
    if (r.stepIn > 0) this.crossings.inc({ camera: r.camera, line: r.line, direction: 'in' }, r.stepIn);
    if (r.stepOut > 0) this.crossings.inc({ camera: r.camera, line: r.line, direction: 'out' }, r.stepOut);
  }

  skipped(camera: string, reason: SkipReason): void {
    this.skips.inc({ camera, reason });
  }

  lineRemoved(camera: string, line: string): void {
    for (const direction of ['in', 'out']) this.crossings.remove({ camera, line, direction });
  }
}
