/** JPEGs that lie: valid markers around a frame header declaring other dimensions. */
import { solidJpeg } from './images.js';

/** Byte offset of the first SOF0-SOF2 marker's segment in `jpeg`. */
export function sofOffset(jpeg: Uint8Array): number {
  for (let i = 2; i + 1 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] >= 0xc0 && jpeg[i + 1] <= 0xc2) return i;
  }
  throw new Error('no SOF marker');
}

/**
 * A small real JPEG whose frame header is rewritten to declare width x height
 * (the "decompression bomb" of issue 8: 600 bytes that claim gigapixels).
 */
export function jpegDeclaring(width: number, height: number): Buffer {
  const jpeg = Buffer.from(solidJpeg(16, 16, 128));
  const at = sofOffset(jpeg);
  jpeg.writeUInt16BE(height, at + 5);
  jpeg.writeUInt16BE(width, at + 7);
  return jpeg;
}

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
