/**
 * Inference on a prepared batch (see prepare.ts): one ONNX Runtime
 * session.run, then counts and density maps per frame. A model that answers
 * NaN or Inf fails that frame (the server's fault, not the camera's).
 */
import { performance } from 'node:perf_hooks';
import ort from './ort.js';
import { channelCount, resolveModel, type ModelSpec } from './manifest.js';
import { frameInputBytes, inputView } from './prepare.js';
import { createSession } from './session.js';
import type { SlotInput } from './slot-input.js';
import type { BatchResult, FrameOutcome, PreparedBatch, PureInferenceResult, SlotBatch, WorkerConfig } from './types.js';

export class Inferencer {
  private constructor(
    readonly spec: ModelSpec,
    private readonly session: ort.InferenceSession,
    readonly provider: 'cuda' | 'cpu',
    readonly width: number,
    readonly height: number,
  ) {}

  static async load(config: WorkerConfig, log: (line: string) => void): Promise<Inferencer> {
    const spec = resolveModel(config.modelPath);
    const { session, provider } = await createSession(spec, config.device, config.intraOpThreads, log);
    return new Inferencer(spec, session, provider, config.inputWidth, config.inputHeight);
  }

  private tensor(input: ArrayBufferLike, frames: number, width: number, height: number): ort.Tensor {
    const { manifest } = this.spec;
    const channels = channelCount(manifest.input.channelOrder);
    const data = inputView(manifest, input, frames * channels * width * height);
    const dims = manifest.input.layout === 'NHWC' ? [frames, height, width, channels] : [frames, channels, height, width];
    return data instanceof Uint8Array ? new ort.Tensor('uint8', data, dims) : new ort.Tensor('float32', data, dims);
  }

  /**
   * One session run on `frames` inputs of width x height lying back to back
   * in `input`: their density maps in people per cell (countScale applied),
   * back to back in a buffer of their own (transferable).
   */
  async infer(
    input: ArrayBufferLike,
    frames: number,
    width: number,
    height: number,
  ): Promise<{ maps: Float32Array; outHeight: number; outWidth: number; inferUs: number }> {
    const { manifest } = this.spec;
    const tensor = this.tensor(input, frames, width, height);
    const t1 = performance.now();
    const output = await this.session.run({ [manifest.input.name]: tensor });
    const inferUs = Math.round((performance.now() - t1) * 1000);
    tensor.dispose();
    const result = output[manifest.output.name];
    const dims = result.dims;
    const outHeight = Number(dims[dims.length - 2]);
    const outWidth = Number(dims[dims.length - 1]);
    const maps = new Float32Array(outHeight * outWidth * frames);
    maps.set(result.data as Float32Array);
    result.dispose();
    const countScale = manifest.output.countScale;
    if (countScale !== 1) for (let j = 0; j < maps.length; j++) maps[j] *= countScale;
    return { maps, outHeight, outWidth, inferUs };
  }

  /** A batch a decode thread left in a tensor slot (read in place, or copied: slot-input.ts); the slot is free again once this resolves. */
  runFromSlot(batch: SlotBatch, slots: SlotInput): Promise<BatchResult> {
    const { manifest } = this.spec;
    const bytes = batch.good.length * frameInputBytes(manifest, this.width, this.height);
    const { slot, ...rest } = batch;
    return this.run({ ...rest, input: slots.input(slot, bytes) });
  }

  async run(prepared: PreparedBatch): Promise<BatchResult> {
    const { outcomes, good, startedAtMs } = prepared;
    const batchSize = outcomes.length;
    if (good.length === 0) return { outcomes, densities: new Float32Array(0), inferUs: 0, startedAtMs, batchSize };
    const { maps: densities, outHeight: outH, outWidth: outW, inferUs } = await this.infer(prepared.input, good.length, this.width, this.height);
    const per = outH * outW;
    for (let k = 0; k < good.length; k++) {
      let sum = 0;
      const base = k * per;
      for (let j = 0; j < per; j++) sum += densities[base + j];
      const slot = outcomes[good[k]];
      // A finite sum means every cell is finite (NaN or Inf would propagate).
      if (!Number.isFinite(sum)) {
        outcomes[good[k]] = nonFinite(slot);
        continue;
      }
      if (slot.ok) {
        slot.count = sum;
        slot.height = outH;
        slot.width = outW;
        slot.densityOffset = base;
      }
    }
    return { outcomes, densities, inferUs, startedAtMs, batchSize };
  }

  /** Pure inference for the bench: the same tensor, run after run, nothing else. */
  async pureInference(prepared: PreparedBatch, durationMs: number): Promise<PureInferenceResult> {
    const feeds = { [this.spec.manifest.input.name]: this.tensor(prepared.input, prepared.good.length, this.width, this.height) };
    const t0 = performance.now();
    let runs = 0;
    while (runs === 0 || performance.now() - t0 < durationMs) {
      const out = await this.session.run(feeds);
      for (const value of Object.values(out)) value.dispose();
      runs++;
    }
    return { frames: runs * prepared.good.length, runs, wallMs: performance.now() - t0 };
  }
}

/** The outcome of a frame whose map is not finite: the server's fault (the model's), not the frame's. */
export function nonFinite(slot: FrameOutcome): FrameOutcome {
  return {
    ok: false,
    reason: 'model produced a non-finite density (NaN or Inf) for this frame',
    decodeUs: slot.decodeUs,
    preprocessUs: slot.preprocessUs,
    cause: 'non-finite',
  };
}
