/**
 * Input-size policies through the real worker pool (src/workers): the
 * known-answer model's density is the block mean of the grey level, so a
 * frame of 8-pixel blocks has a known map at its own resolution. Tiled
 * frames must give exactly that map (every cell from one tile: each head
 * once), native frames too; a mixed batch keeps every frame's own map; the
 * tile and pixel limits bound what a huge frame costs.
 */
import test from 'ava';
import { Batcher } from '../src/batcher/batcher.js';
import type { BatchRunner } from '../src/batcher/types.js';
import { planTiles } from '../src/workers/input-size.js';
import { WorkerPool } from '../src/workers/pool.js';
import type { BatchResult, FrameOutcome } from '../src/workers/types.js';
import { blockPatternJpeg, expectedBlockDensity, solidJpeg } from './helpers/images.js';
import { knownAnswerModel } from './helpers/server.js';

const W = 64;
const H = 48;
const model = knownAnswerModel({ channels: 1, width: W, height: H });

function mapOf(result: BatchResult, i: number): { outcome: Extract<FrameOutcome, { ok: true }>; values: Float32Array } {
  const outcome = result.outcomes[i];
  if (!outcome.ok) throw new Error(`frame ${i} failed: ${outcome.reason}`);
  return { outcome, values: result.densities.subarray(outcome.densityOffset, outcome.densityOffset + outcome.width * outcome.height) };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const sum = (a: Float32Array): number => a.reduce((n, v) => n + v, 0);

async function pool(t: import('ava').ExecutionContext, options: Partial<Parameters<typeof WorkerPool.start>[0]> = {}): Promise<WorkerPool> {
  const p = await WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, intraOpThreads: 1, log: () => undefined, ...options });
  t.teardown(() => p.close());
  return p;
}

test('tiled: a frame cut into 12 overlapping tiles gives its own full-resolution map, each cell once', async (t) => {
  const p = await pool(t, { inputPolicy: 'tiled' });
  const plan = planTiles(160, 96, p.netGeometry, p.inputSizeLimits);
  t.is(plan.tiles, 12, 'the frame really is tiled (4 x 3)');
  const { outcome, values } = mapOf(await p.runBatch([blockPatternJpeg(160, 96, 8)]), 0);
  t.deepEqual([outcome.width, outcome.height], [20, 12]);
  const expected = expectedBlockDensity(20, 12);
  t.true(maxDiff(values, expected) < 1e-6);
  t.true(Math.abs(outcome.count - sum(expected)) < 1e-3, `count ${outcome.count} vs ${sum(expected)}`);
  t.deepEqual([outcome.imageWidth, outcome.imageHeight], [160, 96]);
});

test('native: the frame at its own size; fixed: resized to the input size, as before', async (t) => {
  const p = await pool(t);
  const jpeg = blockPatternJpeg(160, 96, 8);
  const native = mapOf(await p.runBatch([jpeg], undefined, ['native']), 0);
  t.deepEqual([native.outcome.width, native.outcome.height], [20, 12]);
  t.true(maxDiff(native.values, expectedBlockDensity(20, 12)) < 1e-6);
  const fixed = mapOf(await p.runBatch([jpeg]), 0);
  t.deepEqual([fixed.outcome.width, fixed.outcome.height], [W / 8, H / 8]);
});

test('one batch mixing policies: every frame gets its own map, a corrupt one fails alone', async (t) => {
  for (const decodeThreads of [0, 1]) {
    const p = await pool(t, { decodeThreads, maxBatch: 4 });
    const frame = blockPatternJpeg(160, 96, 8);
    const corrupt = Buffer.from(frame.subarray(0, 300));
    const result = await p.runBatch([frame, frame, corrupt, frame], undefined, ['fixed', 'tiled', 'tiled', 'native']);
    t.is(result.outcomes.length, 4);
    t.deepEqual([mapOf(result, 0).outcome.width, mapOf(result, 0).outcome.height], [8, 6], `decode threads ${decodeThreads}: fixed`);
    t.true(maxDiff(mapOf(result, 1).values, expectedBlockDensity(20, 12)) < 1e-6, 'tiled');
    t.false(result.outcomes[2].ok, 'corrupt frame');
    t.true(maxDiff(mapOf(result, 3).values, expectedBlockDensity(20, 12)) < 1e-6, 'native');
    // The maps do not overlap in the result buffer.
    const offsets = [0, 1, 3].map((i) => mapOf(result, i).outcome.densityOffset);
    t.is(new Set(offsets).size, 3);
  }
});

test('limits: a huge frame under tiled runs at most max tiles, under native at most max input pixels', async (t) => {
  const p = await pool(t, { inputSizeLimits: { maxTiles: 4, maxInputPixels: 128 * 96 } });
  const huge = solidJpeg(4000, 3000, 90);
  const plan = planTiles(4000, 3000, p.netGeometry, p.inputSizeLimits);
  t.true(plan.tiles <= 4);
  t.is(p.inputCost(4000, 3000, 'tiled'), plan.tiles);
  const tiled = mapOf(await p.runBatch([huge], undefined, ['tiled']), 0).outcome;
  t.deepEqual([tiled.width, tiled.height], [plan.width / 8, plan.height / 8]);
  const native = mapOf(await p.runBatch([huge], undefined, ['native']), 0).outcome;
  t.true(native.width * 8 * native.height * 8 <= 128 * 96, `${native.width}x${native.height} cells`);
  t.true(p.inputCost(4000, 3000, 'native') <= (128 * 96) / (W * H));
});

test('limits out of range refuse to start the pool', async (t) => {
  await t.throwsAsync(() => WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, inputSizeLimits: { maxTiles: 0 } }), {
    instanceOf: RangeError,
  });
  await t.throwsAsync(() => WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, inputSizeLimits: { maxTiles: 1000 } }), {
    instanceOf: RangeError,
  });
  await t.throwsAsync(() => WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, inputSizeLimits: { maxInputPixels: 1e12 } }), {
    instanceOf: RangeError,
  });
});

test('charged to its sender: a tiled frame batched beside a fixed one costs its own flow its tile runs', async (t) => {
  const charged = new Map<string, number>();
  // A runner that answers like the pool: the tiled frame ran alone for 16 ms (ownInferUs), the fixed one shared a 1 ms run.
  const runner: BatchRunner = {
    size: 1,
    runBatch: async (jpegs, _motion, policies) => {
      const outcomes: FrameOutcome[] = jpegs.map((_, i) => ({
        ok: true,
        count: 1,
        decodeUs: 100,
        height: 1,
        width: 1,
        densityOffset: i,
        ...(policies?.[i] === 'tiled' ? { ownInferUs: 16_000 } : {}),
      }));
      t.deepEqual([...(policies ?? [])], ['tiled', undefined]);
      return { outcomes, densities: new Float32Array(jpegs.length), inferUs: 17_000, startedAtMs: Date.now(), batchSize: jpegs.length };
    },
  };
  const batcher = new Batcher(runner, { maxBatch: 2, maxDelayMs: 50 }, { workerTime: (label, us) => charged.set(label, (charged.get(label) ?? 0) + us) });
  const stand = batcher.openFlow({ label: 'stand', weight: 1, priority: 0 });
  const gate = batcher.openFlow({ label: 'gate', weight: 1, priority: 0 });
  const a = batcher.submit({ jpeg: new Uint8Array(1), receivedAtMs: Date.now(), inputPolicy: 'tiled' }, stand);
  const b = batcher.submit({ jpeg: new Uint8Array(1), receivedAtMs: Date.now() }, gate);
  const [ra, rb] = await Promise.all([a.promise, b.promise]);
  t.is(charged.get('stand'), 16_100);
  t.is(charged.get('gate'), 1_100, 'the fixed frame pays only the shared run');
  t.is(ra.status === 'ok' && ra.timings.inferUs, 16_000);
  t.is(rb.status === 'ok' && rb.timings.inferUs, 17_000);
});
