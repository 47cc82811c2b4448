/**
 * The uint8 fast path's resize: OpenCV's fixed-point INTER_LINEAR (11-bit
 * weights) on bytes, interleaved, in C when the native addon is built
 * (native-resize.ts) and in JavaScript otherwise, with the same result.
 */
import { FrameDecodeError, type DecodedImage } from './jpeg-decode.js';
import { nativeResize } from './native-resize.js';

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
export function cachedFixedAxis(src: number, dst: number, step: number): FixedAxis {
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
