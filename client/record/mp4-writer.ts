/**
 * H.264 MP4 recording through an ffmpeg child process, in fixed-length
 * segments (NAME-20261125T194000Z.mp4, UTC) with a retention limit: MJPEG AVI
 * costs ~6 GB per camera-hour, H.264 a few hundred MB. Frames go to ffmpeg
 * raw (BGR), so the main thread does no encoding, each in a Matroska cluster
 * stamped with its capture time (raw-matroska.ts): skipped frames and outages
 * play as real time, and no two frames share a timestamp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FFMPEG } from '../capture/ffmpeg-capture.js';
import type { Mat } from '../opencv.js';
import { rawBgrMatroskaHeader, rawFramePrefix } from './raw-matroska.js';

export interface Mp4Options {
  segmentSeconds: number;
  /** Most segments kept per camera; older ones are deleted (0: keep all). */
  keepSegments: number;
  log: (line: string) => void;
}

/**
 * Raw frames buffered for ffmpeg beyond this are dropped (it cannot keep up):
 * memory stays bounded. About two seconds of video, so x264's start-up does not count as falling behind.
 */
const MAX_QUEUED_FRAMES = 25;
const FINISH_TIMEOUT_MS = 20_000;

export class Mp4SegmentWriter {
  private child: ChildProcess | undefined;
  private frameBytes = 0;
  private exited: Promise<void> = Promise.resolve();
  private retentionTimer: NodeJS.Timeout | undefined;
  private failed: string | undefined;
  /** Capture time of the first frame: timestamps in the file count from it. */
  private firstTimeMs: number | undefined;
  private lastPtsMs = -1;
  framesWritten = 0;
  framesDropped = 0;

  constructor(
    private readonly dir: string,
    private readonly camera: string,
    private readonly options: Mp4Options,
  ) {}

  /** Segment files of this camera now on disk, oldest first. */
  get paths(): string[] {
    const pattern = new RegExp(`^${this.camera.replace(/[.]/g, '\\.')}-\\d{8}T\\d{6}Z\\.mp4$`);
    return fs
      .readdirSync(this.dir)
      .filter((f) => pattern.test(f))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  /** One frame, stamped with its capture time (ms since the epoch). */
  write(image: Mat, captureTimeMs: number): void {
    if (this.failed) return;
    if (!this.child) this.start(image.cols, image.rows);
    const stdin = this.child!.stdin!;
    if (stdin.writableLength > MAX_QUEUED_FRAMES * this.frameBytes) {
      if (this.framesDropped++ === 0)
        this.options.log(`${this.camera}: the MP4 encoder cannot keep up; dropping frames from the recording (the CSV keeps every frame)`);
      return;
    }
    // Strictly increasing by at least 1 ms: two frames captured in the same millisecond, or a
    // capture clock that stepped back, must not give ffmpeg equal or backward timestamps.
    if (this.firstTimeMs === undefined && Number.isFinite(captureTimeMs)) this.firstTimeMs = captureTimeMs;
    const sinceFirst = this.firstTimeMs !== undefined && Number.isFinite(captureTimeMs) ? Math.round(captureTimeMs - this.firstTimeMs) : this.lastPtsMs + 1;
    const pts = Math.max(sinceFirst, this.lastPtsMs + 1);
    this.lastPtsMs = pts;
    stdin.write(rawFramePrefix(pts, this.frameBytes));
    stdin.write(image.getData());
    this.framesWritten++;
  }

  /** Ends the recording: ffmpeg finishes the current segment (playable MP4) and exits. */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    if (this.child && this.child.exitCode === null) {
      this.child.stdin!.end();
      const child = this.child;
      const timer = setTimeout(() => child.kill('SIGKILL'), FINISH_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.applyRetention();
  }

  private start(width: number, height: number): void {
    this.frameBytes = width * height * 3;
    const s = this.options.segmentSeconds;
    const args = [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel',
      'error',
      // Raw BGR frames in Matroska, each with its capture time (1 ms time base). The header says all
      // there is to know: no probing, so encoding starts with the first frame.
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      // Start at 0; every frame kept with its own millisecond timestamp (vfr would drop frames
      // within one output frame tick); a key frame every S seconds so each segment cuts there.
      '-vf',
      'setpts=PTS-STARTPTS',
      '-fps_mode',
      'passthrough',
      '-enc_time_base',
      '1:1000',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '26',
      '-pix_fmt',
      'yuv420p',
      '-force_key_frames',
      `expr:gte(t,n_forced*${s})`,
      '-f',
      'segment',
      '-segment_time',
      String(s),
      '-reset_timestamps',
      '1',
      '-segment_format',
      'mp4',
      '-strftime',
      '1',
      path.join(this.dir, `${this.camera}-%Y%m%dT%H%M%SZ.mp4`),
    ];
    // Own process group: Ctrl-C in a terminal must not stop the encoder before the client has flushed it.
    const child = spawn(FFMPEG, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: { ...process.env, TZ: 'UTC' } });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined); // EPIPE when ffmpeg dies: reported through 'close'
    child.stdin.write(rawBgrMatroskaHeader(width, height));
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.failed = `cannot run ${FFMPEG}: ${err.message}`;
        resolve();
      });
      child.on('close', (code) => {
        if (code !== 0 && !this.failed) this.failed = `ffmpeg exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`;
        if (this.failed) this.options.log(`${this.camera}: MP4 recording stopped (${this.failed})`);
        resolve();
      });
    });
    if (this.options.keepSegments > 0) {
      this.retentionTimer = setInterval(() => this.applyRetention(), Math.max(1000, (s * 1000) / 2));
      this.retentionTimer.unref();
    }
  }

  /** Deletes the oldest segments beyond the limit (never the one being written: it is the newest). */
  private applyRetention(): void {
    const keep = this.options.keepSegments;
    if (keep <= 0) return;
    const files = this.paths;
    for (const old of files.slice(0, Math.max(0, files.length - keep))) {
      try {
        fs.unlinkSync(old);
      } catch {
        // Already gone (someone cleaned up): nothing to do.
      }
    }
  }
}
