/**
 * The bench end to end on a tiny known-answer model (correctness only, no
 * timing assertions): its JSON has every field, its ratio comes from its own
 * limit measurement, and every frame it sent was answered exactly once.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { runBench } from '../bench/run.js';
import type { BenchReport, LatencySummary } from '../bench/report-types.js';
import { summarize } from '../bench/stats.js';
import { parsePrometheus, windowQuantile } from '../bench/scrape.js';
import { memoryFlat } from '../bench/targets.js';
import { tlsTable } from '../bench/table.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const isSummary = (s: LatencySummary): boolean =>
  ['count', 'mean', 'p50', 'p90', 'p99', 'max'].every((k) => typeof s[k as keyof LatencySummary] === 'number') &&
  s.p50 <= s.p90 &&
  s.p90 <= s.p99 &&
  s.p99 <= s.max;

test('bench: JSON has the fields, the ratio is its own, every frame answered once', async (t) => {
  const dir = tempDir('crowdline-bench-');
  const framesDir = path.join(dir, 'frames');
  mkdirSync(framesDir);
  for (let i = 0; i < 6; i++) writeFileSync(path.join(framesDir, `f${i}.jpg`), blockPatternJpeg(64, 48, 8, { salt: i }));
  const model = knownAnswerModel();

  const { report, jsonPath, chartPath } = await runBench({
    model: model.onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatches: [1, 4],
    maxBatchDelayMs: 2,
    cameras: [1, 2],
    window: 2,
    durationS: 0.8,
    warmupS: 0.2,
    limitS: 0.5,
    singleS: 0.2,
    open: { loadFactor: 2, cameras: 2, window: 1, policies: ['drop-oldest', 'queue'], maxPending: 8 },
    source: framesDir,
    frameCount: 6,
    jpegQuality: 85,
    densityFormat: 'f32',
    outDir: path.join(dir, 'out'),
    simulatedDevice: { device: { aMs: 1, bMs: 0.5 }, batches: [4], durationS: 0.5, decodeThreads: 1 },
  });

  const onDisk = JSON.parse(readFileSync(jsonPath!, 'utf8')) as BenchReport;
  t.deepEqual(onDisk, report);
  t.is(report.schema, 'crowdline.bench/1');
  t.is(report.frames.count, 6);
  t.deepEqual([report.frames.width, report.frames.height], [64, 48]);
  t.true(readFileSync(chartPath!, 'utf8').startsWith('<svg'));

  t.deepEqual(
    report.limits.map((l) => l.maxBatch),
    [1, 4],
  );
  for (const l of report.limits) {
    t.true(l.throughputFps > 0);
    t.true(Math.abs(l.throughputFps - l.framesDone / l.durationS) < 0.01 * l.throughputFps + 0.01, 'limit = frames done / time taken');
    t.true(isSummary(l.singleFrame.decodeInferMs));
    // Pure inference: the same sessions on a pre-made tensor of max-batch frames.
    t.is(l.pureInference?.batch, l.maxBatch);
    t.true((l.pureInference?.throughputFps ?? 0) > 0);
    t.true(l.split !== undefined && l.split.decodeMs > 0 && l.split.inferenceMs > 0 && l.split.preprocessMs >= 0);
  }

  // Decode + preprocessing at the frames' size and at 1920x1080, through both paths.
  t.deepEqual(
    report.preprocessing?.cases.map((c) => [c.from, c.to]),
    [
      ['64x48', '64x48'],
      ['1920x1080', '64x48'],
    ],
  );
  // decode + fast path is decode then resize, or (frames that need resizing, addon with libjpeg) the fused call, which may cost less than TurboJPEG's decode alone.
  t.true(
    report.preprocessing!.cases.every(
      (c) => c.decodeMs > 0 && (c.fused ? c.fastTotalMs === c.fused.wallMs.fused && c.fused.wallMs.fused > 0 : c.fastTotalMs >= c.decodeMs),
    ),
  );
  // The simulated device: frames went through it, and never faster than its model allows.
  const [sim] = report.simulatedDevice ?? [];
  t.is(sim?.batch, 4);
  t.true(sim.framesDone > 0 && sim.failed === 0 && sim.deviceBusy > 0 && sim.deviceBusy <= 1);
  t.true(sim.throughputFps <= sim.deviceCapacityFps * 1.1, `${sim.throughputFps} fps through a device that takes ${sim.deviceCapacityFps}`);
  t.is(sim.deviceCapacityFps, Math.round((4 / (1 + 0.5 * 4)) * 1000 * 10) / 10);

  // unloaded + 2 closed points per max batch, then open loop under each policy.
  t.deepEqual(
    report.points.map((p) => `${p.mode}:${p.maxBatch}:${p.overload}:${p.cameras}x${p.window}`),
    [
      'closed:1:queue:1x1',
      'closed:1:queue:1x2',
      'closed:1:queue:2x2',
      'closed:4:queue:1x1',
      'closed:4:queue:1x2',
      'closed:4:queue:2x2',
      'open:1:drop-oldest:2x1',
      'open:1:queue:2x1',
    ],
  );
  for (const p of report.points) {
    const limit = report.limits.find((l) => l.maxBatch === p.maxBatch)!;
    t.is(p.limitFps, limit.throughputFps, `${p.name}: compared with its own batch size's limit`);
    t.is(p.limitRatio, Math.round((p.throughputFps / p.limitFps) * 1000) / 1000, `${p.name}: ratio = served / limit`);
    t.is(p.pureInferenceRatio, Math.round((p.throughputFps / limit.pureInference!.throughputFps) * 1000) / 1000, `${p.name}: served / pure inference`);
    if (p.server.cpuPct) {
      const servedCpuMsPerFrame = (p.server.cpuPct * 10) / p.throughputFps;
      t.is(
        p.pureInferenceCpuRatio,
        Math.round((limit.pureInference!.cpuMsPerFrame / servedCpuMsPerFrame) * 1000) / 1000,
        `${p.name}: CPU per frame, pure over served`,
      );
    }
    t.true(p.throughputFps > 0, `${p.name}: served something`);
    for (const part of ['endToEnd', 'queue', 'decode', 'inference', 'reply', 'network'] as const) t.true(isSummary(p.latencyMs[part]), `${p.name}: ${part}`);
    t.is(p.unanswered, 0, `${p.name}: nothing unanswered`);
    t.is(p.duplicates, 0, `${p.name}: nothing answered twice`);
    t.is(p.answered, p.sent, `${p.name}: one reply per frame`);
    t.is(p.ok + p.dropped + p.failed, p.answered);
    t.is(p.failed, 0);
    t.truthy(p.server.eventLoopDelayMs, `${p.name}: event-loop delay read from the server's metrics`);
    t.truthy(p.server.rssMb);
  }
  const open = report.points.filter((p) => p.mode === 'open');
  t.true(
    open.every((p) => p.offeredFps !== null && Math.abs(p.offeredFps - 2 * report.limits[0].throughputFps) < 0.2),
    'open loop offered 2 x the limit',
  );
  t.is(open.find((p) => p.overload === 'queue')!.dropped, 0, 'queue drops nothing');
  t.true(report.targets.length > 0 && report.targets.every((c) => typeof c.met === 'boolean'));
});

test('percentiles and window quantiles', (t) => {
  const s = summarize([...Array(100).keys()].map((i) => i + 1));
  t.deepEqual([s.p50, s.p90, s.p99, s.max, s.count], [50, 90, 99, 100, 100]);
  const before = parsePrometheus('h_bucket{le="1"} 5\nh_bucket{le="2"} 5\nh_bucket{le="+Inf"} 5\n');
  const after = parsePrometheus('h_bucket{le="1"} 15\nh_bucket{le="2"} 25\nh_bucket{le="+Inf"} 25\n');
  // 20 new observations: 10 in (0,1], 10 in (1,2]; the median sits at the top of the first bucket.
  t.is(windowQuantile(before, after, 'h', 0.5)?.value, 1);
  t.is(windowQuantile(before, after, 'h', 0.75)?.value, 1.5);
  t.true(memoryFlat([100, 101, 100, 102, 101, 100]));
  t.false(memoryFlat([100, 110, 120, 130, 140, 150]));
});

test('bench --tls: each closed-loop point runs plain and over TLS, paired in the TLS table', async (t) => {
  const dir = tempDir('crowdline-bench-');
  const framesDir = path.join(dir, 'frames');
  mkdirSync(framesDir);
  for (let i = 0; i < 3; i++) writeFileSync(path.join(framesDir, `f${i}.jpg`), blockPatternJpeg(64, 48, 8, { salt: i }));
  const { report } = await runBench({
    model: knownAnswerModel().onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatches: [1],
    maxBatchDelayMs: 2,
    cameras: [2],
    window: 2,
    durationS: 0.5,
    warmupS: 0.1,
    limitS: 0.3,
    singleS: 0.1,
    open: null,
    source: framesDir,
    frameCount: 3,
    jpegQuality: 85,
    densityFormat: 'f16',
    tls: true,
  });
  t.deepEqual(
    report.points.map((p) => [p.name, p.tls]),
    [
      ['unloaded b1', false],
      ['unloaded b1 tls', true],
      ['closed 2cam b1', false],
      ['closed 2cam b1 tls', true],
    ],
  );
  for (const p of report.points) {
    t.true(p.ok > 0 && p.unanswered === 0 && p.duplicates === 0, p.name);
  }
  const table = tlsTable(report);
  t.regex(table, /\| 2 x 2, b1 \| [\d.]+ \/ [\d.]+ \(-?[\d.]+%\) \|/);
});

test('model-speed: several models are timed in the same run, each as many times, with the ratio to the first', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    path.resolve('dist/bench/model-speed.js'),
    '--model',
    'crowdline-v1,crowdline-v2-int8',
    '--runs',
    '5',
    '--block',
    '2',
    '--threads',
    '1',
    '--size',
    '320x240',
  ]);
  const lines = stdout.trim().split('\n');
  t.is(lines.length, 2, stdout);
  t.regex(lines[0], /^crowdline-v1 320x240 batch 1, 1 intra-op thread\(s\): median [\d.]+ ms, .*\(5 runs, 1\.00 x crowdline-v1\)$/);
  t.regex(lines[1], /^crowdline-v2-int8 320x240 batch 1, 1 intra-op thread\(s\): median [\d.]+ ms, .*\(5 runs, [\d.]+ x crowdline-v1\)$/);
});

test('model-speed: a model that is not there is one line on stderr and exit 2, not a stack trace', async (t) => {
  const err = await t.throwsAsync(
    promisify(execFile)(process.execPath, [path.resolve('dist/bench/model-speed.js'), '--model', 'crowdline-v1,no-such-model', '--runs', '1']),
  );
  const { code, stderr } = err as Error & { code: number; stderr: string };
  t.is(code, 2);
  t.is(stderr.trim(), `model-speed: model file not found: ${path.resolve('models/no-such-model.onnx')}`);
});
