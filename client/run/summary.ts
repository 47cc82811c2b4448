/**
 * Per-camera statistics and the end-of-run summary table. Everything here is
 * of fixed size however long the client runs: counters, a latency histogram,
 * and two seconds of answer times for the live frame rate.
 */
import * as hdr from 'hdr-histogram-js';
import type { CaptureHealth, CaptureState } from '../capture/live-capture.js';

/** Latencies up to an hour, 3 significant digits: about 50 kB per camera, for ever. */
const LATENCY_MAX_MS = 3_600_000;

function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_MAX_MS, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** A live camera's capture over the run (absent for files and folders). */
export interface CaptureSummary extends CaptureHealth {
  state: CaptureState;
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
  capture?: CaptureSummary;
  /** Frames not in the recorded video because the encoder fell behind (their CSV rows are there). */
  videoFramesDropped?: number;
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
  private readonly latency = latencyHistogram();
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  /** Recent answer times, for the live fps figure. */
  private readonly recent: number[] = [];

  recordOk(count: number, latencyMs: number, now: number): void {
    this.ok++;
    this.countSum += count;
    this.countMin = Math.min(this.countMin, count);
    this.countMax = Math.max(this.countMax, count);
    this.latency.recordValue(Math.min(LATENCY_MAX_MS, Math.max(1, Math.round(latencyMs))));
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
    this.forgetBefore(now - 2000);
    if (this.recent.length < 2) return 0;
    return ((this.recent.length - 1) * 1000) / Math.max(1, this.recent[this.recent.length - 1] - this.recent[0]);
  }

  started(now: number): void {
    this.firstAt ??= now;
  }

  summary(camera: string, source: string, outputs: string[], failure?: string): CameraSummary {
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
      latencyMs: this.latencyPercentiles(),
      reconnects: this.reconnects,
      failure,
      outputs,
    };
  }

  private latencyPercentiles(): CameraSummary['latencyMs'] {
    const h = this.latency;
    if (h.totalCount === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN };
    return { p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), max: h.maxValue };
  }

  private forgetBefore(time: number): void {
    while (this.recent.length > 0 && this.recent[0] < time) this.recent.shift();
  }

  private noteAnswer(now: number): void {
    this.firstAt ??= now;
    this.lastAt = now;
    this.recent.push(now);
    this.forgetBefore(now - 2000);
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
    if (c.capture) lines.push(`    ${describeCapture(c.capture)}`);
    if (c.videoFramesDropped) lines.push(`    video: ${c.videoFramesDropped} frames left out (the encoder fell behind)`);
    for (const out of c.outputs) lines.push(`    wrote ${out}`);
  }
  return lines.join('\n');
}

function describeCapture(c: CaptureSummary): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return (
    `camera ${c.state === 'streaming' ? 'streaming' : `${c.state} at the end`}; capture started ${c.starts} times ` +
    `(${c.failures} open failures or breaks, ${c.stalls} stalls), recovered ${c.recoveries} times, ` +
    `down ${seconds(c.downMs)} in all, longest outage ${seconds(c.longestOutageMs)}; ` +
    (c.firstFrameAfterMs === undefined ? 'no frame at all' : `first frame ${seconds(c.firstFrameAfterMs)} after the start`)
  );
}
