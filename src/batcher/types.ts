import type { GreyImage } from '../lines/grey.js';
import type { InputSizePolicy } from '../workers/input-size.js';
import type { BatchResult, FailureCause } from '../workers/types.js';

/** What the batcher needs from the worker pool (tests pass fakes). */
export interface BatchRunner {
  /**
   * `motion[i]`: also return frame i's grey copy (its camera counts line
   * crossings); `policies[i]`: frame i's input-size policy (undefined: the
   * runner's default); `movable[i]`: jpegs[i] is the caller's to give away
   * (see FrameJob.movable): the runner may move its buffer to a worker
   * thread instead of copying it, after which it reads as empty.
   */
  runBatch(
    jpegs: readonly Uint8Array[],
    motion?: readonly boolean[],
    policies?: readonly (InputSizePolicy | undefined)[],
    movable?: readonly boolean[],
  ): Promise<BatchResult>;
  /** Batches that may run at once (one per worker). */
  readonly size: number;
  /** Batches worth keeping in flight, when more than `size` (e.g. decode threads preparing the next ones). */
  readonly concurrency?: number;
}

export interface FrameJob {
  jpeg: Uint8Array;
  /** How the frame becomes network input (its camera's policy); undefined: the runner's default. */
  inputPolicy?: InputSizePolicy;
  /** Epoch ms when the frame was fully received. */
  receivedAtMs: number;
  /** Make the frame's grey copy too (src/lines). */
  motion?: boolean;
  /**
   * Nothing but this job reads `jpeg` (a buffer of its own, not kept by the
   * session for a watcher): the runner may move it to a worker thread
   * rather than copy it.
   */
  movable?: boolean;
  /**
   * Asked just before the frame goes to a worker: false means its sender is
   * gone (nobody will read the answer), and the frame is dropped unrun.
   */
  stillWanted?: () => boolean;
}

export interface JobTimings {
  queueUs: number;
  decodeUs: number;
  inferUs: number;
}

export type JobOutcome =
  | {
      status: 'ok';
      count: number;
      density: { height: number; width: number; values: Float32Array };
      /** Size of the decoded frame, when the runner reports it. */
      image?: { width: number; height: number };
      /** The grey copy, when the job asked for it. */
      grey?: GreyImage;
      timings: JobTimings;
      batchSize: number;
    }
  | {
      status: 'frame-error' | 'server-error' | 'dropped';
      reason: string;
      timings: JobTimings;
      /** Set when a worker refused or failed the frame (metrics count them by cause). */
      cause?: FailureCause;
    };

export interface JobTicket {
  readonly promise: Promise<JobOutcome>;
  /**
   * Withdraws the job if no worker has it yet; it then resolves as
   * "dropped" with `reason`. Returns false once the job is running.
   */
  cancel(reason: string): boolean;
}
