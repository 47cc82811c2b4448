/**
 * Keeps one live camera's capture process alive, forever: a camera that
 * cannot be opened, ends, or gives no frame for the stall timeout is killed
 * (if need be) and reopened after an exponential, jittered delay. Like
 * Frigate's ffmpeg watchdog and DeepStream's rtsp-reconnect: a 24/7 client
 * must ride out camera reboots and network cuts without a person.
 */
import { EventEmitter } from 'node:events';
import { Backoff } from './backoff.js';
import { FfmpegCapture, type CaptureSettings } from './ffmpeg-capture.js';
import type { RawFrame } from './frame.js';

export type CaptureState = 'opening' | 'streaming' | 'reconnecting' | 'stopped';

export interface LiveCaptureOptions {
  /** Kill and reopen a capture that gives no frame for this long once streaming. */
  stallTimeoutMs: number;
  /** ... and one whose first frame takes longer than this (default: the stall timeout, at least 15 s). */
  openTimeoutMs?: number;
}

export interface LiveCaptureEvents {
  frame: [RawFrame];
  log: [string];
  /** The state or the reason for an outage changed (redraw the tile). */
  change: [];
}

/** What happened to one camera's capture over the run (bounded: counters only). */
export interface CaptureHealth {
  /** Capture processes started (the first included). */
  starts: number;
  /** Killed by the watchdog for giving no frames. */
  stalls: number;
  /** Failed to open, or ended / broke while streaming (stalls not included). */
  failures: number;
  /** Times the camera came back after giving frames and losing them. */
  recoveries: number;
  /** Time without frames, in all, and the longest single outage. Down from the start until the first frame. */
  downMs: number;
  longestOutageMs: number;
  /** From the start to the first frame (undefined: no frame yet). */
  firstFrameAfterMs?: number;
}

/** Connecting, RTSP set-up and probing can take seconds, more on a busy machine: opening gets at least this long. */
const MIN_OPEN_TIMEOUT_MS = 15_000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

export class LiveCapture extends EventEmitter<LiveCaptureEvents> {
  state: CaptureState = 'opening';
  /** Why the camera is down (shown on the tile and in the log). */
  reason: string | undefined;
  readonly health: CaptureHealth = { starts: 0, stalls: 0, failures: 0, recoveries: 0, downMs: 0, longestOutageMs: 0 };
  /** Frames handed over since the start. */
  framesCaptured = 0;

  private process: FfmpegCapture | undefined;
  private readonly backoff = new Backoff({ firstMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS });
  private stallTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stalled = false;
  private framesFromProcess = 0;
  private lastFrameAt = 0;
  /** Since when the camera gives no frames: the start, until the first frame; undefined while streaming. */
  private outageSince: number | undefined;
  private startedAt = 0;

  constructor(
    readonly name: string,
    private readonly settings: CaptureSettings,
    private readonly options: LiveCaptureOptions,
  ) {
    super();
  }

  start(): void {
    // Time before the first frame is downtime: a camera unreachable for the first minute was down for a minute.
    this.startedAt = Date.now();
    this.outageSince = this.startedAt;
    this.launch();
  }

  /** Stops capturing for good (the client is quitting or has enough frames). */
  stop(): void {
    if (this.state === 'stopped') return;
    this.closeOutage(Date.now());
    this.state = 'stopped';
    clearTimeout(this.stallTimer);
    clearTimeout(this.retryTimer);
    this.process?.kill();
    this.process = undefined;
  }

  private launch(): void {
    if (this.state === 'stopped') return;
    this.health.starts++;
    this.stalled = false;
    this.framesFromProcess = 0;
    const capture = new FfmpegCapture(this.settings);
    this.process = capture;
    capture.on('frame', (jpeg, capturedAtMs) => this.onFrame(capture, jpeg, capturedAtMs));
    capture.on('exit', (reason) => this.onExit(capture, reason));
    this.stallTimer = setTimeout(() => this.onStall(capture), this.openTimeoutMs);
  }

  private get openTimeoutMs(): number {
    return this.options.openTimeoutMs ?? Math.max(this.options.stallTimeoutMs, MIN_OPEN_TIMEOUT_MS);
  }

  private onFrame(capture: FfmpegCapture, jpeg: Buffer, capturedAtMs: number): void {
    if (capture !== this.process || this.state === 'stopped') return;
    if (this.framesFromProcess++ === 0) {
      // First frame of this process: from now on the (shorter) stall timeout applies.
      clearTimeout(this.stallTimer);
      this.stallTimer = setTimeout(() => this.onStall(capture), this.options.stallTimeoutMs);
    } else this.stallTimer?.refresh();
    if (this.state !== 'streaming') {
      const outage = this.closeOutage(capturedAtMs);
      if (this.framesCaptured === 0) {
        this.health.firstFrameAfterMs = Math.max(0, capturedAtMs - this.startedAt);
        this.emit('log', `${this.name}: first frame ${(this.health.firstFrameAfterMs / 1000).toFixed(1)} s after the start`);
      } else {
        this.health.recoveries++;
        this.emit('log', `${this.name}: camera back after ${(outage / 1000).toFixed(1)} s without frames`);
      }
      this.state = 'streaming';
      this.reason = undefined;
      this.backoff.reset();
      this.emit('change');
    }
    this.framesCaptured++;
    this.lastFrameAt = capturedAtMs;
    this.emit('frame', { jpeg, capturedAtMs });
  }

  private onStall(capture: FfmpegCapture): void {
    if (capture !== this.process) return;
    this.stalled = true;
    this.health.stalls++;
    capture.kill();
  }

  private onExit(capture: FfmpegCapture, said: string): void {
    if (capture !== this.process) return;
    clearTimeout(this.stallTimer);
    this.process = undefined;
    if (this.state === 'stopped') return;
    const seconds = (ms: number): string => (ms / 1000).toFixed(ms % 1000 ? 1 : 0);
    const why = this.stalled
      ? this.framesFromProcess > 0
        ? `no frame for ${seconds(this.options.stallTimeoutMs)} s (stalled); capture restarted`
        : `no first frame within ${seconds(this.openTimeoutMs)} s of opening; capture restarted`
      : this.state === 'streaming'
        ? `stream broke or ended (${said})`
        : `cannot open the camera (${said})`;
    if (!this.stalled) this.health.failures++;
    // The outage began with the last frame (a stall is noticed only a timeout later).
    if (this.state === 'streaming') this.outageSince = this.lastFrameAt;
    this.state = 'reconnecting';
    this.reason = why;
    const delay = this.backoff.next();
    this.emit('log', `${this.name}: ${why}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.backoff.attempts})`);
    this.emit('change');
    this.retryTimer = setTimeout(() => this.launch(), delay);
  }

  /** Ends the current outage (if any) and returns its length. */
  private closeOutage(now: number): number {
    if (this.outageSince === undefined) return 0;
    const outage = Math.max(0, now - this.outageSince);
    this.outageSince = undefined;
    this.health.downMs += outage;
    this.health.longestOutageMs = Math.max(this.health.longestOutageMs, outage);
    return outage;
  }
}
