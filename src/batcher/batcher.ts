/**
 * Dynamic batcher between sessions and the worker pool (like Triton's): frames
 * from any connection wait in one FIFO; when a worker is free, up to maxBatch
 * of them go as one batch. A partial batch waits at most maxDelayMs for
 * company. Keeping the queue here (not inside Piscina) is what lets a
 * session withdraw a waiting frame under the drop-oldest policy.
 */
import { performance } from 'node:perf_hooks';
import type { BatchRunner, FrameJob, JobOutcome, JobTicket, JobTimings } from './types.js';

export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Frames that may wait for a worker, across all connections (default: no limit). */
  maxQueue?: number;
}

export interface BatcherObserver {
  batchDispatched?(size: number): void;
}

interface Waiting {
  /** Released (undefined) once the job is cancelled, so its JPEG can be collected at once. */
  job: FrameJob | undefined;
  receivedAtMs: number;
  resolve(outcome: JobOutcome): void;
  state: 'queued' | 'running' | 'done';
}

const nowMs = (): number => performance.timeOrigin + performance.now();
const zeroTimings = (): JobTimings => ({ queueUs: 0, decodeUs: 0, inferUs: 0 });

export class Batcher {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly roomListeners: Array<() => void> = [];

  constructor(
    private readonly runner: BatchRunner,
    private readonly options: BatcherOptions,
    private readonly observer: BatcherObserver = {},
  ) {
    if (options.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
  }

  /** Frames waiting for a worker. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Batches inside workers now. */
  get runningBatches(): number {
    return this.running;
  }

  /** False while the global queue is full: sessions stop admitting frames. */
  get hasRoom(): boolean {
    return this.queue.length < (this.options.maxQueue ?? Number.POSITIVE_INFINITY);
  }

  /** Called whenever frames leave the queue, so paused sessions can go on. */
  onRoom(listener: () => void): void {
    this.roomListeners.push(listener);
  }

  submit(job: FrameJob): JobTicket {
    const entry: Waiting = { job, receivedAtMs: job.receivedAtMs, resolve: () => undefined, state: 'queued' };
    const promise = new Promise<JobOutcome>((resolve) => {
      entry.resolve = resolve;
    });
    this.queue.push(entry);
    this.pump();
    // The closures reference `entry` only, never `job`: a cancelled frame's
    // bytes are freed at once even while its slot waits in the reply order.
    return { promise, cancel: (reason: string) => this.cancel(entry, reason) };
  }

  private cancel(entry: Waiting, reason: string): boolean {
    if (entry.state !== 'queued') return false;
    const at = this.queue.indexOf(entry);
    if (at >= 0) this.queue.splice(at, 1);
    entry.state = 'done';
    entry.job = undefined;
    entry.resolve({ status: 'dropped', reason, timings: { ...zeroTimings(), queueUs: (nowMs() - entry.receivedAtMs) * 1000 } });
    this.notifyIfIdle();
    return true;
  }

  /** Resolves once nothing is queued or running (used by graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < (this.runner.concurrency ?? this.runner.size) && this.queue.length > 0) {
      const full = this.queue.length >= this.options.maxBatch;
      const waited = nowMs() - this.queue[0].receivedAtMs;
      if (!full && this.options.maxBatch > 1 && waited < this.options.maxDelayMs) {
        this.armTimer(this.options.maxDelayMs - waited);
        return;
      }
      this.dispatch(this.queue.splice(0, this.options.maxBatch));
    }
  }

  private armTimer(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, Math.ceil(delayMs)),
    );
  }

  private dispatch(batch: Waiting[]): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const w of batch) w.state = 'running';
    this.running++;
    for (const listener of this.roomListeners) listener();
    this.observer.batchDispatched?.(batch.length);
    this.runner
      .runBatch(
        batch.map((w) => (w.job as FrameJob).jpeg),
        batch.map((w) => (w.job as FrameJob).motion === true),
      )
      .then(
        (result) => {
          batch.forEach((w, i) => {
            const o = result.outcomes[i];
            const queueUs = Math.max(0, (result.startedAtMs - w.receivedAtMs) * 1000);
            if (o && o.ok) {
              const per = o.height * o.width;
              w.resolve({
                status: 'ok',
                count: o.count,
                density: { height: o.height, width: o.width, values: result.densities.subarray(o.densityOffset, o.densityOffset + per) },
                image: o.imageWidth && o.imageHeight ? { width: o.imageWidth, height: o.imageHeight } : undefined,
                grey: o.grey,
                timings: { queueUs, decodeUs: o.decodeUs, inferUs: result.inferUs },
                batchSize: result.batchSize,
              });
            } else {
              const reason = o ? o.reason : 'worker returned no outcome for this frame';
              const cause = o?.cause;
              // NaN/Inf out of the model is the server's failure, not the frame's.
              const status = cause === 'non-finite' ? 'server-error' : 'frame-error';
              w.resolve({ status, reason, cause, timings: { queueUs, decodeUs: o ? o.decodeUs : 0, inferUs: 0 } });
            }
          });
        },
        (err: unknown) => {
          const reason = `inference failed: ${err instanceof Error ? err.message : String(err)}`;
          for (const w of batch) w.resolve({ status: 'server-error', reason, timings: zeroTimings() });
        },
      )
      .finally(() => {
        for (const w of batch) {
          w.state = 'done';
          w.job = undefined;
        }
        this.running--;
        this.pump();
        this.notifyIfIdle();
      });
  }

  private notifyIfIdle(): void {
    if (this.queue.length > 0 || this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
