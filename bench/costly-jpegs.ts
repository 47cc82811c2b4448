/**
 * Frames that cost a server the most: the structure of issue 27's
 * progressive bomb, the costliest real frame the default limits still let
 * through, and a real frame padded to a size (the bytes a JPEG decoder
 * ignores after its end marker).
 */
import type { OpenCV } from '../client/opencv.js';

/**
 * The structure of a progressive JPEG declaring width x height with `scans`
 * scans of empty data (issue 27's costliest frame: 8K, 43 scans, seconds of
 * decode and ~300 MB of coefficients in libjpeg); markers only, no tables,
 * so the header walk sees it as the decoder would size it.
 */
export function progressiveDeclaring(width: number, height: number, scans: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  const sof = Buffer.from([0xff, 0xc2, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  parts.push(sof);
  for (let s = 0; s < scans; s++) parts.push(Buffer.from([0xff, 0xda, 0, 8, 1, 1, 0, 0, 0, 0, 0x00]));
  parts.push(Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/**
 * A real 3840x2160 progressive JPEG (libjpeg's standard script: 10 scans for
 * colour) of a camera frame scaled up, with noise so no block is empty:
 * 3840 x 2160 x 10 = 83 M pixel-passes, under the default --max-frame-work
 * (99.5 M), so the server decodes it in full.
 */
export function costliestAllowedJpeg(cv: OpenCV, cameraJpeg: Uint8Array): Buffer {
  const [rows, cols] = [2160, 3840];
  const frame = cv.imdecode(Buffer.from(cameraJpeg)).resize(rows, cols);
  const noise = Buffer.alloc(rows * cols * 3);
  for (let i = 0, x = 1; i < noise.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0; // an LCG: the same frame every run
    noise[i] = x >>> 28; // 0-15
  }
  const noisy = frame.add(new cv.Mat(noise, rows, cols, cv.CV_8UC3));
  return cv.imencode('.jpg', noisy, [cv.IMWRITE_JPEG_QUALITY, 90, cv.IMWRITE_JPEG_PROGRESSIVE, 1]);
}

/** `jpeg` followed by filler bytes up to `bytes` in all: decodes as `jpeg` does, queues as `bytes`. */
export function paddedJpeg(jpeg: Uint8Array, bytes: number): Buffer {
  const out = Buffer.alloc(Math.max(bytes, jpeg.length), 0x20);
  out.set(jpeg, 0);
  return out;
}
