/**
 * Decode + preprocess + inference for a batch of JPEGs on one thread (a
 * Piscina worker in the server): the fused mode, where the thread that
 * decodes also runs the session. Reuses one input tensor buffer, batch after
 * batch (a worker runs one batch at a time).
 *
 * Each frame comes with its camera's input-size policy (input-size.ts):
 * `fixed` frames run together, one session run for all of them, as they
 * always have; a `native` frame runs alone at its own size; a `tiled` frame
 * runs its tiles as one batch, and its map is stitched from them. Every
 * frame's map then lies in the one result buffer, at its own size.
 */
import { performance } from 'node:perf_hooks';
import { JpegRejected } from './jpeg-inspect.js';
import { DEFAULT_INPUT_SIZE_LIMITS, type InputSizePolicy, stitchTiles } from './input-size.js';
import { Inferencer, nonFinite } from './infer.js';
import { PolicyInputPreparer, netGeometry } from './policy-input.js';
import { FramePreparer } from './prepare.js';
import type { BatchResult, FrameOutcome, WorkerConfig } from './types.js';

export class FrameProcessor {
  private constructor(
    private readonly preparer: FramePreparer,
    private readonly policyPreparer: PolicyInputPreparer,
    readonly inferencer: Inferencer,
  ) {}

  get provider(): 'cuda' | 'cpu' {
    return this.inferencer.provider;
  }

  static async load(config: WorkerConfig, log: (line: string) => void): Promise<FrameProcessor> {
    const inferencer = await Inferencer.load(config, log);
    const { manifest } = inferencer.spec;
    const preparer = new FramePreparer(manifest, config.inputWidth, config.inputHeight, config.imageLimits, true);
    const policyPreparer = new PolicyInputPreparer(
      manifest,
      netGeometry(manifest, config.inputWidth, config.inputHeight),
      config.imageLimits,
      config.inputSizeLimits ?? DEFAULT_INPUT_SIZE_LIMITS,
    );
    return new FrameProcessor(preparer, policyPreparer, inferencer);
  }

  /**
   * `motion[i]`: also make frame i's grey copy (counting lines); `policies[i]`:
   * its input-size policy (all `fixed` when absent). Native and tiled frames
   * get their grey copy from the whole frame at their own input size
   * (policy-input.ts), about as many grey pixels as a fixed frame's.
   */
  async runBatch(jpegs: Uint8Array[], motion?: readonly boolean[], policies?: readonly InputSizePolicy[]): Promise<BatchResult> {
    if (!policies || policies.every((p) => p === 'fixed')) return this.inferencer.run(this.preparer.prepare(jpegs, undefined, motion));
    const startedAtMs = performance.timeOrigin + performance.now();
    const fixedAt = jpegs.map((_, i) => i).filter((i) => policies[i] === 'fixed');
    const fixed =
      fixedAt.length > 0
        ? await this.inferencer.run(
            this.preparer.prepare(
              fixedAt.map((i) => jpegs[i]),
              undefined,
              motion && fixedAt.map((i) => motion[i]),
            ),
          )
        : undefined;
    const outcomes: FrameOutcome[] = new Array<FrameOutcome>(jpegs.length);
    const maps: Float32Array[] = [];
    let length = 0;
    let inferUs = fixed?.inferUs ?? 0;
    if (fixed) {
      fixed.outcomes.forEach((o, k) => (outcomes[fixedAt[k]] = o));
      maps.push(fixed.densities);
      length = fixed.densities.length;
    }
    for (let i = 0; i < jpegs.length; i++) {
      const policy = policies[i];
      if (policy === 'fixed') continue;
      const t0 = performance.now();
      let prepared: ReturnType<PolicyInputPreparer['prepare']>;
      try {
        prepared = this.policyPreparer.prepare(jpegs[i], policy, motion?.[i] ?? false);
      } catch (err) {
        const cause = err instanceof JpegRejected ? err.reason : 'corrupt';
        outcomes[i] = { ok: false, reason: (err as Error).message, decodeUs: Math.round((performance.now() - t0) * 1000), preprocessUs: 0, cause };
        continue;
      }
      const run = await this.inferencer.infer(prepared.input.buffer, prepared.frames, prepared.width, prepared.height);
      inferUs += run.inferUs;
      const plan = prepared.plan;
      const map = plan ? stitchTiles(plan, run.maps) : run.maps;
      const height = plan ? plan.height / plan.stride : run.outHeight;
      const width = plan ? plan.width / plan.stride : run.outWidth;
      let count = 0;
      for (let j = 0; j < map.length; j++) count += map[j];
      const ok: FrameOutcome = {
        ok: true,
        count,
        decodeUs: prepared.decodeUs,
        preprocessUs: prepared.preprocessUs,
        height,
        width,
        densityOffset: length,
        imageWidth: prepared.imageWidth,
        imageHeight: prepared.imageHeight,
        ownInferUs: run.inferUs,
        ...(prepared.grey ? { grey: prepared.grey } : {}),
      };
      if (!Number.isFinite(count)) {
        outcomes[i] = nonFinite(ok);
        continue;
      }
      outcomes[i] = ok;
      maps.push(map);
      length += map.length;
    }
    const densities = new Float32Array(length);
    let at = 0;
    for (const m of maps) {
      densities.set(m, at);
      at += m.length;
    }
    return { outcomes, densities, inferUs, startedAtMs, batchSize: jpegs.length };
  }
}
