/**
 * The small grey copy of a frame that motion is measured on: the network
 * input (the whole frame, already resized by the decoder) averaged over
 * `factor` x `factor` blocks, as (R + 2G + B) / 4. Made in the worker that
 * holds the decoded frame, so a frame's pixels never travel for it; 1/4 of a
 * 768x576 input is 192x144, 27 KB.
 */

/** The grey copy's size in pixels, whatever the input's: 192x144 for a 768x576 input (1/4 each way), and about as many for any other, so motion costs the same per line under every input policy. */
export const GREY_TARGET_PIXELS = 192 * 144;

/** The block size (input pixels per grey pixel, each way) that gives an input of width x height a grey copy of about GREY_TARGET_PIXELS. */
export function greyFactorFor(width: number, height: number): number {
  return Math.max(1, Math.round(Math.sqrt((width * height) / GREY_TARGET_PIXELS)));
}

export interface GreyImage {
  width: number;
  height: number;
  /** Row-major, one byte per pixel. */
  data: Uint8Array;
}

/** How the network input lies in memory (the manifest's layout and channels). */
export interface InputLayout {
  layout: 'NHWC' | 'NCHW';
  /** 3 (RGB or BGR: the weights are symmetric) or 1 (grey); default 3. */
  channels?: 1 | 3;
  /** Float inputs: value = (pixel * pixelScale - mean[c]) / std[c]; the inverse is applied. Absent for uint8 inputs (raw pixels). */
  normalisation?: { pixelScale: number; mean: readonly number[]; std: readonly number[] };
}

/** Grey of one frame of the network input at `offset` (elements) in `input`. */
export function greyFromInput(
  input: Uint8Array | Float32Array,
  offset: number,
  width: number,
  height: number,
  layout: InputLayout,
  factor = greyFactorFor(width, height),
): GreyImage {
  const gw = Math.floor(width / factor);
  const gh = Math.floor(height / factor);
  if (gw < 8 || gh < 8) throw new RangeError(`grey copy of a ${width}x${height} input at 1/${factor} is too small for motion`);
  const out = new Uint8Array(gw * gh);
  const plane = width * height;
  const norm = layout.normalisation;
  // Raw pixel value of channel c at element index i.
  const px = (i: number, c: number): number => {
    const value = input[i];
    return norm ? (value * norm.std[c] + norm.mean[c]) / norm.pixelScale : value;
  };
  const channels = layout.channels ?? 3;
  if (!norm && layout.layout === 'NHWC' && channels === 3 && input instanceof Uint8Array) {
    // The common case (uint8 RGB or BGR, the shipped models): whole rows at a time, no per-pixel calls.
    const sums = new Uint32Array(gw);
    const shift = 2 * Math.log2(factor) + 2;
    const exact = Number.isInteger(shift);
    for (let gy = 0; gy < gh; gy++) {
      sums.fill(0);
      for (let dy = 0; dy < factor; dy++) {
        let i = offset + (gy * factor + dy) * width * 3;
        for (let gx = 0; gx < gw; gx++) {
          let s = 0;
          for (let dx = 0; dx < factor; dx++, i += 3) s += input[i] + 2 * input[i + 1] + input[i + 2];
          sums[gx] += s;
        }
      }
      const row = gy * gw;
      const divide = 4 * factor * factor;
      for (let gx = 0; gx < gw; gx++) out[row + gx] = exact ? (sums[gx] + (divide >> 1)) >> shift : Math.round(sums[gx] / divide);
    }
    return { width: gw, height: gh, data: out };
  }
  const weight = channels === 1 ? [1] : [0.25, 0.5, 0.25];
  const scale = 1 / (factor * factor);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const y = gy * factor + dy;
        for (let dx = 0; dx < factor; dx++) {
          const p = y * width + gx * factor + dx;
          for (let c = 0; c < channels; c++) {
            const i = layout.layout === 'NHWC' ? offset + p * channels + c : offset + c * plane + p;
            sum += weight[c] * px(i, c);
          }
        }
      }
      const g = sum * scale;
      out[gy * gw + gx] = g < 0 ? 0 : g > 255 ? 255 : Math.round(g);
    }
  }
  return { width: gw, height: gh, data: out };
}
