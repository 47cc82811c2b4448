/** Per-camera statistics and the end-of-run summary table. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export interface CameraSummary {
  camera: string;
  source: string;
  /** Frames read from the source (live sources: more than sent when the server lags). */
  captured: number;
  framesSent: number;
  ok: number;
  /** Answered dropped by the server, or skipped by the client to stay real-time. */
  dropped: number;
  skipped: number;
  errors: number;
  /** In flight when a live camera's connection went (files send those again). */
  lost: number;
  /** Answers per second over the camera's running time. */
  fps: number;
  count: { mean: number; min: number; max: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  reconnects: number;
  failure?: string;
  outputs: string[];
}

export class CameraStats {
  framesSent = 0;
  ok = 0;
  dropped = 0;
  skipped = 0;
  errors = 0;
  lost = 0;
  reconnects = 0;
  private countSum = 0;
  private countMin = Infinity;
  private countMax = -Infinity;
  private readonly latencies: number[] = [];
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  /** Recent answer times, for the live fps figure. */
  private readonly recent: number[] = [];

  recordOk(count: number, latencyMs: number, now: number): void {
    this.ok++;
    this.countSum += count;
    this.countMin = Math.min(this.countMin, count);
    this.countMax = Math.max(this.countMax, count);
    this.latencies.push(latencyMs);
    this.noteAnswer(now);
  }

  recordNotOk(kind: 'dropped' | 'error' | 'lost', now: number): void {
    if (kind === 'dropped') this.dropped++;
    else if (kind === 'lost') this.lost++;
    else this.errors++;
    this.noteAnswer(now);
  }

  /** Frames answered (or lost) so far. */
  get answered(): number {
    return this.ok + this.dropped + this.errors + this.lost;
  }

  /** Answers per second over the last two seconds. */
  liveFps(now: number): number {
    while (this.recent.length > 0 && now - this.recent[0] > 2000) this.recent.shift();
    if (this.recent.length < 2) return 0;
    return ((this.recent.length - 1) * 1000) / Math.max(1, this.recent[this.recent.length - 1] - this.recent[0]);
  }

  started(now: number): void {
    this.firstAt ??= now;
  }

  summary(camera: string, source: string, outputs: string[], failure?: string): CameraSummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const answered = this.ok + this.dropped + this.errors + this.lost;
    const seconds = this.firstAt !== undefined && this.lastAt !== undefined ? (this.lastAt - this.firstAt) / 1000 : 0;
    return {
      camera,
      source,
      captured: 0,
      framesSent: this.framesSent,
      ok: this.ok,
      dropped: this.dropped,
      skipped: this.skipped,
      errors: this.errors,
      lost: this.lost,
      fps: seconds > 0 ? answered / seconds : 0,
      count: {
        mean: this.ok > 0 ? this.countSum / this.ok : NaN,
        min: this.ok > 0 ? this.countMin : NaN,
        max: this.ok > 0 ? this.countMax : NaN,
      },
      latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN },
      reconnects: this.reconnects,
      failure,
      outputs,
    };
  }

  private noteAnswer(now: number): void {
    this.firstAt ??= now;
    this.lastAt = now;
    this.recent.push(now);
  }
}

const fixed = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

export function formatSummary(cameras: readonly CameraSummary[], elapsedMs: number): string {
  const lines = [`crowdline client summary (${(elapsedMs / 1000).toFixed(1)} s)`];
  for (const c of cameras) {
    lines.push(`  ${c.camera} (${c.source})`);
    if (c.failure) lines.push(`    FAILED: ${c.failure}`);
    lines.push(
      `    frames captured ${c.captured}, sent ${c.framesSent}, ok ${c.ok}, dropped ${c.dropped}, skipped ${c.skipped}, errors ${c.errors}, lost ${c.lost}, ` +
        `${fixed(c.fps)} fps, reconnects ${c.reconnects}`,
    );
    if (c.ok > 0) {
      lines.push(
        `    count mean ${fixed(c.count.mean)} min ${fixed(c.count.min)} max ${fixed(c.count.max)}; ` +
          `latency ms p50 ${fixed(c.latencyMs.p50)} p90 ${fixed(c.latencyMs.p90)} p99 ${fixed(c.latencyMs.p99)} max ${fixed(c.latencyMs.max)}`,
      );
    }
    for (const out of c.outputs) lines.push(`    wrote ${out}`);
  }
  return lines.join('\n');
}
