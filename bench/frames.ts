/**
 * Pre-encodes the JPEG frames the simulated cameras send, once, before any
 * load starts (so encoding never competes with the server for CPU).
 * Source: a video (read with OpenCV, loaded lazily: it is an optional
 * dependency and main-thread only), a folder of .jpg files, or one .jpg.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorText, loadOpenCV, type OpenCV } from '../client/opencv.js';

export interface FrameSet {
  source: string;
  jpegs: Uint8Array[];
  width: number;
  height: number;
}

const JPEG_EXT = /\.(jpe?g)$/i;

export async function loadFrames(source: string, count: number, quality = 85): Promise<FrameSet> {
  if (count < 1) throw new RangeError('need at least one frame');
  const stat = statSync(source, { throwIfNoEntry: false });
  if (!stat) throw new Error(`frame source not found: ${source}`);
  if (stat.isDirectory()) {
    const files = readdirSync(source)
      .filter((f) => JPEG_EXT.test(f))
      .sort()
      .slice(0, count);
    if (files.length === 0) throw new Error(`no .jpg files in ${source}`);
    return fromJpegs(
      source,
      files.map((f) => readFileSync(path.join(source, f))),
    );
  }
  if (JPEG_EXT.test(source)) return fromJpegs(source, [readFileSync(source)]);
  return fromVideo(source, count, quality);
}

function fromJpegs(source: string, jpegs: Uint8Array[]): FrameSet {
  const size = jpegSize(jpegs[0]);
  return { source, jpegs, width: size.width, height: size.height };
}

async function fromVideo(source: string, count: number, quality: number): Promise<FrameSet> {
  // The client's loader: the system OpenCV, never an auto-build, and its build tooling's start-up chatter silenced.
  let cv: OpenCV;
  try {
    cv = await loadOpenCV();
  } catch (err) {
    throw new Error(`reading ${source} needs OpenCV (@u4/opencv4nodejs), which did not load: ${errorText(err)}. Pass --source a folder of .jpg files instead.`);
  }
  const capture = new cv.VideoCapture(source);
  const jpegs: Uint8Array[] = [];
  let width = 0;
  let height = 0;
  try {
    while (jpegs.length < count) {
      const mat = capture.read();
      if (mat.empty) break;
      width = mat.cols;
      height = mat.rows;
      jpegs.push(cv.imencode('.jpg', mat, [cv.IMWRITE_JPEG_QUALITY, quality]));
    }
  } finally {
    capture.release();
  }
  if (jpegs.length === 0) throw new Error(`no frames could be read from ${source}`);
  return { source, jpegs, width, height };
}

/** Width and height from a JPEG's SOF marker (no decode). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = jpeg[i + 1];
    const length = (jpeg[i + 2] << 8) | jpeg[i + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: (jpeg[i + 5] << 8) | jpeg[i + 6], width: (jpeg[i + 7] << 8) | jpeg[i + 8] };
    i += 2 + length;
  }
  return { width: 0, height: 0 };
}
