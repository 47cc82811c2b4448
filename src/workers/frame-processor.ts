/**
 * Decode + preprocess + inference for a batch of JPEGs, on whatever thread
 * holds it (a Piscina worker in the server). Frames that fail to decode fail
 * alone; the rest of the batch still runs.
 */
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { channelCount, resolveModel, type ModelSpec } from './manifest.js';
import { JpegRejected, type JpegLimits } from './jpeg-inspect.js';
import { DecodeScratch, decodeJpeg, resizeNormalizeInto } from './preprocess.js';
import { createSession } from './session.js';
import type { BatchResult, FrameOutcome, WorkerConfig } from './types.js';

const nowMs = (): number => performance.timeOrigin + performance.now();

export class FrameProcessor {
  private constructor(
    private readonly spec: ModelSpec,
    private readonly session: ort.InferenceSession,
    readonly provider: 'cuda' | 'cpu',
    private readonly width: number,
    private readonly height: number,
    private readonly limits: JpegLimits,
  ) {}

  private readonly scratch = new DecodeScratch();

  // One network-input buffer per worker, reused batch after batch (a 768x576
  // frame is 5 MB of float32); safe because a worker runs one batch at a time.
  private input = new Float32Array(0);

  private inputBuffer(length: number): Float32Array {
    if (this.input.length < length) this.input = new Float32Array(length);
    return this.input;
  }

  static async load(config: WorkerConfig, log: (line: string) => void): Promise<FrameProcessor> {
    const spec = resolveModel(config.modelPath);
    const { session, provider } = await createSession(spec, config.device, config.intraOpThreads, log);
    return new FrameProcessor(spec, session, provider, config.inputWidth, config.inputHeight, config.imageLimits);
  }

  async runBatch(jpegs: Uint8Array[]): Promise<BatchResult> {
    const startedAtMs = nowMs();
    const { manifest } = this.spec;
    const channels = channelCount(manifest.input.channelOrder);
    const perFrame = channels * this.width * this.height;
    const input = this.inputBuffer(perFrame * jpegs.length);
    const outcomes: FrameOutcome[] = new Array(jpegs.length);
    const good: number[] = [];

    for (let i = 0; i < jpegs.length; i++) {
      const t0 = performance.now();
      try {
        const image = decodeJpeg(jpegs[i], manifest, this.limits, this.scratch);
        resizeNormalizeInto(image, manifest, this.width, this.height, input, good.length * perFrame);
        good.push(i);
        outcomes[i] = { ok: true, count: 0, decodeUs: 0, height: 0, width: 0, densityOffset: 0, imageWidth: image.width, imageHeight: image.height };
      } catch (err) {
        const cause = err instanceof JpegRejected ? err.reason : 'corrupt';
        outcomes[i] = { ok: false, reason: (err as Error).message, decodeUs: 0, cause };
      }
      outcomes[i].decodeUs = Math.round((performance.now() - t0) * 1000);
    }
    if (good.length === 0) {
      return { outcomes, densities: new Float32Array(0), inferUs: 0, startedAtMs, batchSize: jpegs.length };
    }

    const tensorData = input.subarray(0, good.length * perFrame);
    const tensor = new ort.Tensor('float32', tensorData, [good.length, channels, this.height, this.width]);
    const t1 = performance.now();
    const output = await this.session.run({ [manifest.input.name]: tensor });
    const inferUs = Math.round((performance.now() - t1) * 1000);
    tensor.dispose();

    const result = output[manifest.output.name];
    const dims = result.dims;
    const outH = Number(dims[dims.length - 2]);
    const outW = Number(dims[dims.length - 1]);
    const per = outH * outW;
    // Own buffer so it can be transferred to the main thread without a copy.
    const densities = new Float32Array(per * good.length);
    densities.set(result.data as Float32Array);
    result.dispose();
    const countScale = manifest.output.countScale;
    for (let k = 0; k < good.length; k++) {
      let sum = 0;
      const base = k * per;
      for (let j = 0; j < per; j++) sum += densities[base + j];
      if (countScale !== 1) {
        for (let j = 0; j < per; j++) densities[base + j] *= countScale;
      }
      const slot = outcomes[good[k]];
      // A finite sum means every cell is finite (NaN or Inf would propagate).
      if (!Number.isFinite(sum)) {
        outcomes[good[k]] = { ok: false, reason: 'model produced a non-finite density (NaN or Inf) for this frame', decodeUs: slot.decodeUs, cause: 'non-finite' };
        continue;
      }
      if (slot.ok) {
        slot.count = sum * countScale;
        slot.height = outH;
        slot.width = outW;
        slot.densityOffset = base;
      }
    }
    return { outcomes, densities, inferUs, startedAtMs, batchSize: jpegs.length };
  }
}
