/**
 * `crowdline bench` end to end: pre-encode frames, measure the worker pool's
 * own limit (no network), then load a server (a child process this starts,
 * or a remote one) with closed- and open-loop cameras, and write the JSON
 * result and the SVG chart.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { OverloadPolicy } from '../src/accept/options.js';
import { DENSITY_FORMAT_NAMES, type DensityFormatName } from '../src/framing/index.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { renderChart } from './chart.js';
import { loadFrames } from './frames.js';
import { measureLimit } from './limit.js';
import { runLoad, type LoadResult } from './load.js';
import { measurePreprocessing, measureSimulatedDevice, reencodeAt, type DeviceModel } from './host-path.js';
import type { BenchReport, LimitMeasurement, PointResult } from './report-types.js';
import { startChildServer, type ChildServer } from './server-process.js';
import { makePki, type Pki } from './throwaway-pki.js';
import type { ClientSecurity } from '../client/connection/connection.js';
import { ServerMonitor } from './server-monitor.js';
import { round, summarize } from './stats.js';
import { checkTargets } from './targets.js';

export interface OpenLoopPlan {
  /** Offered load as a multiple of the measured limit (the sustainable rate). */
  loadFactor: number;
  cameras: number;
  window: number;
  policies: OverloadPolicy[];
  maxPending: number;
}

export interface BenchOptions {
  /** Load a server that is already running instead of starting one. */
  connect?: { host: string; port: number; metricsUrl?: string };
  model: string;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  /** Threads that only decode (server and limit; default: the pool's, 0 on CPU). */
  decodeThreads?: number;
  inputSize?: { width: number; height: number };
  /** Max-batch settings to compare (1 = batching off); one server and one limit each. */
  maxBatches: number[];
  maxBatchDelayMs: number;
  cameras: number[];
  /** Closed loop: frames in flight per camera. */
  window: number;
  durationS: number;
  warmupS: number;
  limitS: number;
  singleS: number;
  /** Seconds of pure inference per limit (default limitS; 0 skips it). */
  pureS?: number;
  /** Measure decode + preprocessing per frame, at the frames' size and at 1920x1080 (default true). */
  preprocessing?: boolean;
  /** Decode threads feeding a simulated device, per batch size (null: skip). */
  simulatedDevice?: SimulatedDevicePlan | null;
  open: OpenLoopPlan | null;
  /** Measure the limits only (e.g. to compare workers x threads); no server, no load. */
  limitOnly?: boolean;
  source: string;
  frameCount: number;
  jpegQuality: number;
  densityFormat: DensityFormatName;
  /** Run every closed-loop point over plain TCP and over TLS (throwaway certificate) at the same time, against two servers, to measure TLS's cost. */
  tls?: boolean;
  /** Written there: bench-<time>.json and .svg. */
  outDir?: string;
  /** Said in the report, e.g. "model training running". */
  otherLoad?: string;
  log?: (line: string) => void;
  progress?: ProgressSink;
}

export interface SimulatedDevicePlan {
  device: DeviceModel;
  batches: number[];
  /** Default: every core. */
  decodeThreads?: number;
  durationS: number;
}

export interface ProgressSink {
  start(name: string, totalS: number): void;
  update(elapsedS: number, ok: number): void;
  stop(): void;
}

export interface BenchOutput {
  report: BenchReport;
  jsonPath?: string;
  chartPath?: string;
}

interface PointPlan {
  name: string;
  mode: 'closed' | 'open';
  cameras: number;
  window: number;
  fpsPerCamera?: number;
  security?: ClientSecurity;
}

export async function runBench(options: BenchOptions): Promise<BenchOutput> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const frames = await loadFrames(options.source, options.frameCount, options.jpegQuality);
  const meanBytes = Math.round(frames.jpegs.reduce((n, j) => n + j.byteLength, 0) / frames.jpegs.length);
  log(`${frames.jpegs.length} frames ${frames.width}x${frames.height} from ${frames.source}, mean ${Math.round(meanBytes / 1024)} KiB`);

  const loadStart = os.loadavg().map((v) => round(v, 2));
  const cores = os.availableParallelism();

  let preprocessing: BenchReport['preprocessing'];
  if (options.preprocessing ?? true) {
    const hd = reencodeAt(frames.jpegs.slice(0, 20), 1920, 1080, options.jpegQuality);
    preprocessing = measurePreprocessing({ model: options.model, inputSize: options.inputSize, jpegs: frames.jpegs, hdJpegs: hd });
    for (const c of preprocessing.cases) {
      log(
        `preprocessing ${c.name} ${c.from} -> ${c.to}, CPU ms per frame: decode ${c.cpuMs.decode}, fast path +${c.cpuMs.fastPreprocess} (${c.resizeLoop}; JavaScript loop +${c.cpuMs.jsLoopPreprocess}), float path +${c.cpuMs.floatPreprocess}${c.fused ? `; alternated: decode ${c.fused.cpuMs.decode}, decode then resize ${c.fused.cpuMs.twoStep}, fused decode + resize ${c.fused.cpuMs.fused}` : ''}`,
      );
    }
  }

  const limits: LimitMeasurement[] = [];
  for (const maxBatch of options.maxBatches) {
    log(`limit: worker pool alone, max batch ${maxBatch}, ${options.singleS} s one frame at a time + ${options.limitS} s full batches`);
    const limit = await measureLimit({
      model: options.model,
      device: options.device,
      workers: options.workers,
      intraOpThreads: options.intraOpThreads,
      decodeThreads: options.decodeThreads,
      inputSize: options.inputSize,
      maxBatch,
      jpegs: frames.jpegs,
      durationS: options.limitS,
      singleS: options.singleS,
      pureS: options.pureS,
    });
    log(
      `limit: ${limit.throughputFps} fps (${limit.workers} worker(s) x ${limit.intraOpThreads} thread(s), ${limit.decodeThreads ?? 0} decode thread(s)); ` +
        `pure inference ${limit.pureInference?.throughputFps ?? '-'} fps; one frame decode+infer p50 ${limit.singleFrame.decodeInferMs.p50} ms`,
    );
    limits.push(limit);
  }

  const points: PointResult[] = [];
  const batchesToRun = options.limitOnly ? [] : options.connect ? options.maxBatches.slice(0, 1) : options.maxBatches;
  if (options.tls && options.connect) throw new Error('--tls compares a plain and a TLS server the bench starts itself; it cannot be used with --connect');
  const pki = options.tls && batchesToRun.length > 0 ? await makePki(mkdtempSync(path.join(os.tmpdir(), 'crowdline-bench-pki-'))) : undefined;
  for (const maxBatch of batchesToRun) {
    const plans: PointPlan[] = [{ name: `unloaded b${maxBatch}`, mode: 'closed', cameras: 1, window: 1 }];
    for (const n of options.cameras) plans.push({ name: `closed ${n}cam b${maxBatch}`, mode: 'closed', cameras: n, window: options.window });
    const limit = limitOf(limits, maxBatch);
    await withServer(options, maxBatch, 'queue', async (server) => {
      if (!pki) {
        for (const plan of plans) points.push(await runPoint(options, server, plan, maxBatch, 'queue', limit, frames.jpegs));
        return;
      }
      // A plain and a TLS server, each point loading both at the same time: whatever else runs on
      // the machine weighs on both halves alike, so the difference is TLS (each gets about half the machine).
      await withServer(
        options,
        maxBatch,
        'queue',
        async (tlsServer) => {
          for (const plan of plans) {
            const tlsPlan = { ...plan, name: `${plan.name} tls`, security: clientTls(pki) };
            points.push(
              ...(await Promise.all([
                runPoint(options, server, plan, maxBatch, 'queue', limit, frames.jpegs),
                runPoint({ ...options, progress: undefined }, tlsServer, tlsPlan, maxBatch, 'queue', limit, frames.jpegs),
              ])),
            );
          }
        },
        ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey],
      );
    });
  }

  if (options.open && !options.limitOnly) {
    const maxBatch = options.maxBatches[0];
    const limit = limitOf(limits, maxBatch);
    const offered = options.open.loadFactor * limit.throughputFps;
    const policies = options.connect ? options.open.policies.slice(0, 1) : options.open.policies;
    for (const policy of policies) {
      const plan: PointPlan = {
        name: `open ${options.open.loadFactor}x ${policy} b${maxBatch}`,
        mode: 'open',
        cameras: options.open.cameras,
        window: options.open.window,
        fpsPerCamera: offered / options.open.cameras,
      };
      await withServer(options, maxBatch, policy, async (server) => {
        points.push(await runPoint(options, server, plan, maxBatch, policy, limit, frames.jpegs));
      });
    }
  }

  const simulatedDevice = [];
  if (options.simulatedDevice) {
    const plan = options.simulatedDevice;
    for (const batch of plan.batches) {
      const decodeThreads = plan.decodeThreads ?? cores;
      log(
        `simulated device: batch ${batch} takes ${plan.device.aMs} + ${plan.device.bMs} x ${batch} ms, ${decodeThreads} decode thread(s), ${plan.durationS} s`,
      );
      const r = await measureSimulatedDevice({
        model: options.model,
        inputSize: options.inputSize,
        jpegs: frames.jpegs,
        batch,
        decodeThreads,
        device: plan.device,
        durationS: plan.durationS,
        cores,
      });
      log(`simulated device b${batch}: ${r.throughputFps} fps, device busy ${Math.round(r.deviceBusy * 100)}%, ${r.framesPerCpuSecond} frames per CPU second`);
      simulatedDevice.push(r);
    }
  }

  const draft: Omit<BenchReport, 'targets'> = {
    schema: 'crowdline.bench/1',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, otherLoad: options.otherLoad ?? 'none known' },
    server: {
      target: options.connect ? `${options.connect.host}:${options.connect.port}` : 'child process started by the bench',
      model: path.basename(options.model),
      device: options.device,
      workers: limits[0]?.workers ?? options.workers ?? null,
      intraOpThreads: limits[0]?.intraOpThreads ?? options.intraOpThreads ?? null,
      maxBatchDelayMs: options.maxBatchDelayMs,
      densityFormat: options.densityFormat,
    },
    frames: { source: frames.source, count: frames.jpegs.length, width: frames.width, height: frames.height, meanBytes },
    limits,
    points,
    preprocessing,
    simulatedDevice: options.simulatedDevice ? simulatedDevice : undefined,
    loadAverage: { start: loadStart, end: os.loadavg().map((v) => round(v, 2)) },
  };
  const report: BenchReport = { ...draft, targets: checkTargets(draft) };

  if (!options.outDir) return { report };
  mkdirSync(options.outDir, { recursive: true });
  const stem = path.join(options.outDir, `bench-${startedAt.replace(/[:.]/g, '-')}`);
  writeFileSync(`${stem}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${stem}.svg`, renderChart(report));
  return { report, jsonPath: `${stem}.json`, chartPath: `${stem}.svg` };
}

function clientTls(pki: Pki): ClientSecurity {
  return { tls: { ca: readFileSync(pki.caCert) } };
}

function limitOf(limits: LimitMeasurement[], maxBatch: number): LimitMeasurement {
  const limit = limits.find((l) => l.maxBatch === maxBatch);
  if (!limit) throw new Error(`no limit measured for max batch ${maxBatch}`);
  return limit;
}

const RATE_CAPS_OFF = ['--max-fps', '0', '--max-pixel-rate', '0', '--unauth-max-fps', '0', '--unauth-max-pixel-rate', '0'];

async function withServer(
  options: BenchOptions,
  maxBatch: number,
  overload: OverloadPolicy,
  body: (server: Target) => Promise<void>,
  extraArgs?: string[],
): Promise<void> {
  if (options.connect) {
    await body({ host: options.connect.host, port: options.connect.port, metricsUrl: options.connect.metricsUrl });
    return;
  }
  options.log?.(`server: max batch ${maxBatch}, overload ${overload}`);
  const child: ChildServer = await startChildServer({
    model: options.model,
    device: options.device,
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
    decodeThreads: options.decodeThreads,
    inputSize: options.inputSize ? `${options.inputSize.width}x${options.inputSize.height}` : undefined,
    maxBatch,
    maxBatchDelayMs: options.maxBatchDelayMs,
    overload,
    window: 4,
    // The bench measures capacity, its cameras all from one address: rate caps off (docs/reliability.md, "Rate caps per sender").
    extraArgs: [...RATE_CAPS_OFF, ...(extraArgs ?? [])],
  });
  try {
    await body(child);
  } finally {
    await child.stop();
  }
}

interface Target {
  host: string;
  port: number;
  metricsUrl?: string;
}

async function runPoint(
  options: BenchOptions,
  server: Target,
  plan: PointPlan,
  maxBatch: number,
  overload: OverloadPolicy,
  limit: LimitMeasurement,
  jpegs: readonly Uint8Array[],
): Promise<PointResult> {
  const monitor = server.metricsUrl ? new ServerMonitor(server.metricsUrl) : undefined;
  // The monitor's window starts when the load's does (after warm-up).
  const monitorStarted = monitor ? delay(options.warmupS * 1000).then(() => monitor.start()) : Promise.resolve();
  options.progress?.start(plan.name, options.warmupS + options.durationS);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  let load: LoadResult;
  try {
    load = await runLoad({
      host: server.host,
      port: server.port,
      mode: plan.mode,
      cameras: plan.cameras,
      window: plan.window,
      fpsPerCamera: plan.fpsPerCamera,
      maxPending: options.open?.maxPending,
      jpegs,
      warmupS: options.warmupS,
      durationS: options.durationS,
      densityFormat: DENSITY_FORMAT_NAMES[options.densityFormat],
      cameraPrefix: plan.name.replace(/\s+/g, '-'),
      security: plan.security,
      onTick: (elapsedS, ok) => options.progress?.update(elapsedS, ok),
    });
  } catch (err) {
    // Do not leave the monitor's timer running behind a failed point.
    await monitorStarted;
    await monitor?.stop();
    throw err;
  } finally {
    options.progress?.stop();
  }
  const cpuUsed = process.cpuUsage(cpuBefore);
  const loadGeneratorCpuPct = round(((cpuUsed.user + cpuUsed.system) / 1000 / (performance.now() - wallBefore)) * 100, 1);
  await monitorStarted;
  const health = monitor
    ? await monitor.stop()
    : { eventLoopDelayMs: null, eventLoopMaxMs: null, rssMb: null, batchSizeMean: null, maxQueueDepth: null, cpuPct: null };
  const throughputFps = round(load.okInWindow / load.windowS, 2);
  const servedCpuMsPerFrame = health.cpuPct !== null && throughputFps > 0 ? (health.cpuPct * 10) / throughputFps : undefined;
  const pureCpu = limit.pureInference?.cpuMsPerFrame;
  const l = load.latency;
  const point: PointResult = {
    name: plan.name,
    mode: plan.mode,
    maxBatch,
    overload,
    cameras: plan.cameras,
    window: plan.window,
    offeredFps: plan.fpsPerCamera ? round(plan.fpsPerCamera * plan.cameras, 1) : null,
    durationS: options.durationS,
    sent: load.sent,
    answered: load.answered,
    ok: load.ok,
    dropped: load.dropped,
    failed: load.failed,
    skippedAtCamera: load.skippedAtCamera,
    unanswered: load.unanswered,
    duplicates: load.duplicates,
    throughputFps,
    limitFps: limit.throughputFps,
    limitRatio: limit.throughputFps > 0 ? round(throughputFps / limit.throughputFps, 3) : 0,
    pureInferenceRatio: limit.pureInference && limit.pureInference.throughputFps > 0 ? round(throughputFps / limit.pureInference.throughputFps, 3) : undefined,
    pureInferenceCpuRatio: pureCpu !== undefined && servedCpuMsPerFrame ? round(pureCpu / servedCpuMsPerFrame, 3) : undefined,
    tls: plan.security?.tls !== undefined,
    latencyMs: {
      endToEnd: summarize(l.endToEnd),
      queue: summarize(l.queue),
      decode: summarize(l.decode),
      inference: summarize(l.inference),
      reply: summarize(l.reply),
      network: summarize(l.network),
    },
    server: health,
    loadGeneratorCpuPct,
  };
  options.log?.(
    `${plan.name}: ${throughputFps} fps (${point.limitRatio} x limit), e2e p50 ${point.latencyMs.endToEnd.p50} p99 ${point.latencyMs.endToEnd.p99} ms, ` +
      `${load.dropped} dropped, ${load.failed} failed, loop p99 ${health.eventLoopDelayMs?.p99 ?? '-'} ms`,
  );
  return point;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
