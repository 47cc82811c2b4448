/**
 * Prometheus metrics for one crowdline server. Implements the accept layer's
 * and the batcher's observer hooks; gauges that mirror live state (queue
 * depth, ready workers) read it at scrape time through `bind()`.
 * Each instance has its own registry, so tests can run several servers.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FrameReport, ServerCloseReason, ServerObserver } from '../accept/observer.js';
import type { BatcherObserver } from '../batcher/batcher.js';
import type { CapExceeded } from '../accept/rate-caps.js';
import { EventLoopDelaySampler } from './event-loop-delay.js';
import { sampledGauge } from './sampled-gauge.js';

/** Live state the metrics read when scraped. */
export interface MetricSources {
  queueDepth(): number;
  /** JPEG bytes waiting for a worker. */
  queueBytes(): number;
  runningBatches(): number;
  readyWorkers(): number;
  poolSize(): number;
  connections(): number;
}

/** Camera names come from clients; cap the label set so memory stays bounded. */
const MAX_CAMERA_LABELS = 256;

/**
 * A camera's series go this long after its last answered frame (checked at
 * each scrape), so a camera that left stops showing a count that is no longer
 * true. Longer than the camera-silent alert (deploy/grafana) takes to fire.
 */
export const DEFAULT_CAMERA_SERIES_TTL_MS = 15 * 60_000;

export interface ServerMetricsOptions {
  defaultMetrics?: boolean;
  /** See DEFAULT_CAMERA_SERIES_TTL_MS; 0: never (only the 256-camera cap removes series). */
  cameraSeriesTtlMs?: number;
  /** Clock (epoch ms); tests move it. */
  now?: () => number;
}

/** Latency buckets (seconds): 1 ms .. 10 s, dense where a 20-50 ms model lives. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];
const EVENT_LOOP_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1];
const BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];

export class ServerMetrics implements ServerObserver, BatcherObserver {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;
  private readonly eventLoop: EventLoopDelaySampler;
  /** Camera -> when a frame of it was last answered (epoch ms); Map order: least recent first. */
  private readonly cameras = new Map<string, number>();
  private readonly cameraTtlMs: number;
  private readonly now: () => number;

  private readonly received = new Counter({ name: 'crowdline_frames_received_total', help: 'Frames received from clients', registers: [this.registry] });
  private readonly answered = new Counter({
    name: 'crowdline_frames_answered_total',
    help: 'Replies sent, by status (ok, dropped, frame-error, server-error)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: 'crowdline_frames_failed_total',
    help: 'Frames answered frame-error or server-error, by cause (too-large: refused before decoding; corrupt; non-finite: model output; other: inference failed)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  private readonly capped = new Counter({
    name: 'crowdline_frames_rate_capped_total',
    help: 'Frames answered dropped because their sender was over a rate cap (--overload drop-oldest), by cap; a part of crowdline_frames_answered_total{status="dropped"}',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });
  private readonly rateCapWaits = new Counter({
    name: 'crowdline_rate_cap_waits_total',
    help: 'Times a connection paused because its sender was over a rate cap, by cap (--overload queue: frames wait in the sender, none is dropped)',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });
  private readonly serverClosed = new Counter({
    name: 'crowdline_connections_ended_by_server_total',
    help: 'Connections the server refused or ended for a limit, by reason (protocol errors: crowdline_protocol_errors_total)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly connectionsOpened = new Counter({
    name: 'crowdline_connections_opened_total',
    help: 'Connections whose protocol was recognised',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  private readonly protocolErrors = new Counter({
    name: 'crowdline_protocol_errors_total',
    help: 'Connections closed for breaking a protocol rule',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });
  private readonly authRefusals = new Counter({
    name: 'crowdline_auth_refusals_total',
    help: 'Connections refused by authentication or transport policy, by cause (bad-token, no-token, tls-required, legacy-refused, ...)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  private readonly longFrames = new Counter({
    name: 'crowdline_long_frames_total',
    help: 'Frames estimated over --long-frame-ms that started in a worker, by whether the hold limit made them wait for their sender\'s share of the workers (held="true"): a sender of costly frames beside other cameras',
    labelNames: ['held'] as const,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'crowdline_batch_size',
    help: 'Frames per batch sent to a worker',
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly serverSeconds = this.latency('crowdline_frame_server_seconds', 'Frame received to reply written, all statuses');
  private readonly queueSeconds = this.latency('crowdline_frame_queue_seconds', 'Time an answered-ok frame waited for a worker');
  private readonly decodeSeconds = this.latency('crowdline_frame_decode_seconds', 'JPEG decode + resize + normalise per ok frame');
  private readonly inferSeconds = this.latency('crowdline_frame_infer_seconds', 'Inference time of the batch that carried an ok frame');
  // Per camera; a camera's series are removed DEFAULT_CAMERA_SERIES_TTL_MS after it was last heard from (see sweep()).
  private readonly cameraPeople = new Gauge({
    name: 'crowdline_camera_people',
    help: 'People counted in the latest frame answered ok, per camera (the density map sum)',
    labelNames: ['camera'] as const,
    registers: [this.registry],
    collect: () => this.sweepCameras(),
  });
  private readonly cameraFrames = new Counter({
    name: 'crowdline_camera_frames_total',
    help: 'Frames answered per camera, any status (by status for all cameras: crowdline_frames_answered_total)',
    labelNames: ['camera'] as const,
    registers: [this.registry],
  });
  private readonly cameraLastResult = new Gauge({
    name: 'crowdline_camera_last_result_timestamp_seconds',
    help: 'Unix time of the latest frame answered ok, per camera',
    labelNames: ['camera'] as const,
    registers: [this.registry],
  });
  /** Identities (or camera names) worker time has been counted for; capped like cameras. */
  private readonly workerLabels = new Set<string>();
  private readonly workerSeconds = new Counter({
    name: 'crowdline_worker_seconds_total',
    help: 'Worker time frames really cost (decode + their share of batch inference), by identity (the authenticated name, else the camera name; "legacy", "unidentified"; "other" past 256)',
    labelNames: ['identity'] as const,
    registers: [this.registry],
  });
  /** Senders worker time has been counted for; capped like cameras. */
  private readonly senderLabels = new Set<string>();
  private readonly senderSeconds = new Counter({
    name: 'crowdline_sender_worker_seconds_total',
    help: 'Worker time frames really cost, by sender, the fair queue\'s unit of share ("identity:NAME/CAMERA", or "address:A" for unauthenticated peers, IPv6 by /64; "other" past 256)',
    labelNames: ['sender'] as const,
    registers: [this.registry],
  });
  private readonly eventLoopDelay = new Histogram({
    name: 'crowdline_event_loop_delay_seconds',
    help: 'How late a 5 ms timer fired on the server main thread (cumulative; diff two scrapes for a window)',
    buckets: EVENT_LOOP_BUCKETS,
    registers: [this.registry],
  });

  constructor(options: ServerMetricsOptions = {}) {
    this.cameraTtlMs = options.cameraSeriesTtlMs ?? DEFAULT_CAMERA_SERIES_TTL_MS;
    this.now = options.now ?? Date.now;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Every status visible from the start, so rate() and alerts see a 0, not a gap.
    for (const status of ['ok', 'dropped', 'frame-error', 'server-error'] as const) this.answered.inc({ status }, 0);
    for (const cause of ['too-large', 'corrupt', 'non-finite', 'other'] as const) this.failed.inc({ cause }, 0);
    for (const held of ['true', 'false'] as const) this.longFrames.inc({ held }, 0);
    for (const cap of ['frame-rate-cap', 'pixel-rate-cap'] as const) {
      this.capped.inc({ cap }, 0);
      this.rateCapWaits.inc({ cap }, 0);
    }
    // Gauges that mirror live state, read from the bound sources at scrape time.
    const live: Array<[name: string, help: string, read: (sources: MetricSources) => number]> = [
      ['crowdline_queue_depth', 'Frames waiting for a worker (batcher queue)', (src) => src.queueDepth()],
      ['crowdline_queue_bytes', 'JPEG bytes waiting for a worker (batcher queue; bounded by --max-queue-bytes)', (src) => src.queueBytes()],
      ['crowdline_running_batches', 'Batches inside workers now', (src) => src.runningBatches()],
      ['crowdline_workers_ready', 'Workers with the model loaded', (src) => src.readyWorkers()],
      ['crowdline_workers', 'Workers in the pool', (src) => src.poolSize()],
      ['crowdline_connections', 'Open client connections', (src) => src.connections()],
    ];
    for (const [name, help, read] of live) {
      sampledGauge(this.registry, name, help, () => (this.sources ? read(this.sources) : 0));
    }
    this.eventLoop = new EventLoopDelaySampler(this.eventLoopDelay);
    this.eventLoop.start();
  }

  /** Connects the scrape-time gauges to the running server. */
  bind(sources: MetricSources): void {
    this.sources = sources;
  }

  /** Ready = every worker has loaded the model (false until bound). */
  get ready(): boolean {
    const s = this.sources;
    return s !== undefined && s.poolSize() > 0 && s.readyWorkers() === s.poolSize();
  }

  stop(): void {
    this.eventLoop.stop();
  }

  rateCapWait(cap: CapExceeded): void {
    this.rateCapWaits.inc({ cap });
  }

  connectionOpened(protocol: 'v1' | 'legacy'): void {
    this.connectionsOpened.inc({ protocol });
  }

  frameReceived(): void {
    this.received.inc();
  }

  frameAnswered(report: FrameReport): void {
    this.answered.inc({ status: report.status });
    this.serverSeconds.observe(report.serverUs / 1e6);
    if (report.status === 'frame-error' || report.status === 'server-error') this.failed.inc({ cause: report.cause ?? 'other' });
    if (report.dropReason !== undefined && report.dropReason !== 'drop-oldest') this.capped.inc({ cap: report.dropReason });
    const now = this.now();
    this.touchCamera(report.camera, now);
    this.cameraFrames.inc({ camera: report.camera });
    if (report.status !== 'ok') return;
    this.queueSeconds.observe(report.queueUs / 1e6);
    this.decodeSeconds.observe(report.decodeUs / 1e6);
    this.inferSeconds.observe(report.inferUs / 1e6);
    this.cameraLastResult.set({ camera: report.camera }, now / 1000);
    if (report.count !== undefined) this.cameraPeople.set({ camera: report.camera }, report.count);
  }

  connectionEnded(reason: ServerCloseReason): void {
    this.serverClosed.inc({ reason });
  }

  protocolError(rule: string): void {
    this.protocolErrors.inc({ rule });
  }

  authRefused(cause: string): void {
    this.authRefusals.inc({ cause });
  }

  batchDispatched(size: number): void {
    this.batchSize.observe(size);
  }

  workerTime(label: string, us: number, sender?: string): void {
    this.workerSeconds.inc({ identity: capLabel(this.workerLabels, label) }, us / 1e6);
    if (sender !== undefined) this.senderSeconds.inc({ sender: capLabel(this.senderLabels, sender) }, us / 1e6);
  }

  longFrameStarted(held: boolean): void {
    this.longFrames.inc({ held: String(held) });
  }

  /** Cameras heard from: the least recent goes when a new one would pass MAX_CAMERA_LABELS. */
  private touchCamera(camera: string, now: number): void {
    if (!this.cameras.has(camera) && this.cameras.size >= MAX_CAMERA_LABELS) {
      const oldest = this.cameras.keys().next().value as string;
      this.forgetCamera(oldest);
    }
    // Re-insert so the Map's order is least recently heard from first.
    this.cameras.delete(camera);
    this.cameras.set(camera, now);
  }

  /** At each scrape: cameras not heard from for the TTL lose their series. */
  private sweepCameras(): void {
    if (this.cameraTtlMs <= 0) return; // 0: kept until the camera cap evicts them
    const cutoff = this.now() - this.cameraTtlMs;
    for (const [camera, lastSeen] of this.cameras) {
      if (lastSeen > cutoff) break; // least recent first: the rest are newer
      this.forgetCamera(camera);
    }
  }

  private forgetCamera(camera: string): void {
    this.cameras.delete(camera);
    for (const metric of [this.cameraPeople, this.cameraFrames, this.cameraLastResult]) metric.remove({ camera });
  }

  private latency(name: string, help: string): Histogram {
    return new Histogram({ name, help, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }
}

/** The label itself while fewer than MAX_CAMERA_LABELS are known, else "other": peers cannot grow the series without bound. */
function capLabel(known: Set<string>, label: string): string {
  if (known.has(label)) return label;
  if (known.size >= MAX_CAMERA_LABELS) return 'other';
  known.add(label);
  return label;
}
