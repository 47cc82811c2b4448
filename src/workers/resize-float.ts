/**
 * The float path: a fused bilinear resize + normalise of a decoded image
 * into the NCHW float32 batch tensor, for models that take normalised
 * floats (also the reference the uint8 fast path is tested against).
 * Resampling matches OpenCV's INTER_LINEAR (half-pixel centres, no antialias).
 */
import { FrameDecodeError, type DecodedImage } from './jpeg-decode.js';
import { channelCount, type ModelManifest } from './manifest.js';

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
export function resizeNormalizeInto(image: DecodedImage, manifest: ModelManifest, width: number, height: number, out: Float32Array, offset: number): void {
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
