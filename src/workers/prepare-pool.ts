/**
 * The decode threads, as a pool of their own: JPEG decode + preprocessing
 * on as many threads as the host has cores to spare, while a few sessions
 * (2 on a GPU) only run inference. The prepared tensors move to the
 * inference workers by transfer. Knows no sockets and no sessions.
 */
import { Piscina } from 'piscina';
import type { JpegLimits } from './jpeg-inspect.js';
import type { BatchTask, PrepareConfig, PreparedBatch } from './types.js';

export class PreparePool {
  private closed = false;

  private constructor(
    private readonly piscina: Piscina,
    readonly size: number,
  ) {}

  static start(options: { modelPath: string; inputWidth: number; inputHeight: number; imageLimits: JpegLimits; threads: number }): PreparePool {
    const config: PrepareConfig = {
      modelPath: options.modelPath,
      inputWidth: options.inputWidth,
      inputHeight: options.inputHeight,
      imageLimits: options.imageLimits,
    };
    const piscina = new Piscina({
      filename: new URL('./prepare-worker.js', import.meta.url).href,
      workerData: config,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: Number.POSITIVE_INFINITY,
    });
    return new PreparePool(piscina, options.threads);
  }

  /** Decodes and preprocesses one batch (the JPEG bytes are copied once, then transferred). */
  prepare(jpegs: readonly Uint8Array[]): Promise<PreparedBatch> {
    if (this.closed) return Promise.reject(new Error('prepare pool is closed'));
    const buffers = jpegs.map((bytes) => {
      const own = new Uint8Array(bytes.byteLength);
      own.set(bytes);
      return own.buffer;
    });
    const task: BatchTask = { jpegs: buffers };
    return this.piscina.run(task, { transferList: buffers }) as Promise<PreparedBatch>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
