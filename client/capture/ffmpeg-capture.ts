/**
 * One ffmpeg process reading one live source and writing JPEG frames to a
 * pipe. Capture happens outside the client process: a stream that hangs
 * hangs only its own ffmpeg, which the watchdog (live-capture.ts) can kill.
 * ffmpeg also scales and limits the frame rate, so the client's main thread
 * never decodes a frame it does not draw or record.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { JpegSplitter } from './jpeg-splitter.js';

export interface CaptureSettings {
  /** Stream URL (rtsp://, http://, tcp://, ...) or a camera index (0 = /dev/video0). */
  source: string;
  /** Most frames per second to hand over (0: as the source sends them). */
  fps: number;
  /** Frames wider than this are scaled down (0: never). */
  maxWidth: number;
  /** 1-100, as for OpenCV. */
  jpegQuality: number;
  /** Extra ffmpeg input options without the dash, e.g. { rtsp_transport: 'tcp' }. */
  inputOptions: Readonly<Record<string, string>>;
}

export interface FfmpegCaptureEvents {
  /** A JPEG and when its last byte arrived (ms since the epoch). */
  frame: [jpeg: Buffer, capturedAtMs: number];
  /** The process is gone; why, in ffmpeg's words when it said something. */
  exit: [reason: string];
}

export const FFMPEG = process.env.CROWDLINE_FFMPEG ?? 'ffmpeg';

/** Throws when ffmpeg cannot be run (live cameras need it). */
export function assertFfmpegAvailable(): void {
  const probe = spawnSync(FFMPEG, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `live cameras are read with ffmpeg, and "${FFMPEG}" cannot be run (${probe.error?.message ?? `exit ${probe.status}`}); install it (apt-get install ffmpeg)`,
    );
  }
}

/** ffmpeg's MJPEG scale (2 best .. 31 worst) for an OpenCV-style quality; sizes come out close to OpenCV's. */
export function mjpegQscale(quality: number): number {
  return Math.max(2, Math.min(31, Math.round(2 + (100 - quality) * 0.15)));
}

export function ffmpegCaptureArgs(s: CaptureSettings): string[] {
  const input = /^\d+$/.test(s.source) ? ['-f', 'v4l2', '-i', `/dev/video${s.source}`] : ['-i', s.source];
  // Live: probe briefly (the default 5 s delays every reconnect), buffer nothing.
  const inputOptions: Record<string, string> = { fflags: 'nobuffer', analyzeduration: '1000000', probesize: '1000000', ...s.inputOptions };
  const filters = s.maxWidth > 0 ? ['-vf', `scale='min(${s.maxWidth},iw)':-2`] : [];
  // -r with vfr drops frames above the rate and never duplicates below it.
  const rate = s.fps > 0 ? ['-r', String(s.fps), '-fps_mode', 'vfr'] : ['-fps_mode', 'passthrough'];
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    ...Object.entries(inputOptions).flatMap(([k, v]) => [`-${k}`, v]),
    ...input,
    '-an',
    '-sn',
    '-dn',
    ...filters,
    ...rate,
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-pix_fmt',
    'yuvj420p',
    '-q:v',
    String(mjpegQscale(s.jpegQuality)),
    '-huffman',
    '0',
    'pipe:1',
  ];
}

const STDERR_KEEP = 2048;

export class FfmpegCapture extends EventEmitter<FfmpegCaptureEvents> {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exited = false;

  constructor(settings: CaptureSettings) {
    super();
    this.child = spawn(FFMPEG, ffmpegCaptureArgs(settings), { stdio: ['ignore', 'pipe', 'pipe'] });
    const splitter = new JpegSplitter();
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const now = Date.now();
      for (const jpeg of splitter.push(chunk)) this.emit('frame', jpeg, now);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_KEEP);
    });
    this.child.on('error', (err) => this.finish(`cannot run ${FFMPEG}: ${err.message}`));
    this.child.on('close', (code, signal) => {
      const said = this.stderrTail
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(-1)[0];
      this.finish(said ?? (signal ? `ffmpeg killed by ${signal}` : code === 0 ? 'the stream ended' : `ffmpeg exited with ${code}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the process (nothing to finalise: it only reads). 'exit' follows. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private finish(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('exit', reason);
  }
}
