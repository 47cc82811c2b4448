/** Messages between the main thread and the frame workers. */
import type { GreyImage } from '../lines/grey.js';
import type { MotionJob } from '../lines/line-tracker.js';
import type { InputSizeLimits, InputSizePolicy } from './input-size.js';
import type { JpegLimits } from './jpeg-inspect.js';

export type DeviceChoice = 'auto' | 'cuda' | 'cpu';

/** Passed to every worker as workerData. */
export interface WorkerConfig {
  modelPath: string;
  device: DeviceChoice;
  /** ONNX Runtime intra-op threads per session (CPU provider). */
  intraOpThreads: number;
  /** Network input size (already rounded to the manifest's sizeMultiple). */
  inputWidth: number;
  inputHeight: number;
  /** Checked on every JPEG before libjpeg-turbo sees it. */
  imageLimits: JpegLimits;
  /** Bounds on a native or tiled frame's network input (default DEFAULT_INPUT_SIZE_LIMITS). */
  inputSizeLimits?: InputSizeLimits;
  /** Tensor slots (see tensor-slots.ts) where decode threads feed these workers; absent in the fused mode. */
  slots?: SharedArrayBuffer[];
  /** Added to the thread's nice at its start, before its session exists (thread-nice.ts; 0: none). */
  niceIncrement?: number;
}

/** Passed to every prepare worker (decode + preprocessing only, no session). */
export interface PrepareConfig {
  modelPath: string;
  inputWidth: number;
  inputHeight: number;
  imageLimits: JpegLimits;
  /** The tensor slots, handed over once: each batch is prepared into the one its task names. */
  slots: SharedArrayBuffer[];
  /** Added to the thread's nice at its start (thread-nice.ts; 0: none). */
  niceIncrement?: number;
}

/** One batch: JPEG bytes, each in its own transferable ArrayBuffer (decode + inference in one worker). */
export interface BatchTask {
  jpegs: ArrayBuffer[];
  /** Per frame: also make its grey copy (the camera counts people crossing lines). */
  motion?: boolean[];
  /** Each frame's input-size policy (all `fixed` when absent). */
  policies?: InputSizePolicy[];
}

/** One batch for a prepare worker: JPEG bytes (transferred), and the tensor slot to prepare into. */
export interface PrepareTask {
  jpegs: ArrayBuffer[];
  slot: number;
  motion?: boolean[];
}

/**
 * A batch already decoded and preprocessed: the network input of the frames
 * that decoded, back to back, and every frame's outcome so far.
 */
export interface PreparedBatch {
  /** Tensor data in the manifest's layout and element type (the Uint8Array or Float32Array's whole buffer, or a tensor slot). */
  input: ArrayBufferLike;
  /** Frames in `input`, in order: indexes into `outcomes`. */
  good: number[];
  outcomes: FrameOutcome[];
  /** Epoch ms when preparing started. */
  startedAtMs: number;
}

/**
 * A prepared batch as it crosses threads: its tensor lies in tensor slot
 * `slot` (shared once at start), so only the index and the outcomes move.
 */
export type SlotBatch = Omit<PreparedBatch, 'input'> & { slot: number };

/** Inference only, on a batch a prepare worker left in a tensor slot. */
export interface InferTask {
  kind: 'infer';
  batch: SlotBatch;
}

/**
 * Bench only: run the session on the same pre-made tensor again and again
 * for `durationMs` (pure inference: no decode, no copies, no messages).
 */
export interface PureInferenceTask {
  kind: 'pure-inference';
  prepared: PreparedBatch;
  durationMs: number;
}

export interface PureInferenceResult {
  frames: number;
  runs: number;
  wallMs: number;
}

/** Dense flow between two frames' grey crops, for counting lines (src/lines). */
export interface MotionTask {
  kind: 'motion';
  job: MotionJob;
}

export type WorkerTask = BatchTask | InferTask | PureInferenceTask | MotionTask;

/** decodeUs: JPEG decode + preprocessing (what replies report as "decode"); preprocessUs: the preprocessing part alone (set by FramePreparer; 0 where the uint8 fast path resizes inside the decode, native/decode-resize.c, or has nothing to resize). */
export type FrameOutcome =
  | {
      ok: true;
      count: number;
      decodeUs: number;
      preprocessUs?: number;
      height: number;
      width: number;
      densityOffset: number;
      /** The decoded frame's size (zones in frame pixels need it); optional so runners that never decode can omit it. */
      imageWidth?: number;
      imageHeight?: number;
      /** The grey copy of the network input, when the task asked for it (src/lines/grey.ts). */
      grey?: GreyImage;
      /**
       * Inference time spent on this frame alone: set for a native or tiled
       * frame (a session run of its own, all its tiles), absent for frames
       * that shared the batch's run (BatchResult.inferUs minus the own runs).
       */
      ownInferUs?: number;
    }
  | { ok: false; reason: string; decodeUs: number; preprocessUs?: number; cause: FailureCause };

/**
 * Why a frame failed inside a worker: refused before decoding (too-large),
 * undecodable (corrupt), or the model produced NaN/Inf (non-finite: the
 * server's fault, not the frame's).
 */
export type FailureCause = 'too-large' | 'corrupt' | 'non-finite';

export interface BatchResult {
  outcomes: FrameOutcome[];
  /** Density maps of the ok frames, back to back (transferred, not copied). */
  densities: Float32Array;
  inferUs: number;
  /** Epoch milliseconds when the worker started on the batch. */
  startedAtMs: number;
  batchSize: number;
}

/** Posted by a worker once its session is loaded (or failed to load). */
export type WorkerStatusMessage =
  | { kind: 'crowdline-worker-ready'; threadId: number; provider: string; loadMs: number }
  | { kind: 'crowdline-worker-failed'; threadId: number; error: string }
  | { kind: 'crowdline-worker-log'; threadId: number; line: string };

export function isWorkerStatusMessage(value: unknown): value is WorkerStatusMessage {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'crowdline-worker-ready' || kind === 'crowdline-worker-failed' || kind === 'crowdline-worker-log';
}
