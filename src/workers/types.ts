/** Messages between the main thread and the frame workers. */
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
}

/** One batch: JPEG bytes, each in its own transferable ArrayBuffer. */
export interface BatchTask {
  jpegs: ArrayBuffer[];
}

export type FrameOutcome =
  | {
      ok: true;
      count: number;
      decodeUs: number;
      height: number;
      width: number;
      densityOffset: number;
      /** The decoded frame's size (zones in frame pixels need it); optional so runners that never decode can omit it. */
      imageWidth?: number;
      imageHeight?: number;
    }
  | { ok: false; reason: string; decodeUs: number; cause: FailureCause };

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
