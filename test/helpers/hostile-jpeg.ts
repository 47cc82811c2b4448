/** JPEGs that lie: valid markers around a frame header declaring other dimensions. */
import { solidJpeg } from './images.js';

export { progressiveDeclaring } from '../../bench/costly-jpegs.js';

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
