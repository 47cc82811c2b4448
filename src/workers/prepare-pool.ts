/**
 * The decode threads, as a pool of their own: JPEG decode + preprocessing
 * on as many threads as the host has cores to spare, while a few sessions
 * (2 on a GPU) only run inference. Each batch is prepared into a tensor
 * slot (tensor-slots.ts) shared with the threads once, at start; only the
 * slot's index and the frames' outcomes come back. Knows no sockets and no
 * sessions.
 */
import { Piscina } from 'piscina';
import { handOverAll } from './handover.js';
import type { JpegLimits } from './jpeg-inspect.js';
import type { TensorSlotCounts, TensorSlots } from './tensor-slots.js';
import { isWorkerStatusMessage, type PrepareConfig, type PrepareTask, type SlotBatch } from './types.js';

export class PreparePool {
  private closed = false;

  private constructor(
    private readonly piscina: Piscina,
    readonly size: number,
    private readonly slots: TensorSlots,
  ) {}

  /** `slots`: made by the caller, who may share them with the threads that consume the batches too. */
  static start(options: {
    modelPath: string;
    inputWidth: number;
    inputHeight: number;
    imageLimits: JpegLimits;
    threads: number;
    slots: TensorSlots;
    /** Added to each thread's nice at its start (thread-nice.ts; default 0: none). */
    niceIncrement?: number;
    log?: (line: string) => void;
  }): PreparePool {
    const config: PrepareConfig = {
      modelPath: options.modelPath,
      inputWidth: options.inputWidth,
      inputHeight: options.inputHeight,
      imageLimits: options.imageLimits,
      slots: [...options.slots.buffers],
      niceIncrement: options.niceIncrement ?? 0,
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
    piscina.on('message', (message: unknown) => {
      if (isWorkerStatusMessage(message) && message.kind === 'crowdline-worker-log') log(`decode thread ${message.threadId}: ${message.line}`);
    });
    return new PreparePool(piscina, options.threads, options.slots);
  }

  /** Slots in all and free now (read-only; tests check that none leak). */
  get tensorSlots(): TensorSlotCounts {
    return this.slots;
  }

  /** Largest batch a slot holds. */
  get maxFrames(): number {
    return this.slots.maxFrames;
  }

  /**
   * Decodes and preprocesses one batch into a free tensor slot (the JPEG
   * bytes are moved to the thread when `movable` gives them away, else
   * copied once, then moved: handover.ts). The caller owns the slot
   * until it calls release(batch.slot), once its consumer is done reading
   * it. With no slot free this waits for one: every slot held belongs to a
   * batch already in a decode thread or past it, on its way to a consumer
   * that ends (or fails) and releases it, and a batch waiting here holds no
   * thread and no slot, so the wait always ends. The server's batcher keeps
   * no more batches in flight than there are slots, so there it never waits.
   */
  async prepare(jpegs: readonly Uint8Array[], motion?: readonly boolean[], movable?: readonly boolean[]): Promise<SlotBatch> {
    if (this.closed) throw new Error('prepare pool is closed');
    if (jpegs.length > this.slots.maxFrames)
      throw new RangeError(`a batch of ${jpegs.length} frames exceeds the ${this.slots.maxFrames} a tensor slot holds (the pool's max batch)`);
    const buffers = handOverAll(jpegs, movable);
    const slot = await this.slots.acquire();
    const task: PrepareTask = { jpegs: buffers, slot, motion: motion && [...motion] };
    try {
      return (await this.piscina.run(task, { transferList: buffers })) as SlotBatch;
    } catch (err) {
      // The thread is done with the slot (it threw, or it is gone).
      this.slots.release(slot);
      throw err;
    }
  }

  /** Gives a batch's slot back once its consumer is done reading it. */
  release(slot: number): void {
    this.slots.release(slot);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slots.close();
    await this.piscina.destroy();
  }
}
