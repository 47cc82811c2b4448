/**
 * Main-thread handle on the Piscina pool of frame workers. Starts every
 * worker up front, waits until each has loaded the model (so /readyz and
 * start-up errors are truthful), and moves JPEG bytes in by transfer.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LogSink } from '../log/logger.js';
import { DEFAULT_JPEG_LIMITS, type JpegLimits } from './jpeg-inspect.js';
import { networkInputSize, resolveModel, type ModelSpec } from './manifest.js';
import { isWorkerStatusMessage, type BatchResult, type BatchTask, type DeviceChoice, type WorkerConfig } from './types.js';

export interface PoolOptions {
  modelPath: string;
  device: DeviceChoice;
  /** Worker threads (sessions). Default: see defaultThreading(). */
  workers?: number;
  /** ONNX Runtime intra-op threads per CPU session. */
  intraOpThreads?: number;
  inputSize?: { width: number; height: number };
  /** Limits every JPEG is checked against before decoding (default DEFAULT_JPEG_LIMITS). */
  imageLimits?: Partial<JpegLimits>;
  log?: LogSink;
  /** Worker module (default ./frame-worker.js); tests wrap it to inject failures. */
  workerFile?: URL;
}

/**
 * CPU: one single-threaded session per core. Measured on 2 cores (see
 * docs/performance.md): 2 workers x 1 thread serve 14% more frames than
 * 1 x 2 and stay above 0.9 of the limit with 8 cameras, because a 2-thread
 * session stalls whenever the main thread or the network needs a core; 1 x 2
 * only wins single-frame latency (16 vs 29 ms). Workers x threads beyond the
 * core count only adds contention. CUDA: two sessions (streams), one thread
 * each, so one batch is prepared while another runs.
 */
export function defaultThreading(device: DeviceChoice, cores = os.availableParallelism()): { workers: number; intraOpThreads: number } {
  if (device === 'cuda') return { workers: 2, intraOpThreads: 1 };
  return { workers: Math.max(1, cores), intraOpThreads: 1 };
}

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
  ) {}

  static async start(options: PoolOptions): Promise<WorkerPool> {
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    const spec = resolveModel(options.modelPath); // clear errors before any thread starts
    const defaults = defaultThreading(options.device);
    const workers = options.workers ?? defaults.workers;
    const intraOpThreads = options.intraOpThreads ?? defaults.intraOpThreads;
    const input = networkInputSize(spec.manifest, options.inputSize);
    const config: WorkerConfig = {
      modelPath: spec.onnxPath,
      device: options.device,
      intraOpThreads,
      inputWidth: input.width,
      inputHeight: input.height,
      imageLimits: { ...DEFAULT_JPEG_LIMITS, ...options.imageLimits },
    };
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
    const pool = new WorkerPool(piscina, spec, input.width, input.height, workers, intraOpThreads);
    await pool.waitUntilReady(log);
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
          if (started) log(`worker ${message.threadId}: failed to load: ${message.error}`, { level: 'error', event: 'worker-failed', worker: message.threadId });
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

  /** Runs one batch. Rejects if the worker holding it dies; the pool replaces it. */
  runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    // One copy into an exact-size buffer, which is then transferred (the
    // socket's buffers are shared slabs and cannot be moved).
    const buffers = jpegs.map((bytes) => {
      const own = new Uint8Array(bytes.byteLength);
      own.set(bytes);
      return own.buffer;
    });
    const task: BatchTask = { jpegs: buffers };
    return this.piscina.run(task, { transferList: buffers }) as Promise<BatchResult>;
  }

  /** The worker threads themselves (tests kill one to prove failures stay contained). */
  get threads(): readonly Worker[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
