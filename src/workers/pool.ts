/**
 * Main-thread handle on the Piscina pool of frame workers. Starts every
 * worker up front, waits until each has loaded the model (so /readyz and
 * start-up errors are truthful), and moves JPEG bytes in by transfer.
 * With decode threads (decodeThreads > 0), a separate PreparePool decodes
 * into tensor slots shared with the workers, which only run inference; with
 * 0, each worker does both.
 */
import { access } from 'node:fs/promises';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LogSink } from '../log/logger.js';
import { DEFAULT_INPUT_SIZE_LIMITS, INPUT_SIZE_LIMIT_RANGES, inputCost, type InputSizeLimits, type InputSizePolicy, type NetGeometry } from './input-size.js';
import { DEFAULT_JPEG_LIMITS, type JpegLimits } from './jpeg-inspect.js';
import { networkInputSize, resolveModel, type ModelSpec } from './manifest.js';
import { disableOrtTelemetryUnlessSet } from './ort-env.js';
import { handOverAll } from './handover.js';
import { FramePreparer, frameInputBytes } from './prepare.js';
import { PreparePool } from './prepare-pool.js';
import type { FlowField } from '../lines/flow.js';
import type { MotionJob } from '../lines/line-tracker.js';
import { TensorSlots, type TensorSlotCounts } from './tensor-slots.js';
import { DEFAULT_WORKER_NICE, planWorkerNice, type WorkerNicePlan } from './thread-nice.js';
import {
  isWorkerStatusMessage,
  type BatchResult,
  type BatchTask,
  type DeviceChoice,
  type InferTask,
  type MotionTask,
  type PureInferenceResult,
  type PureInferenceTask,
  type WorkerConfig,
} from './types.js';

export interface PoolOptions {
  modelPath: string;
  device: DeviceChoice;
  /** Worker threads (sessions). Default: see defaultThreading(). */
  workers?: number;
  /** ONNX Runtime intra-op threads per CPU session. */
  intraOpThreads?: number;
  /** Threads that only decode + preprocess (0: the inference workers decode their own batches). Default: see defaultThreading(). */
  decodeThreads?: number;
  /** Largest batch runBatch is given (the batcher's max batch): sizes the tensor slots when there are decode threads. Default 1. */
  maxBatch?: number;
  inputSize?: { width: number; height: number };
  /** Limits every JPEG is checked against before decoding (default DEFAULT_JPEG_LIMITS). */
  imageLimits?: Partial<JpegLimits>;
  /** Input-size policy of frames that come without one (default `fixed`: the whole frame resized to the input size). */
  inputPolicy?: InputSizePolicy;
  /** Bounds on native and tiled frames (default DEFAULT_INPUT_SIZE_LIMITS). */
  inputSizeLimits?: Partial<InputSizeLimits>;
  /** Nice the worker and decode threads add to the process's at their start, 0-19 (default DEFAULT_WORKER_NICE; 0: none): thread-nice.ts. */
  workerNice?: number;
  log?: LogSink;
  /** Worker module (default ./frame-worker.js); tests wrap it to inject failures. */
  workerFile?: URL;
}

/**
 * CPU: one single-threaded session per core, each decoding its own batches
 * (no decode threads). Measured on 2 cores (see docs/performance.md):
 * 2 workers x 1 thread serve 14% more frames than 1 x 2 and stay above 0.9
 * of the limit with 8 cameras, because a 2-thread session stalls whenever
 * the main thread or the network needs a core; 1 x 2 only wins single-frame
 * latency (16 vs 29 ms). Separate decode threads would only compete with the
 * sessions for the same cores and add a hand-over.
 * CUDA: inference leaves the CPU, so two sessions (streams), one thread
 * each, keep the device fed, and decode gets its own threads: every core but
 * two (the main thread's network work, and the sessions' launches), at
 * least one.
 */
export function defaultThreading(device: DeviceChoice, cores = os.availableParallelism()): { workers: number; intraOpThreads: number; decodeThreads: number } {
  if (device === 'cuda') return { workers: 2, intraOpThreads: 1, decodeThreads: Math.max(1, cores - 2) };
  return { workers: Math.max(1, cores), intraOpThreads: 1, decodeThreads: 0 };
}

/**
 * Tensor slots beyond one per batch in flight (`concurrency`): the batcher
 * never has more in flight, so it never waits for a slot; the two spare let
 * a caller that runs a little more at once (the bench's warm-up runs two
 * per session) go on without waiting, at the cost of two more slots of
 * memory (2 x max batch x one frame's input).
 */
export const SPARE_TENSOR_SLOTS = 2;

export class WorkerPool {
  private readonly ready = new Map<number, string>();
  /** Worker log lines already printed: every worker meets the same CUDA fallback, one line says it. */
  private readonly workerLines = new Set<string>();
  private closed = false;

  private constructor(
    private readonly piscina: Piscina,
    readonly spec: ModelSpec,
    readonly inputWidth: number,
    readonly inputHeight: number,
    readonly size: number,
    readonly intraOpThreads: number,
    private readonly config: WorkerConfig,
    private readonly preparePool: PreparePool | undefined,
    /** Policy of frames that come without one. */
    readonly inputPolicy: InputSizePolicy,
    /** The workers' priority against the main thread's. */
    readonly nice: WorkerNicePlan,
  ) {}

  /** The geometry input-size plans are made for (the fixed input size is also the tile size). */
  get netGeometry(): NetGeometry {
    return { width: this.inputWidth, height: this.inputHeight, sizeMultiple: this.spec.manifest.input.sizeMultiple, stride: this.spec.manifest.output.stride };
  }

  get inputSizeLimits(): InputSizeLimits {
    return this.config.inputSizeLimits ?? DEFAULT_INPUT_SIZE_LIMITS;
  }

  /** What a frame of width x height costs under `policy` (default: the pool's), in fixed-frame runs: see input-size.ts inputCost. */
  inputCost(width: number, height: number, policy: InputSizePolicy = this.inputPolicy): number {
    return inputCost(policy, width, height, this.netGeometry, this.inputSizeLimits);
  }

  /** Threads that only decode (0: the workers decode their own batches). */
  get decodeThreads(): number {
    return this.preparePool?.size ?? 0;
  }

  /**
   * Batches worth having in flight: one per session, plus one per decode
   * thread, so the next batches are decoded while the device runs these.
   */
  get concurrency(): number {
    return this.size + this.decodeThreads;
  }

  static async start(options: PoolOptions): Promise<WorkerPool> {
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    const spec = resolveModel(options.modelPath); // clear errors before any thread starts
    const defaults = defaultThreading(options.device);
    const workers = options.workers ?? defaults.workers;
    const intraOpThreads = options.intraOpThreads ?? defaults.intraOpThreads;
    const decodeThreads = options.decodeThreads ?? defaults.decodeThreads;
    if (!Number.isInteger(decodeThreads) || decodeThreads < 0) throw new RangeError(`decode threads must be an integer >= 0, got ${decodeThreads}`);
    const maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`max batch must be an integer >= 1, got ${maxBatch}`);
    const input = networkInputSize(spec.manifest, options.inputSize);
    const requestedNice = options.workerNice ?? DEFAULT_WORKER_NICE;
    const nice = planWorkerNice(requestedNice);
    // Said once, here: where it cannot apply (no addon, not Linux), the workers do nothing.
    if (requestedNice !== 0) log(nice.line, { event: 'worker-nice', level: nice.applied ? 'info' : 'warn', nice: nice.workerNice });
    if (nice.applied) {
      // libuv's threadpool (token checks, file reads) starts on the thread that first uses it, and its
      // threads inherit that thread's nice: start it here, on the main thread, before any worker runs.
      await access(spec.onnxPath);
    }
    // Made once, here, and handed to every decode thread and worker in workerData (a replaced worker gets the same ones).
    const slots =
      decodeThreads > 0
        ? new TensorSlots(workers + decodeThreads + SPARE_TENSOR_SLOTS, maxBatch, frameInputBytes(spec.manifest, input.width, input.height))
        : undefined;
    const config: WorkerConfig = {
      modelPath: spec.onnxPath,
      device: options.device,
      intraOpThreads,
      inputWidth: input.width,
      inputHeight: input.height,
      imageLimits: { ...DEFAULT_JPEG_LIMITS, ...options.imageLimits },
      inputSizeLimits: { ...DEFAULT_INPUT_SIZE_LIMITS, ...options.inputSizeLimits },
      slots: slots && [...slots.buffers],
      niceIncrement: nice.increment,
    };
    checkInputSizeLimits(config.inputSizeLimits as InputSizeLimits);
    disableOrtTelemetryUnlessSet(); // before any worker starts ONNX Runtime
    const piscina = new Piscina({
      filename: (options.workerFile ?? new URL('./frame-worker.js', import.meta.url)).href,
      workerData: config,
      minThreads: workers,
      maxThreads: workers,
      // One batch per worker at a time: the batcher decides what waits.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: Number.POSITIVE_INFINITY,
    });
    const preparePool = slots
      ? PreparePool.start({
          modelPath: spec.manifestPath,
          inputWidth: input.width,
          inputHeight: input.height,
          imageLimits: config.imageLimits,
          threads: decodeThreads,
          slots,
          niceIncrement: nice.increment,
          log,
        })
      : undefined;
    const pool = new WorkerPool(piscina, spec, input.width, input.height, workers, intraOpThreads, config, preparePool, options.inputPolicy ?? 'fixed', nice);
    try {
      await pool.waitUntilReady(log);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private waitUntilReady(log: LogSink): Promise<void> {
    let started = false;
    return new Promise((resolve, reject) => {
      this.piscina.on('message', (message: unknown) => {
        if (!isWorkerStatusMessage(message)) return;
        if (message.kind === 'crowdline-worker-log') {
          if (this.workerLines.has(message.line)) return;
          this.workerLines.add(message.line);
          log(`worker ${message.threadId}: ${message.line}`, { event: 'worker-log', worker: message.threadId });
          return;
        }
        if (message.kind === 'crowdline-worker-failed') {
          if (started)
            log(`worker ${message.threadId}: failed to load: ${message.error}`, { level: 'error', event: 'worker-failed', worker: message.threadId });
          reject(new Error(message.error));
          return;
        }
        this.ready.set(message.threadId, message.provider);
        // After start-up, a ready worker is Piscina's replacement for one that died.
        const what = started ? 'restarted, ready' : 'ready';
        log(`worker ${message.threadId}: ${what} on ${message.provider} (${message.loadMs} ms to load ${this.spec.manifest.name})`, {
          event: started ? 'worker-restarted' : 'worker-ready',
          worker: message.threadId,
          provider: message.provider,
          load_ms: message.loadMs,
        });
        if (!started && this.readyWorkers >= this.size) {
          started = true;
          resolve();
        }
      });
      this.piscina.on('error', (err: Error) => log(`worker pool error: ${err.message}`, { level: 'error', event: 'worker-error' }));
      this.piscina.on('workerDestroy', (worker: { id: number }) => {
        if (!this.closed) log(`worker ${worker.id}: exited; a replacement is starting`, { level: 'error', event: 'worker-exited', worker: worker.id });
      });
    });
  }

  /** Workers whose model is loaded now (a replaced worker counts once it loads). */
  get readyWorkers(): number {
    // Count only live threads: a crashed worker's id stays in `ready`.
    return this.piscina.threads.filter((w) => this.ready.has(w.threadId)).length;
  }

  /** Provider of the workers, e.g. "cpu" or "cuda" ("cpu+cuda" if mixed). */
  get provider(): string {
    const live = this.piscina.threads.map((w) => this.ready.get(w.threadId)).filter((p) => p !== undefined);
    return [...new Set(live)].sort().join('+') || 'none';
  }

  /** Tensor slots in all and free now (undefined in the fused mode, which has none). */
  get tensorSlots(): TensorSlotCounts | undefined {
    return this.preparePool?.tensorSlots;
  }

  /**
   * Runs one batch; `motion[i]`: also make frame i's grey copy (counting
   * lines); `policies[i]`: its input-size policy (undefined: the pool's).
   * `movable[i]`: frame i's bytes are the caller's to give away: moved to
   * the worker, not copied (handover.ts). Rejects if the worker holding it
   * dies; the pool replaces it.
   */
  runBatch(
    jpegs: readonly Uint8Array[],
    motion?: readonly boolean[],
    policies?: readonly (InputSizePolicy | undefined)[],
    movable?: readonly boolean[],
  ): Promise<BatchResult> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const resolved = jpegs.map((_, i) => policies?.[i] ?? this.inputPolicy);
    const allFixed = resolved.every((p) => p === 'fixed');
    // Tensor slots hold fixed-size frames; a batch with a native or tiled frame is decoded by the worker that runs it.
    if (this.preparePool && allFixed) return this.prepareThenInfer(this.preparePool, jpegs, motion, movable);
    // Moved when given away in a buffer of their own, else one copy into one, which is then moved.
    const buffers = handOverAll(jpegs, movable);
    const task: BatchTask = { jpegs: buffers, motion: motion && [...motion], ...(allFixed ? {} : { policies: resolved }) };
    return this.piscina.run(task, { transferList: buffers }) as Promise<BatchResult>;
  }

  /** Decode threads fill a tensor slot; a worker reads it; the slot is free again whatever the inference did. */
  private async prepareThenInfer(
    prepare: PreparePool,
    jpegs: readonly Uint8Array[],
    motion?: readonly boolean[],
    movable?: readonly boolean[],
  ): Promise<BatchResult> {
    const batch = await prepare.prepare(jpegs, motion, movable);
    try {
      if (this.closed) throw new Error('worker pool is closed');
      const task: InferTask = { kind: 'infer', batch };
      return (await this.piscina.run(task)) as BatchResult;
    } finally {
      prepare.release(batch.slot);
    }
  }

  /** Dense flow for a counting line's step (src/lines), on whichever worker is free next. */
  runMotion(job: MotionJob): Promise<FlowField[]> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const task: MotionTask = { kind: 'motion', job };
    return this.piscina.run(task) as Promise<FlowField[]>;
  }

  /**
   * Pure inference, for the bench: `jpegs` decoded once here, then every
   * session runs that same tensor back to back for `durationMs`, all at
   * once. No decode, no copies, no messages per run: the sessions' ceiling.
   */
  async pureInference(
    jpegs: readonly Uint8Array[],
    durationMs: number,
  ): Promise<{ framesPerSecond: number; msPerRun: number; batch: number; cpuMsPerFrame: number }> {
    const preparer = new FramePreparer(this.spec.manifest, this.inputWidth, this.inputHeight, this.config.imageLimits, false);
    const prepared = preparer.prepare(jpegs);
    if (prepared.good.length === 0) throw new Error('pure inference: none of the frames decoded');
    const task = (): PureInferenceTask => ({ kind: 'pure-inference', prepared, durationMs });
    // CPU of the whole process: the sessions' threads, nothing else runs meanwhile.
    const cpuBefore = process.cpuUsage();
    const results = (await Promise.all(Array.from({ length: this.size }, () => this.piscina.run(task())))) as PureInferenceResult[];
    const frames = results.reduce((n, r) => n + r.frames, 0);
    const wallMs = Math.max(...results.map((r) => r.wallMs));
    const runs = results.reduce((n, r) => n + r.runs, 0);
    const busyMs = results.reduce((n, r) => n + r.wallMs, 0);
    const cpu = process.cpuUsage(cpuBefore);
    return {
      framesPerSecond: (frames / wallMs) * 1000,
      msPerRun: busyMs / runs,
      batch: prepared.good.length,
      cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / frames,
    };
  }

  /** The worker threads themselves (tests kill one to prove failures stay contained). */
  get threads(): readonly Worker[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.piscina.destroy(), this.preparePool?.close()]);
  }
}

/** The input-size limits an operator may set (an option typo must not ask for 10^6 tiles per frame). */
export function checkInputSizeLimits(limits: InputSizeLimits): void {
  const { maxTiles, maxInputPixels } = INPUT_SIZE_LIMIT_RANGES;
  if (!Number.isInteger(limits.maxTiles) || limits.maxTiles < maxTiles.min || limits.maxTiles > maxTiles.max) {
    throw new RangeError(`max tiles must be an integer from ${maxTiles.min} to ${maxTiles.max}, got ${limits.maxTiles}`);
  }
  if (!Number.isInteger(limits.maxInputPixels) || limits.maxInputPixels < maxInputPixels.min || limits.maxInputPixels > maxInputPixels.max) {
    throw new RangeError(`max input pixels must be an integer from ${maxInputPixels.min} to ${maxInputPixels.max}, got ${limits.maxInputPixels}`);
  }
  if (!Number.isInteger(limits.tileOverlap) || limits.tileOverlap < 0)
    throw new RangeError(`tile overlap must be an integer >= 0 pixels, got ${limits.tileOverlap}`);
}
