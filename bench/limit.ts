/**
 * The machine's own limit: the same worker pool the server would run (same
 * model, workers, threads, batch size), fed the same frames with no network,
 * no sockets and no batcher. Served throughput is reported against this, and
 * against pure inference: the same sessions running a pre-made tensor.
 */
import { performance } from 'node:perf_hooks';
import { WorkerPool } from '../src/workers/pool.js';
import type { DeviceChoice } from '../src/workers/types.js';
import type { LimitMeasurement } from './report-types.js';
import { round, summarize } from './stats.js';

export interface LimitOptions {
  model: string;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  decodeThreads?: number;
  inputSize?: { width: number; height: number };
  maxBatch: number;
  jpegs: readonly Uint8Array[];
  /** Seconds of full-load running. */
  durationS: number;
  /** Seconds of one-frame-at-a-time running (the latency floor). */
  singleS: number;
  /** Seconds of pure inference (0: skip). */
  pureS?: number;
  log?: (line: string) => void;
}

export async function measureLimit(options: LimitOptions): Promise<LimitMeasurement> {
  const pool = await WorkerPool.start({
    modelPath: options.model,
    device: options.device,
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
    decodeThreads: options.decodeThreads,
    maxBatch: options.maxBatch,
    inputSize: options.inputSize,
    log: options.log ?? (() => undefined),
  });
  try {
    const frames = options.jpegs;
    let next = 0;
    const take = (n: number): Uint8Array[] => Array.from({ length: n }, () => frames[next++ % frames.length]);

    // Warm every worker (first runs allocate ORT buffers).
    await Promise.all(Array.from({ length: pool.size * 2 }, () => pool.runBatch(take(options.maxBatch))));

    const decodeInfer: number[] = [];
    const wall: number[] = [];
    const singleEnd = performance.now() + options.singleS * 1000;
    while (performance.now() < singleEnd || wall.length < 5) {
      const t0 = performance.now();
      const result = await pool.runBatch(take(1));
      wall.push(performance.now() - t0);
      const o = result.outcomes[0];
      if (!o?.ok) throw new Error(`limit run: frame failed: ${o ? o.reason : 'no outcome'}`);
      decodeInfer.push((o.decodeUs + result.inferUs) / 1000);
    }

    // Every worker busy with full batches, back to back.
    let framesDone = 0;
    let decodeUs = 0;
    let preprocessUs = 0;
    let inferUs = 0;
    const t0 = performance.now();
    const end = t0 + options.durationS * 1000;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        const result = await pool.runBatch(take(options.maxBatch));
        const ok = result.outcomes.filter((o) => o.ok);
        framesDone += ok.length;
        inferUs += result.inferUs;
        for (const o of ok) {
          decodeUs += o.decodeUs - (o.preprocessUs ?? 0);
          preprocessUs += o.preprocessUs ?? 0;
        }
      }
    };
    await Promise.all(Array.from({ length: pool.concurrency }, loop));
    const elapsedS = (performance.now() - t0) / 1000;
    const perFrame = (us: number): number => (framesDone > 0 ? round(us / framesDone / 1000) : 0);

    const pureS = options.pureS ?? options.durationS;
    const pure = pureS > 0 ? await pool.pureInference(take(options.maxBatch), pureS * 1000) : undefined;

    return {
      maxBatch: options.maxBatch,
      workers: pool.size,
      intraOpThreads: pool.intraOpThreads,
      provider: pool.provider,
      framesDone,
      durationS: round(elapsedS),
      throughputFps: round(framesDone / elapsedS, 2),
      singleFrame: { decodeInferMs: summarize(decodeInfer), runBatchWallMs: summarize(wall) },
      decodeThreads: pool.decodeThreads,
      split: { decodeMs: perFrame(decodeUs), preprocessMs: perFrame(preprocessUs), inferenceMs: perFrame(inferUs) },
      pureInference: pure && {
        throughputFps: round(pure.framesPerSecond, 2),
        msPerBatch: round(pure.msPerRun),
        batch: pure.batch,
        durationS: pureS,
        cpuMsPerFrame: round(pure.cpuMsPerFrame),
      },
    };
  } finally {
    await pool.close();
  }
}
