/**
 * The first frame of a source, opened the way the client opens it: files and
 * image folders in-process with OpenCV (sources.ts), camera indexes and
 * stream URLs through an ffmpeg capture process (ffmpeg-capture.ts), given a
 * bounded time to deliver.
 */
import { FfmpegCapture, assertFfmpegAvailable } from './ffmpeg-capture.js';
import type { Mat, OpenCV } from '../opencv.js';
import { isLiveCamera, openSource, parseSource } from './sources.js';
import { redactUrl } from '../config/cameras.js';

export interface FirstFrameOptions {
  /** Live sources: give up after this long without a frame. */
  timeoutMs?: number;
  /** Extra ffmpeg input options for a live source, e.g. { rtsp_transport: 'tcp' }. */
  inputOptions?: Record<string, string>;
}

export async function readFirstFrame(cv: OpenCV, source: string, options: FirstFrameOptions = {}): Promise<Mat> {
  const spec = parseSource(source);
  if (!isLiveCamera(spec)) {
    const opened = openSource(cv, spec);
    try {
      const raw = opened.read();
      if (!raw) throw new Error(`source "${source}" gave no frame`);
      return raw.image ?? cv.imdecode(raw.jpeg, cv.IMREAD_COLOR);
    } finally {
      opened.close();
    }
  }
  assertFfmpegAvailable();
  const timeoutMs = options.timeoutMs ?? 20_000;
  const capture = new FfmpegCapture({ source, fps: 0, maxWidth: 0, jpegQuality: 95, inputOptions: options.inputOptions ?? {} });
  const jpeg = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no frame from ${redactUrl(source)} within ${timeoutMs / 1000} s`)), timeoutMs);
    capture.once('frame', (frame) => {
      clearTimeout(timer);
      resolve(frame);
    });
    capture.once('exit', (reason) => {
      clearTimeout(timer);
      reject(new Error(`cannot read ${redactUrl(source)}: ${reason}`));
    });
  }).finally(() => capture.kill());
  return cv.imdecode(jpeg, cv.IMREAD_COLOR);
}
