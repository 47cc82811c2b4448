/**
 * One frame's network input under the `native` or `tiled` input-size policy
 * (input-size.ts), in a worker thread: the JPEG is checked and decoded once,
 * then either resized to its rounded native size, or resized to the tile
 * plan's size and cut into tiles, back to back in one batch tensor. The
 * `fixed` policy stays with FramePreparer (prepare.ts), which batches
 * frames of many cameras.
 */
import { performance } from 'node:perf_hooks';
import { checkJpegLimits, inspectJpeg, type JpegLimits } from './jpeg-inspect.js';
import { type InputSizeLimits, type InputSizePolicy, type NetGeometry, type TilePlan, planNative, planTiles } from './input-size.js';
import { channelCount, type ModelManifest } from './manifest.js';
import { greyLayoutOf, type InputArray } from './prepare.js';
import { greyFromInput, type GreyImage, type InputLayout } from '../lines/grey.js';
import { DecodeScratch, decodeJpeg } from './jpeg-decode.js';
import { decodeBytesInto } from './preprocess.js';
import { resizeBytesInto } from './resize-bytes.js';
import { resizeNormalizeInto } from './resize-float.js';

/** A frame laid out for the network: `frames` inputs of width x height (1 for native, the tiles for tiled). */
export interface PolicyInput {
  input: InputArray;
  frames: number;
  width: number;
  height: number;
  /** Set for tiled: how to stitch the tiles' maps back. */
  plan?: TilePlan;
  imageWidth: number;
  imageHeight: number;
  decodeUs: number;
  preprocessUs: number;
  /** The frame's grey copy (counting lines), when asked for and the frame is not too skewed to have one. */
  grey?: GreyImage;
}

/** A grey copy for motion, or none where the frame is too narrow for one (then the lines' motion restarts; the frame itself is fine). */
function greyOrNone(input: Uint8Array | Float32Array, width: number, height: number, layout: InputLayout): GreyImage | undefined {
  try {
    return greyFromInput(input, 0, width, height, layout);
  } catch {
    return undefined;
  }
}

export function netGeometry(manifest: ModelManifest, width: number, height: number): NetGeometry {
  return { width, height, sizeMultiple: manifest.input.sizeMultiple, stride: manifest.output.stride };
}

export class PolicyInputPreparer {
  private readonly scratch = new DecodeScratch();
  /** The frame resized to the tile plan (interleaved bytes), reused frame after frame: bounded by maxTiles tiles' pixels. */
  private planeBuffer = new Uint8Array(0);
  private readonly channels: number;

  constructor(
    readonly manifest: ModelManifest,
    readonly net: NetGeometry,
    private readonly limits: JpegLimits,
    private readonly sizeLimits: InputSizeLimits,
  ) {
    this.channels = channelCount(manifest.input.channelOrder);
  }

  /**
   * Throws JpegRejected (limits) or FrameDecodeError (corrupt data), as
   * FramePreparer does. `motion`: also make the frame's grey copy (its
   * camera counts lines), from the whole frame as the network sees it.
   */
  prepare(jpeg: Uint8Array, policy: Exclude<InputSizePolicy, 'fixed'>, motion = false): PolicyInput {
    const t0 = performance.now();
    const info = inspectJpeg(jpeg);
    checkJpegLimits(info, this.limits);
    return policy === 'native' ? this.native(jpeg, info.width, info.height, t0, motion) : this.tiled(jpeg, t0, motion);
  }

  private fresh(length: number): InputArray {
    return this.manifest.input.elementType === 'uint8' ? new Uint8Array(length) : new Float32Array(length);
  }

  private native(jpeg: Uint8Array, imageWidth: number, imageHeight: number, t0: number, motion: boolean): PolicyInput {
    const { width, height } = planNative(imageWidth, imageHeight, this.net, this.sizeLimits);
    const input = this.fresh(this.channels * width * height);
    let resizeMs: number;
    if (input instanceof Uint8Array) {
      ({ resizeMs } = decodeBytesInto(jpeg, this.manifest, this.limits, this.scratch, width, height, input, 0));
    } else {
      const image = decodeJpeg(jpeg, this.manifest, this.limits, this.scratch);
      const t1 = performance.now();
      resizeNormalizeInto(image, this.manifest, width, height, input, 0);
      resizeMs = performance.now() - t1;
    }
    const grey = motion ? greyOrNone(input, width, height, greyLayoutOf(this.manifest)) : undefined;
    return {
      grey,
      input,
      frames: 1,
      width,
      height,
      imageWidth,
      imageHeight,
      decodeUs: Math.round((performance.now() - t0) * 1000),
      preprocessUs: Math.round(resizeMs * 1000),
    };
  }

  private tiled(jpeg: Uint8Array, t0: number, motion: boolean): PolicyInput {
    const image = decodeJpeg(jpeg, this.manifest, this.limits, this.scratch);
    const t1 = performance.now();
    const plan = planTiles(image.width, image.height, this.net, this.sizeLimits);
    const c = this.channels;
    const planeBytes = plan.width * plan.height * c;
    if (this.planeBuffer.length < planeBytes) this.planeBuffer = new Uint8Array(planeBytes);
    const plane = this.planeBuffer;
    // The frame at the plan's size (a copy when that is its own size), then each tile cut from it.
    resizeBytesInto(image, c, plan.width, plan.height, plane, 0);
    const tw = plan.tileWidth;
    const th = plan.tileHeight;
    const input = this.fresh(plan.tiles * c * tw * th);
    let tile = 0;
    for (const y0 of plan.rows.origins) {
      for (const x0 of plan.columns.origins) {
        if (input instanceof Uint8Array) copyTileBytes(plane, plan.width, c, x0, y0, tw, th, input, tile * c * tw * th);
        else normaliseTile(plane, plan.width, this.manifest, x0, y0, tw, th, input, tile * c * tw * th);
        tile++;
      }
    }
    // The grey copy comes from the whole resized frame (raw bytes, before any normalisation), not from the tiles.
    const grey = motion ? greyOrNone(plane.subarray(0, planeBytes), plan.width, plan.height, { layout: 'NHWC', channels: c === 1 ? 1 : 3 }) : undefined;
    const done = performance.now();
    return {
      grey,
      input,
      frames: plan.tiles,
      width: tw,
      height: th,
      plan,
      imageWidth: image.width,
      imageHeight: image.height,
      decodeUs: Math.round((done - t0) * 1000),
      preprocessUs: Math.round((done - t1) * 1000),
    };
  }
}

/** A tile of an interleaved plane into the uint8 NHWC tensor (row copies). */
function copyTileBytes(
  plane: Uint8Array,
  planeWidth: number,
  c: number,
  x0: number,
  y0: number,
  tw: number,
  th: number,
  out: Uint8Array,
  offset: number,
): void {
  const row = tw * c;
  for (let y = 0; y < th; y++) {
    const src = ((y0 + y) * planeWidth + x0) * c;
    out.set(plane.subarray(src, src + row), offset + y * row);
  }
}

/** A tile of an interleaved plane into the float NCHW tensor, normalised as resizeNormalizeInto does. */
function normaliseTile(
  plane: Uint8Array,
  planeWidth: number,
  manifest: ModelManifest,
  x0: number,
  y0: number,
  tw: number,
  th: number,
  out: Float32Array,
  offset: number,
): void {
  const { pixelScale, mean, std, channelOrder } = manifest.input;
  const c = channelCount(channelOrder);
  const area = tw * th;
  for (let ch = 0; ch < c; ch++) {
    const a = pixelScale / std[ch];
    const b = -mean[ch] / std[ch];
    const base = offset + ch * area;
    for (let y = 0; y < th; y++) {
      let src = ((y0 + y) * planeWidth + x0) * c + ch;
      const dst = base + y * tw;
      for (let x = 0; x < tw; x++, src += c) out[dst + x] = plane[src] * a + b;
    }
  }
}
