/**
 * Tensor slots: a fixed set of SharedArrayBuffers, each big enough for one
 * batch's network input, made once by the main thread and handed to every
 * decode thread and inference worker once, in workerData. Per batch only a
 * slot index crosses threads. A transferred ArrayBuffer (~10 MB a batch at
 * 768x576x3, batch 8) counted as fresh external memory in every isolate it
 * arrived in, and V8 answered with full (Mark-Compact) GCs on the main
 * thread every few batches; a slot is never posted again, so nothing is.
 *
 * The main thread owns allocation: acquire() hands out a free slot (or
 * waits for one), release() returns it once inference (or the bench's
 * simulated device) is done with it. Knows no threads and no sockets.
 */

export interface TensorSlotCounts {
  /** Slots in all. */
  readonly size: number;
  /** Slots free now (size once every batch is done: the tests check nothing leaks). */
  readonly free: number;
  /** Frames one slot holds (the pool's max batch). */
  readonly maxFrames: number;
}

export class TensorSlots implements TensorSlotCounts {
  readonly buffers: readonly SharedArrayBuffer[];
  /** Free slot indexes, used as a stack: the most recently used slot goes out first, so cold slots' pages are never touched. */
  private readonly freeList: number[] = [];
  private readonly inUse: boolean[];
  private readonly waiters: Array<{ resolve: (slot: number) => void; reject: (err: Error) => void }> = [];
  private closed = false;

  /**
   * `count` slots of `maxFrames` frames, `frameBytes` each (channels x
   * width x height x bytes per element). Memory is committed as pages are
   * first written, so slots never used cost address space only.
   */
  constructor(
    count: number,
    readonly maxFrames: number,
    readonly frameBytes: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`tensor slots: count must be an integer >= 1, got ${count}`);
    if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError(`tensor slots: max frames must be an integer >= 1, got ${maxFrames}`);
    if (!Number.isInteger(frameBytes) || frameBytes < 1) throw new RangeError(`tensor slots: frame bytes must be an integer >= 1, got ${frameBytes}`);
    this.buffers = Array.from({ length: count }, () => new SharedArrayBuffer(maxFrames * frameBytes));
    this.inUse = new Array<boolean>(count).fill(false);
    for (let i = count - 1; i >= 0; i--) this.freeList.push(i);
  }

  get size(): number {
    return this.buffers.length;
  }

  get free(): number {
    return this.freeList.length;
  }

  /** A free slot's index, now or as soon as one is released (first come, first served). */
  acquire(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('tensor slots are closed'));
    const slot = this.freeList.pop();
    if (slot !== undefined) {
      this.inUse[slot] = true;
      return Promise.resolve(slot);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Gives a slot back; the next waiter (if any) gets it. Releasing a slot that is not out is a bug, and throws. */
  release(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size || !this.inUse[slot]) throw new Error(`tensor slot ${slot} released but not in use`);
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(slot); // stays in use, by its next batch
      return;
    }
    this.inUse[slot] = false;
    this.freeList.push(slot);
  }

  /** Fails every batch still waiting for a slot (the pool is closing). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('tensor slots are closed'));
  }
}
