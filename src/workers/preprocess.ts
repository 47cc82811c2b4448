/**
 * JPEG -> network input, in a worker thread: one libjpeg-turbo decode, then
 * either
 *  - the uint8 fast path (models whose graph takes raw pixels, NHWC, and
 *    normalises itself: models/fold_input.py): nothing at all when the frame
 *    already has the network's size (the decoder writes straight into the
 *    batch tensor), else one fixed-point bilinear pass on bytes into it,
 *    run on the decoder's rows as they come out when the native addon has
 *    decodeResizeU8 (native/decode-resize.c: the decoded image is never
 *    written whole), else on the whole decoded image (decodeBytesInto); or
 *  - the float path (any other model): a fused bilinear resize + normalise
 *    into the NCHW float32 batch tensor (also the reference the fast path is
 *    tested against).
 * Resampling matches OpenCV's INTER_LINEAR (half-pixel centres, no
 * antialias), which is what models/train.py uses, so train and serve agree;
 * the fast path uses OpenCV's own fixed-point weights (11 bits).
 */
import { performance } from 'node:perf_hooks';
import jpeg from '@julusian/jpeg-turbo';
import { checkJpegLimits, inspectJpeg, type JpegInfo, type JpegLimits } from './jpeg-inspect.js';
import { channelCount, type ModelManifest } from './manifest.js';
import { nativeResize } from './native-resize.js';

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
export function decodeJpeg(
  bytes: Uint8Array,
  manifest: ModelManifest,
  limits: JpegLimits,
  scratch: DecodeScratch,
  direct?: DirectTarget,
): DecodedImage {
  const info = inspectJpeg(bytes);
  checkJpegLimits(info, limits);
  return decodeChecked(bytes, info, manifest, scratch, direct);
}

/** decodeJpeg once `info` (the frame header) has passed the limits. */
function decodeChecked(bytes: Uint8Array, info: JpegInfo, manifest: ModelManifest, scratch: DecodeScratch, direct?: DirectTarget): DecodedImage {
  const order = manifest.input.channelOrder;
  const channels = order === 'GRAY' ? 1 : 3;
  const format = order === 'GRAY' ? jpeg.FORMAT_GRAY : order === 'BGR' ? jpeg.FORMAT_BGR : jpeg.FORMAT_RGB;
  const size = info.width * info.height * channels;
  // A frame that already has the network's size is decoded into its slot of the batch tensor.
  const intoTarget = direct !== undefined && direct.width === info.width && direct.height === info.height && direct.target.byteLength >= size;
  const out = intoTarget
    ? Buffer.from(direct.target.buffer, direct.target.byteOffset, size)
    : scratch.take(size);
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

interface Axis {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

/** OpenCV INTER_LINEAR source coordinates for one axis. */
function axisTable(src: number, dst: number): Axis {
  const lo = new Int32Array(dst);
  const hi = new Int32Array(dst);
  const frac = new Float32Array(dst);
  const scale = src / dst;
  for (let i = 0; i < dst; i++) {
    let s = (i + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    let l = Math.floor(s);
    if (l > src - 1) l = src - 1;
    lo[i] = l;
    hi[i] = Math.min(l + 1, src - 1);
    frac[i] = Math.min(s - l, 1);
  }
  return { lo, hi, frac };
}

// Tables depend only on (src, dst) sizes, which repeat frame after frame.
const tableCache = new Map<string, Axis>();
function cachedAxis(src: number, dst: number): Axis {
  const key = `${src}>${dst}`;
  let t = tableCache.get(key);
  if (!t) {
    if (tableCache.size > 64) tableCache.clear();
    t = axisTable(src, dst);
    tableCache.set(key, t);
  }
  return t;
}

/**
 * Writes `image` resized to width x height and normalised per the manifest
 * into `out` (planar, C x H x W) starting at `offset`.
 */
export function resizeNormalizeInto(
  image: DecodedImage,
  manifest: ModelManifest,
  width: number,
  height: number,
  out: Float32Array,
  offset: number,
): void {
  const channels = channelCount(manifest.input.channelOrder);
  if (image.channels !== channels) throw new FrameDecodeError(`decoded ${image.channels} channels, model wants ${channels}`);
  const { pixelScale, mean, std } = manifest.input;
  const plane = width * height;
  const src = image.data;
  const srcStride = image.width * channels;

  for (let c = 0; c < channels; c++) {
    const a = pixelScale / std[c];
    const b = -mean[c] / std[c];
    const base = offset + c * plane;
    if (image.width === width && image.height === height) {
      // Same size: normalise only.
      for (let i = 0, p = c; i < plane; i++, p += channels) out[base + i] = src[p] * a + b;
      continue;
    }
    const xs = cachedAxis(image.width, width);
    const ys = cachedAxis(image.height, height);
    for (let y = 0; y < height; y++) {
      const row0 = ys.lo[y] * srcStride + c;
      const row1 = ys.hi[y] * srcStride + c;
      const fy = ys.frac[y];
      const rowOut = base + y * width;
      for (let x = 0; x < width; x++) {
        const x0 = xs.lo[x] * channels;
        const x1 = xs.hi[x] * channels;
        const fx = xs.frac[x];
        const top = src[row0 + x0] + (src[row0 + x1] - src[row0 + x0]) * fx;
        const bottom = src[row1 + x0] + (src[row1 + x1] - src[row1 + x0]) * fx;
        out[rowOut + x] = (top + (bottom - top) * fy) * a + b;
      }
    }
  }
}

/** OpenCV's INTER_RESIZE_COEF_BITS: bilinear weights in 1/2048ths. */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;
const ROUND = 1 << (2 * COEF_BITS - 1);

interface FixedAxis {
  /** Source offsets (pixel index x channels for x, row index x stride for y). */
  lo: Int32Array;
  hi: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
  /** The same four, interleaved per output position (lo, hi, w0, w1): one cache line for the inner loop. */
  packed: Int32Array;
}

/**
 * OpenCV INTER_LINEAR source coordinates and fixed-point weights for one
 * axis, computed the way cv::resize does (float32 coordinate, clamped at
 * both borders, each weight rounded to 1/2048 on its own).
 */
function fixedAxis(src: number, dst: number, step: number): FixedAxis {
  const lo = new Int32Array(dst);
  const hi = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  const packed = new Int32Array(dst * 4);
  const scale = src / dst;
  for (let i = 0; i < dst; i++) {
    let f = Math.fround((i + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= src - 1) {
      f = 0;
      s = src - 1;
    }
    lo[i] = s * step;
    hi[i] = Math.min(s + 1, src - 1) * step;
    w0[i] = Math.round((1 - f) * COEF_SCALE);
    w1[i] = Math.round(f * COEF_SCALE);
    packed.set([lo[i], hi[i], w0[i], w1[i]], i * 4);
  }
  return { lo, hi, w0, w1, packed };
}

const fixedCache = new Map<string, FixedAxis>();
function cachedFixedAxis(src: number, dst: number, step: number): FixedAxis {
  const key = `${src}>${dst}x${step}`;
  let t = fixedCache.get(key);
  if (!t) {
    if (fixedCache.size > 64) fixedCache.clear();
    t = fixedAxis(src, dst, step);
    fixedCache.set(key, t);
  }
  return t;
}

/** Which bilinear loop the fast path runs: the native one when built ('auto'), or a given one (tests, bench). */
export type ResizeLoop = 'auto' | 'js' | 'native';

/**
 * The uint8 fast path: writes `image` resized to width x height into `out`
 * at `offset`, interleaved (H x W x C, the NHWC layout of a uint8 model), as
 * bytes: one pass, integer arithmetic only, OpenCV's fixed-point bilinear
 * (within 1 of the float reference per value). Same size: one copy (none
 * when the decoder already wrote into `out`). The loop runs in C
 * (native-resize.ts) when the addon is built, with the same result.
 */
export function resizeBytesInto(
  image: DecodedImage,
  channels: number,
  width: number,
  height: number,
  out: Uint8Array,
  offset: number,
  loop: ResizeLoop = 'auto',
): void {
  if (image.channels !== channels) throw new FrameDecodeError(`decoded ${image.channels} channels, model wants ${channels}`);
  const src = image.data;
  if (image.width === width && image.height === height) {
    if (!image.inPlace) out.set(src.subarray(0, width * height * channels), offset);
    return;
  }
  const xs = cachedFixedAxis(image.width, width, channels);
  const ys = cachedFixedAxis(image.height, height, image.width * channels);
  const native = loop === 'js' ? undefined : nativeResize();
  if (native) {
    native.resizeBilinearU8(src, image.width, image.height, channels, xs.packed, ys.packed, out, offset, width, height);
    return;
  }
  if (loop === 'native') throw new Error('the native resize is not available (npm run build:native)');
  const { lo: xlo, hi: xhi, w0: xw0, w1: xw1, packed } = xs;
  const end = width * 4;
  let o = offset;
  for (let y = 0; y < height; y++) {
    const r0 = ys.lo[y];
    const r1 = ys.hi[y];
    const b0 = ys.w0[y];
    const b1 = ys.w1[y];
    if (channels === 3) {
      for (let k = 0; k < end; k += 4) {
        const a0 = packed[k + 2];
        const a1 = packed[k + 3];
        const p00 = r0 + packed[k];
        const p01 = r0 + packed[k + 1];
        const p10 = r1 + packed[k];
        const p11 = r1 + packed[k + 1];
        out[o] = ((src[p00] * a0 + src[p01] * a1) * b0 + (src[p10] * a0 + src[p11] * a1) * b1 + ROUND) >> 22;
        out[o + 1] = ((src[p00 + 1] * a0 + src[p01 + 1] * a1) * b0 + (src[p10 + 1] * a0 + src[p11 + 1] * a1) * b1 + ROUND) >> 22;
        out[o + 2] = ((src[p00 + 2] * a0 + src[p01 + 2] * a1) * b0 + (src[p10 + 2] * a0 + src[p11 + 2] * a1) * b1 + ROUND) >> 22;
        o += 3;
      }
    } else {
      for (let x = 0; x < width; x++) {
        const a0 = xw0[x];
        const a1 = xw1[x];
        for (let c = 0; c < channels; c++) {
          const top = src[r0 + xlo[x] + c] * a0 + src[r0 + xhi[x] + c] * a1;
          const bottom = src[r1 + xlo[x] + c] * a0 + src[r1 + xhi[x] + c] * a1;
          out[o++] = (top * b0 + bottom * b1 + ROUND) >> 22;
        }
      }
    }
  }
}

/**
 * How the uint8 fast path decodes a frame that needs resizing: 'auto' (in
 * one pass when the native addon has decodeResizeU8, else 'two-step'),
 * 'two-step' (decodeJpeg into the scratch buffer, then resizeBytesInto) or
 * 'fused' (decodeResizeU8; throws where it is not built). Tests and the
 * bench pick one; the server runs 'auto'.
 */
export type FastDecode = 'auto' | 'two-step' | 'fused';

/** What decodeBytesInto did with one frame. */
export interface FastDecoded {
  /** The JPEG's own size. */
  width: number;
  height: number;
  /** Decoded and resized in one pass (decodeResizeU8). */
  fused: boolean;
  /** Milliseconds of the separate resize pass (two-step path); 0 when fused into the decode or at identity size. */
  resizeMs: number;
}

const CHANNEL_ORDER_CODE = { RGB: 0, BGR: 1, GRAY: 2 } as const;

/**
 * The uint8 fast path for one frame: JPEG -> width x height bytes
 * (interleaved, the manifest's channel order) at `offset` of `out`, the
 * bytes resizeBytesInto gives on the decoded image whichever way it runs.
 * The frame header is checked against `limits` before any decoder sees the
 * data. At the network's size the decoder writes into `out` directly; else
 * one native call decodes scanlines into a ring of a few rows and blends
 * each output row as soon as its two source rows are decoded
 * (native/decode-resize.c), or, without it, decode then resize.
 */
export function decodeBytesInto(
  bytes: Uint8Array,
  manifest: ModelManifest,
  limits: JpegLimits,
  scratch: DecodeScratch,
  width: number,
  height: number,
  out: Uint8Array,
  offset: number,
  how: FastDecode = 'auto',
): FastDecoded {
  const order = manifest.input.channelOrder;
  const channels = channelCount(order);
  const info = inspectJpeg(bytes);
  checkJpegLimits(info, limits);
  const identity = info.width === width && info.height === height;
  const fused = identity || how === 'two-step' ? undefined : nativeResize()?.decodeResizeU8;
  if (how === 'fused' && fused === undefined) {
    throw new Error(identity ? 'decodeBytesInto: no resize at identity size' : 'the native decode-resize is not available (npm run build:native with libjpeg62-turbo-dev)');
  }
  if (fused !== undefined) {
    const xs = cachedFixedAxis(info.width, width, channels);
    const ys = cachedFixedAxis(info.height, height, info.width * channels);
    try {
      fused(bytes, CHANNEL_ORDER_CODE[order], xs.packed, ys.packed, out, offset, width, height, info.width, info.height);
    } catch (err) {
      // RangeError/TypeError: our own arguments (tables, buffers), a bug to surface as is; Error: the JPEG did not decode.
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      const detail = (err as Error).message.replace(/^decodeResizeU8: /, '');
      throw new FrameDecodeError(`corrupt JPEG: the ${info.width}x${info.height} image's compressed data did not decode: ${detail} (markers and frame header were valid)`);
    }
    return { width: info.width, height: info.height, fused: true, resizeMs: 0 };
  }
  const direct = { width, height, target: out.subarray(offset, offset + width * height * channels) };
  const image = decodeChecked(bytes, info, manifest, scratch, direct);
  const t0 = performance.now();
  resizeBytesInto(image, channels, width, height, out, offset);
  return { width: info.width, height: info.height, fused: false, resizeMs: identity ? 0 : performance.now() - t0 };
}
