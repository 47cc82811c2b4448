/**
 * Prometheus metrics for counting lines, on the server's registry. Labels
 * come from the site file (camera and line names), never from clients; a
 * line removed by a reload loses its series.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LineListener, LineReading, SkipReason } from './line-tracker.js';
import type { ResidualSink } from './zone-residual.js';

export class LineMetrics implements LineListener, ResidualSink {
  private readonly crossings: Counter<'camera' | 'line' | 'direction'>;
  private readonly skips: Counter<'camera' | 'reason'>;
  private readonly residuals: Gauge<'camera' | 'zone'>;

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
    this.residuals = new Gauge({
      name: 'crowdline_line_zone_residual',
      help: "For a zone whose boundary counting lines cover: the change in the zone's count over the last 60 s minus the lines' in - out into it (people). Near 0 while the estimate holds; it grows when the model or the flow fails",
      labelNames: ['camera', 'zone'] as const,
      registers,
    });
  }

  residual(camera: string, zone: string, value: number): void {
    this.residuals.set({ camera, zone }, value);
  }

  residualRemoved(camera: string, zone: string): void {
    this.residuals.remove({ camera, zone });
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
