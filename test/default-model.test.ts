/** The shipped model loads through the server's loader and behaves sanely. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import jpeg from '@julusian/jpeg-turbo';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { evaluate } from '../models/evaluate.js';
import { resolveModel } from '../src/workers/manifest.js';
import { WorkerPool } from '../src/workers/pool.js';
import { solidJpeg } from './helpers/images.js';
import { tempDir } from './helpers/server.js';

const present = existsSync(DEFAULT_MODEL_PATH);
const maybe = present ? test.serial : test.skip;
if (!present) test.skip(`default model tests: ${DEFAULT_MODEL_PATH} not found`, () => undefined);

let pool: WorkerPool | undefined;
async function sharedPool(): Promise<WorkerPool> {
  pool ??= await WorkerPool.start({ modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1, intraOpThreads: 2, log: () => undefined });
  return pool;
}
test.after.always(async () => pool?.close());

/** Seeded noise + gradients: textured images that contain no people. */
function texturedJpeg(width: number, height: number, seed: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = ((i / 3) % width) / 4 + (s % 64);
  }
  return jpeg.compressSync(raw, { format: jpeg.FORMAT_RGB, width, height, quality: 90 });
}

maybe('the manifest is valid and names a file under 10 MB', (t) => {
  const spec = resolveModel(DEFAULT_MODEL_PATH);
  t.is(spec.manifest.name, 'crowdline-v1');
  const size = readFileSync(spec.onnxPath).length;
  t.true(size < 10 * 1024 * 1024, `${size} bytes`);
  const { width, height } = spec.manifest.input.preferredSize;
  t.true(width >= 640 && width <= 1024 && height >= 480 && height <= 768, `preferred size ${width}x${height} suits camera frames`);
});

maybe('counts on generated images are finite and non-negative; the map sums to the count', async (t) => {
  const p = await sharedPool();
  const result = await p.runBatch([texturedJpeg(640, 480, 1), texturedJpeg(1024, 768, 2), texturedJpeg(320, 240, 3)]);
  result.outcomes.forEach((o, i) => {
    t.true(o.ok, `image ${i}`);
    if (!o.ok) return;
    t.true(Number.isFinite(o.count) && o.count >= 0, `count ${o.count}`);
    const map = result.densities.subarray(o.densityOffset, o.densityOffset + o.height * o.width);
    const sum = map.reduce((a, b) => a + b, 0);
    t.true(Math.abs(sum - o.count) < 1e-3 * Math.max(1, o.count));
  });
});

maybe('a blank (uniform) image counts near zero', async (t) => {
  const p = await sharedPool();
  for (const grey of [0, 128, 255]) {
    const [o] = (await p.runBatch([solidJpeg(768, 576, grey)])).outcomes;
    t.true(o.ok && o.count < 1, `grey ${grey}: ${o.ok ? o.count : o.reason}`);
  }
});

/** The pixel recipes models/export.py records, keyed by the formula text it writes. */
const PIXEL_RECIPES: Record<string, (x: number, y: number, c: number) => number> = {
  'p(x,y,c) = (x*7 + y*13 + c*29) % 256': (x, y, c) => (x * 7 + y * 13 + c * 29) % 256,
  'p(x,y,c) = (x*3 + y*5 + c*71 + (x*y) % 17) % 256': (x, y, c) => (x * 3 + y * 5 + c * 71 + ((x * y) % 17)) % 256,
  'p(x,y,c) = ((floor(x/24) * 37 + floor(y/24) * 91 + c * 53) % 256 + (x % 5) * 9) % 256': (x, y, c) =>
    (((Math.floor(x / 24) * 37 + Math.floor(y / 24) * 91 + c * 53) % 256) + (x % 5) * 9) % 256,
  // Dark head-like dots on a textured background: the model answers with real density.
  'p(x,y,c) = 30 if ((x % 12) - 6)^2 + ((y % 16) - 5)^2 < 12 else (150 + 20*c + (x*y) % 50) % 256': (x, y, c) =>
    ((x % 12) - 6) ** 2 + ((y % 16) - 5) ** 2 < 12 ? 30 : (150 + 20 * c + ((x * y) % 50)) % 256,
};

interface ReferenceInput {
  id: string;
  width: number;
  height: number;
  formula: string;
  densitySum: number;
}

maybe('ONNX Runtime agrees with PyTorch on the reference inputs recorded at export', async (t) => {
  const ort = (await import('onnxruntime-node')).default;
  const spec = resolveModel(DEFAULT_MODEL_PATH);
  const manifest = spec.manifest;
  const ref = JSON.parse(readFileSync(path.join(path.dirname(spec.onnxPath), 'reference-outputs.json'), 'utf8')) as {
    inputs: ReferenceInput[];
    extraInputs?: ReferenceInput[];
  };
  const cases = [...ref.inputs, ...(ref.extraInputs ?? [])];
  t.true(cases.some((c) => c.densitySum > 100), 'at least one reference input produces real density');
  const session = await ort.InferenceSession.create(spec.onnxPath);
  for (const c of cases) {
    const pixel = PIXEL_RECIPES[c.formula];
    if (!pixel) return t.fail(`${c.id}: unknown formula ${c.formula}`);
    const data = new Float32Array(3 * c.width * c.height);
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < c.height; y++)
        for (let x = 0; x < c.width; x++) {
          data[(ch * c.height + y) * c.width + x] = (pixel(x, y, ch) * manifest.input.pixelScale - manifest.input.mean[ch]) / manifest.input.std[ch];
        }
    const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', data, [1, 3, c.height, c.width]) });
    const sum = (out[manifest.output.name].data as Float32Array).reduce((a, b) => a + b, 0);
    t.true(Math.abs(sum - c.densitySum) <= 1e-3 + 1e-4 * Math.abs(c.densitySum), `${c.id}: ONNX Runtime ${sum} vs PyTorch ${c.densitySum}`);
  }
});

maybe('evaluate on a tiny split made here reports every image', async (t) => {
  const split = tempDir('crowdline-tiny-split-');
  mkdirSync(path.join(split, 'images'));
  const points: Record<string, number[][]> = {};
  for (let i = 0; i < 3; i++) {
    writeFileSync(path.join(split, 'images', `f${i}.jpg`), texturedJpeg(640, 480, 10 + i));
    points[`f${i}.jpg`] = [];
  }
  writeFileSync(path.join(split, 'points.json'), JSON.stringify(points));
  const report = await evaluate({ split, modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1, intraOpThreads: 2 });
  t.is(report.images, 3);
  t.true(report.results.every((r) => r.truth === 0 && Number.isFinite(r.predicted)));
});

const shared = path.resolve(path.dirname(DEFAULT_MODEL_PATH), '../../shared/datasets/beijing-brt/train');
(present && existsSync(shared) ? test.serial : test.skip)('sparse held-out BRT frames: counts through the server code are close to the truth', async (t) => {
  const report = await evaluate({ split: shared, modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1, intraOpThreads: 2, skip: 700, limit: 10 });
  t.is(report.images, 10);
  t.log(`BRT held-out sample: MAE ${report.mae.toFixed(2)} over ${report.images} images`);
  // Loose on purpose: a broken decode, channel order or normalisation is off by far more.
  t.true(report.mae < 8, `MAE ${report.mae} on sparse frames the model was not trained on`);
});
if (!existsSync(shared)) test.skip(`BRT evaluation: ${shared} not found (tests outside the dataset checkout skip it)`, () => undefined);
