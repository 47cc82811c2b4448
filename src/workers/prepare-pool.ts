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
  /** Spent tensor buffers, handed to the next batches (bounded: one per thread, plus two). */
  private readonly spare: ArrayBuffer[] = [];

  private constructor(
    private readonly piscina: Piscina,
    readonly size: number,
  ) {}

  static start(options: {
    modelPath: string;
    inputWidth: number;
    inputHeight: number;
    imageLimits: JpegLimits;
    threads: number;
    log?: (line: string) => void;
  }): PreparePool {
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
    // A crashed thread fails the batch it held (its promise rejects) and is replaced; say so.
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    piscina.on('error', (err: Error) => log(`decode thread error: ${err.message}`));
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
    const into = this.spare.pop();
    const task: BatchTask = { jpegs: buffers, into };
    return this.piscina.run(task, { transferList: into ? [...buffers, into] : buffers }) as Promise<PreparedBatch>;
  }

  /** Gives a prepared batch's input buffer back once inference is done with it. */
  recycle(buffer: ArrayBuffer | undefined): void {
    if (!buffer || buffer.byteLength === 0 || this.closed || this.spare.length >= this.size + 2) return;
    this.spare.push(buffer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
