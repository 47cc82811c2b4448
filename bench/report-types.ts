/** The bench's JSON result file (schema crowdline.bench/1). All times in ms. */
import type { OverloadPolicy } from '../src/accept/options.js';

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** End to end as the camera sees it, and its parts as the server reports them. */
export interface LatencyBreakdown {
  endToEnd: LatencySummary;
  queue: LatencySummary;
  decode: LatencySummary;
  inference: LatencySummary;
  /** serverUs - queue - decode - inference: batch-mates' decode, reply encoding, waiting for earlier frames (in-order replies). */
  reply: LatencySummary;
  /** endToEnd - serverUs: the wire and socket buffers both ways (under backpressure, frames wait here before the server reads them). */
  network: LatencySummary;
}

/** What the worker pool does with no network: the ceiling served throughput is compared to. */
export interface LimitMeasurement {
  maxBatch: number;
  workers: number;
  intraOpThreads: number;
  provider: string;
  /** Full batches on every worker at once, for durationS. */
  framesDone: number;
  durationS: number;
  throughputFps: number;
  /** One frame at a time, batch of one: the latency floor. */
  singleFrame: { decodeInferMs: LatencySummary; runBatchWallMs: LatencySummary };
  /** Threads that only decode (0: each worker decodes its own batches). */
  decodeThreads?: number;
  /** Per frame, means over the full-batch run: decode, preprocessing, and the batch's session.run divided by its frames. */
  split?: { decodeMs: number; preprocessMs: number; inferenceMs: number };
  /**
   * The same sessions running a pre-made tensor of maxBatch frames back to
   * back, all at once: no decode, no copies, no messages. The real ceiling.
   */
  pureInference?: { throughputFps: number; msPerBatch: number; batch: number; durationS: number; cpuMsPerFrame: number };
}

/** Decode and preprocessing per frame, on one thread, through the worker code (medians, ms). */
export interface PreprocessCase {
  name: string;
  from: string;
  to: string;
  frames: number;
  decodeMs: number;
  /** uint8 fast path: nothing at identity size (decoded into the tensor), else fixed-point bilinear on bytes. */
  fastPreprocessMs: number;
  /** Which loop the fast path ran ('native (avx2)', or why JavaScript), and the JavaScript loop on the same images for comparison. */
  resizeLoop: string;
  jsLoopPreprocessMs: number;
  /** Float reference path: resize + normalise into planar float32. */
  floatPreprocessMs: number;
  /** decode + fast path, as the server runs it: the fused decode + resize where it ran (see `fused`), else decode, then resize. */
  fastTotalMs: number;
  /** The same, as CPU time per frame: robust to other work on the machine, and what the targets are checked on. */
  cpuMs: { decode: number; fastPreprocess: number; jsLoopPreprocess: number; floatPreprocess: number; fastTotal: number };
  /** How the server's fast path handles these frames: 'fused' (native/decode-resize.c), 'two-step' (decode, then resize) or 'identity' (decode into the tensor). */
  servedPath?: 'fused' | 'two-step' | 'identity';
  /**
   * Where a resize is needed and the addon has decodeResizeU8: decode alone, the two-step path
   * and the fused call on each frame in turn (the order rotated frame by frame), so all three
   * see the same machine. Medians of per-frame wall and CPU time, and CPU per frame over all.
   */
  fused?: {
    frames: number;
    wallMs: { decode: number; twoStep: number; fused: number };
    medianCpuMs: { decode: number; twoStep: number; fused: number };
    cpuMs: { decode: number; twoStep: number; fused: number };
  };
}

export interface PreprocessingCost {
  model: string;
  /** The model's input: which path the server takes for it. */
  inputElementType: string;
  cases: PreprocessCase[];
}

/** Decode threads feeding a simulated device (batch of N takes a + b*N ms). */
export interface SimulatedDeviceResult {
  batch: number;
  decodeThreads: number;
  device: { aMs: number; bMs: number };
  /** Frames/s the device model can take at this batch size. */
  deviceCapacityFps: number;
  framesDone: number;
  failed: number;
  durationS: number;
  throughputFps: number;
  /** Fraction of the time the device had a batch. */
  deviceBusy: number;
  /** CPU time of the whole bench process over the run. */
  cpuSeconds: number;
  /** Frames per CPU second: host frames/s per core, whatever else runs on the machine. */
  framesPerCpuSecond: number;
  /** Frames/s divided by the machine's cores (wall clock). */
  framesPerSecondPerCore: number;
}

export interface ServerHealth {
  /** From the server's crowdline_event_loop_delay_seconds histogram, over the measured window. */
  eventLoopDelayMs: { p50: number; p99: number; samples: number } | null;
  /** Largest nodejs_eventloop_lag_max_seconds seen by the 1 s scrapes. */
  eventLoopMaxMs: number | null;
  /** Resident memory of the server process, sampled each second. */
  rssMb: { start: number; end: number; max: number; samples: number[] } | null;
  batchSizeMean: number | null;
  maxQueueDepth: number | null;
  /** CPU time of the whole server process (main thread + workers) over the window, % of one core. */
  cpuPct: number | null;
}

export interface PointResult extends ReplyCounts {
  name: string;
  mode: 'closed' | 'open';
  maxBatch: number;
  overload: OverloadPolicy;
  cameras: number;
  /** Frames each camera keeps in flight (closed) or asks the server for (open). */
  window: number;
  /** Open loop: frames per second offered in total. Closed loop: null. */
  offeredFps: number | null;
  durationS: number;
  /** ok replies per second inside the measured window. */
  throughputFps: number;
  limitFps: number;
  /** throughputFps / limitFps, both measured in this run. */
  limitRatio: number;
  /** throughputFps / the limit's pure-inference fps, both measured in this run (absent if not measured). */
  pureInferenceRatio?: number;
  /**
   * CPU per frame: pure inference's over the server process's (served CPU /
   * served frames; the load generator not counted). The share of the
   * server's CPU that is inference: the served / pure ratio a CPU-bound
   * server reaches on cores of its own, whatever else runs on the machine.
   */
  pureInferenceCpuRatio?: number;
  /** The cameras connected with TLS (bench --tls runs each closed-loop point both ways at once, against two servers). */
  tls: boolean;
  latencyMs: LatencyBreakdown;
  server: ServerHealth;
  /** CPU the load generator itself used (% of one core): taken from the same cores when the server is local. With --tls, the plain and TLS halves together. */
  loadGeneratorCpuPct: number;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  schema: 'crowdline.bench/1';
  startedAt: string;
  finishedAt: string;
  machine: { cores: number; cpu: string; node: string; otherLoad: string };
  server: {
    target: string;
    model: string;
    device: string;
    workers: number | null;
    intraOpThreads: number | null;
    maxBatchDelayMs: number;
    densityFormat: string;
  };
  frames: { source: string; count: number; width: number; height: number; meanBytes: number };
  limits: LimitMeasurement[];
  points: PointResult[];
  /** Decode and preprocessing cost per frame (same run). */
  preprocessing?: PreprocessingCost;
  /** Host path feeding a simulated accelerator (same run). */
  simulatedDevice?: SimulatedDeviceResult[];
  /** `uptime` load averages at the start and end of the run: other work on the machine skews every figure. */
  loadAverage?: { start: number[]; end: number[] };
  targets: TargetCheck[];
}

/** Counts over the whole run of a point (warm-up and drain included). */
export interface ReplyCounts {
  sent: number;
  answered: number;
  ok: number;
  dropped: number;
  failed: number;
  /** Open loop: frames a camera skipped because maxPending were already unanswered. */
  skippedAtCamera: number;
  /** Sent but never answered, and answered more than once: both must be 0. */
  unanswered: number;
  duplicates: number;
}
