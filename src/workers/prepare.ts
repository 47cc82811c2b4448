/**
 * Decode + preprocessing of a batch of JPEGs into the network's input tensor
 * (no session, no sockets): runs inside the inference worker (fused, the CPU
 * default) or in a prepare worker of its own pool (decode threads separate
 * from inference sessions, the GPU default). Frames that fail to decode fail
 * alone; the rest of the batch goes on.
 */
import { performance } from 'node:perf_hooks';
import { JpegRejected, type JpegLimits } from './jpeg-inspect.js';
import { channelCount, type ModelManifest } from './manifest.js';
import { greyFromInput, type InputLayout } from '../lines/grey.js';
import { DecodeScratch, decodeJpeg } from './jpeg-decode.js';
import { decodeBytesInto } from './preprocess.js';
import { resizeNormalizeInto } from './resize-float.js';
import type { FrameOutcome, PreparedBatch } from './types.js';

const nowMs = (): number => performance.timeOrigin + performance.now();

export type InputArray = Uint8Array<ArrayBufferLike> | Float32Array<ArrayBufferLike>;

/** Bytes of one frame's network input (channels x width x height, as the manifest's element type): a tensor slot holds max batch of these. */
export function frameInputBytes(manifest: ModelManifest, width: number, height: number): number {
  return channelCount(manifest.input.channelOrder) * width * height * (manifest.input.elementType === 'uint8' ? 1 : 4);
}

/** The batch tensor's data over `buffer` (as the manifest's element type). */
export function inputView(manifest: ModelManifest, buffer: ArrayBufferLike, length?: number): InputArray {
  return manifest.input.elementType === 'uint8' ? new Uint8Array(buffer, 0, length) : new Float32Array(buffer, 0, length);
}

/** How the grey copy (src/lines/grey.ts) reads a model's network input. */
export function greyLayoutOf(manifest: ModelManifest): InputLayout {
  const input = manifest.input;
  return {
    layout: input.layout,
    channels: channelCount(input.channelOrder) === 1 ? 1 : 3,
    normalisation: input.elementType === 'uint8' ? undefined : { pixelScale: input.pixelScale, mean: input.mean, std: input.std },
  };
}

export class FramePreparer {
  private readonly scratch = new DecodeScratch();
  private readonly channels: number;
  readonly perFrame: number;
  private reusable: InputArray | undefined;

  /**
   * `reuseInput`: keep one input buffer and hand out views of it (when the
   * tensor stays on this thread, consumed before the next batch); otherwise
   * every batch is prepared into the buffer given (a tensor slot), or a
   * fresh one.
   */
  constructor(
    readonly manifest: ModelManifest,
    readonly width: number,
    readonly height: number,
    private readonly limits: JpegLimits,
    private readonly reuseInput: boolean,
  ) {
    this.channels = channelCount(manifest.input.channelOrder);
    this.perFrame = this.channels * width * height;
  }

  private inputFor(frames: number, into?: ArrayBufferLike): InputArray {
    const length = this.perFrame * frames;
    const fresh = (n: number): InputArray => (this.manifest.input.elementType === 'uint8' ? new Uint8Array(n) : new Float32Array(n));
    if (!this.reuseInput) {
      // A tensor slot: no allocation, no page faults, no GC of 10 MB per batch.
      const bytes = frames * frameInputBytes(this.manifest, this.width, this.height);
      if (into && into.byteLength >= bytes) return inputView(this.manifest, into);
      if (into) throw new RangeError(`a batch of ${frames} frames needs ${bytes} bytes; the buffer given holds ${into.byteLength}`);
      return fresh(length);
    }
    if (!this.reusable || this.reusable.length < length) this.reusable = fresh(length);
    return this.reusable;
  }

  /**
   * `into`: the buffer (a tensor slot) to prepare into (when not reusing one
   * of its own); `motion[i]`: also make frame i's grey copy (lines).
   */
  prepare(jpegs: readonly Uint8Array[], into?: ArrayBufferLike, motion?: readonly boolean[]): PreparedBatch {
    const startedAtMs = nowMs();
    const input = this.inputFor(jpegs.length, into);
    const outcomes = new Array<FrameOutcome>(jpegs.length);
    const good: number[] = [];
    const fast = input instanceof Uint8Array;
    for (let i = 0; i < jpegs.length; i++) {
      const t0 = performance.now();
      let resizeMs = 0;
      try {
        const offset = good.length * this.perFrame;
        let imageWidth: number;
        let imageHeight: number;
        if (fast) {
          // Decode and resize in one pass where the addon can (the resize then costs no time of its own).
          const done = decodeBytesInto(jpegs[i], this.manifest, this.limits, this.scratch, this.width, this.height, input, offset);
          ({ width: imageWidth, height: imageHeight, resizeMs } = done);
        } else {
          const image = decodeJpeg(jpegs[i], this.manifest, this.limits, this.scratch);
          const t1 = performance.now();
          resizeNormalizeInto(image, this.manifest, this.width, this.height, input, offset);
          resizeMs = performance.now() - t1;
          ({ width: imageWidth, height: imageHeight } = image);
        }
        good.push(i);
        outcomes[i] = { ok: true, count: 0, decodeUs: 0, preprocessUs: 0, height: 0, width: 0, densityOffset: 0, imageWidth, imageHeight };
        if (motion?.[i]) (outcomes[i] as { grey?: unknown }).grey = greyFromInput(input, offset, this.width, this.height, greyLayoutOf(this.manifest));
      } catch (err) {
        const cause = err instanceof JpegRejected ? err.reason : 'corrupt';
        outcomes[i] = { ok: false, reason: (err as Error).message, decodeUs: 0, preprocessUs: 0, cause };
      }
      outcomes[i].decodeUs = Math.round((performance.now() - t0) * 1000);
      outcomes[i].preprocessUs = Math.round(resizeMs * 1000);
    }
    return { input: input.buffer, good, outcomes, startedAtMs };
  }
}
