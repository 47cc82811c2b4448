/**
 * JPEG -> pixels with libjpeg-turbo, in a worker thread: the frame header is
 * checked against the limits before the decoder sees the data, and the
 * pixels land in a reused scratch buffer or straight in the batch tensor.
 */
import jpeg from '@julusian/jpeg-turbo';
import { checkJpegLimits, inspectJpeg, type JpegInfo, type JpegLimits } from './jpeg-inspect.js';
import type { ModelManifest } from './manifest.js';

export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError';
}

export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Decoded straight into the DirectTarget: already the network input. */
  inPlace: boolean;
}

/**
 * Decodes into `scratch`'s buffer, which grows to the largest frame seen and
 * is reused: a worker runs one frame at a time, and the pixels are consumed
 * (resized into the network input) before the next decode. Dimensions are
 * checked against `limits` before libjpeg-turbo sees the data.
 */
export function decodeJpeg(bytes: Uint8Array, manifest: ModelManifest, limits: JpegLimits, scratch: DecodeScratch, direct?: DirectTarget): DecodedImage {
  const info = inspectJpeg(bytes);
  checkJpegLimits(info, limits);
  return decodeChecked(bytes, info, manifest, scratch, direct);
}

/** decodeJpeg once `info` (the frame header) has passed the limits. */
export function decodeChecked(bytes: Uint8Array, info: JpegInfo, manifest: ModelManifest, scratch: DecodeScratch, direct?: DirectTarget): DecodedImage {
  const order = manifest.input.channelOrder;
  const channels = order === 'GRAY' ? 1 : 3;
  const format = order === 'GRAY' ? jpeg.FORMAT_GRAY : order === 'BGR' ? jpeg.FORMAT_BGR : jpeg.FORMAT_RGB;
  const size = info.width * info.height * channels;
  // A frame that already has the network's size is decoded into its slot of the batch tensor.
  const intoTarget = direct !== undefined && direct.width === info.width && direct.height === info.height && direct.target.byteLength >= size;
  const out = intoTarget ? Buffer.from(direct.target.buffer, direct.target.byteOffset, size) : scratch.take(size);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let decoded: { width: number; height: number };
  try {
    decoded = jpeg.decompressSync(buffer, out, { format });
  } catch (err) {
    // The binding reports libjpeg-turbo's global error string, which is
    // "No error" for every decode failure (docs/upstream/jpeg-turbo-overflow.md).
    const detail = (err as Error).message;
    const said = detail && detail !== 'No error' ? `: ${detail}` : '';
    throw new FrameDecodeError(
      `corrupt JPEG: libjpeg-turbo could not decode the ${info.width}x${info.height} image's compressed data${said} (markers and frame header were valid)`,
    );
  }
  if (decoded.width !== info.width || decoded.height !== info.height) {
    throw new FrameDecodeError(`corrupt JPEG: decoded ${decoded.width}x${decoded.height}, frame header says ${info.width}x${info.height}`);
  }
  return { data: out.subarray(0, size), width: info.width, height: info.height, channels, inPlace: intoTarget };
}

/** Where a frame of exactly width x height may be decoded in place (interleaved bytes). */
export interface DirectTarget {
  width: number;
  height: number;
  target: Uint8Array;
}

/** A worker's reusable decode buffer. */
export class DecodeScratch {
  private buffer = Buffer.alloc(0);

  /** A buffer of at least `size` bytes (grown, never shrunk: bounded by --max-frame-pixels x 3). */
  take(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    return this.buffer;
  }
}
