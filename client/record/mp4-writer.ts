/**
 * H.264 MP4 recording through an ffmpeg child process, in fixed-length
 * segments (NAME-20261125T194000Z.mp4, UTC) with a retention limit: MJPEG AVI
 * costs ~6 GB per camera-hour, H.264 a few hundred MB. Frames go to ffmpeg
 * raw (BGR), so the main thread does no encoding; timestamps are the arrival
 * times, so skipped frames and outages play as real time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FFMPEG } from '../capture/ffmpeg-capture.js';
import type { Mat } from '../opencv.js';

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

  write(image: Mat): void {
    if (this.failed) return;
    if (!this.child) this.start(image.cols, image.rows);
    const stdin = this.child!.stdin!;
    if (stdin.writableLength > MAX_QUEUED_FRAMES * this.frameBytes) {
      if (this.framesDropped++ === 0)
        this.options.log(`${this.camera}: the MP4 encoder cannot keep up; dropping frames from the recording (the CSV keeps every frame)`);
      return;
    }
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
      '-f',
      'rawvideo',
      '-pix_fmt',
      'bgr24',
      '-s',
      `${width}x${height}`,
      '-use_wallclock_as_timestamps',
      '1',
      '-i',
      'pipe:0',
      // Start at 0; every frame kept with its own millisecond timestamp (vfr would drop frames
      // arriving within one 1/25 s tick); a key frame every S seconds so each segment cuts there.
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
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    child.stdin!.on('error', () => undefined); // EPIPE when ffmpeg dies: reported through 'close'
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
