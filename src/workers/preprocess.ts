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
import { decodeChecked, FrameDecodeError, type DecodeScratch } from './jpeg-decode.js';
import { checkJpegLimits, inspectJpeg, type JpegLimits } from './jpeg-inspect.js';
import { channelCount, type ModelManifest } from './manifest.js';
import { nativeResize } from './native-resize.js';
import { cachedFixedAxis, resizeBytesInto } from './resize-bytes.js';

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
    throw new Error(
      identity ? 'decodeBytesInto: no resize at identity size' : 'the native decode-resize is not available (npm run build:native with libjpeg62-turbo-dev)',
    );
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
      throw new FrameDecodeError(
        `corrupt JPEG: the ${info.width}x${info.height} image's compressed data did not decode: ${detail} (markers and frame header were valid)`,
      );
    }
    return { width: info.width, height: info.height, fused: true, resizeMs: 0 };
  }
  const direct = { width, height, target: out.subarray(offset, offset + width * height * channels) };
  const image = decodeChecked(bytes, info, manifest, scratch, direct);
  const t0 = performance.now();
  resizeBytesInto(image, channels, width, height, out, offset);
  return { width: info.width, height: info.height, fused: false, resizeMs: identity ? 0 : performance.now() - t0 };
}
