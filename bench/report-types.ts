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
