/**
 * Checks every shipped model must pass (crowdline-v1, crowdline-v2): it loads
 * through the server's loader, behaves sanely on synthetic and real frames, and
 * ONNX Runtime reproduces the PyTorch outputs models/export.py recorded in
 * <name>.reference.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import jpeg from '@julusian/jpeg-turbo';
import { evaluate } from '../../models/evaluate.js';
import { resolveModel } from '../../src/workers/manifest.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { solidJpeg } from './images.js';
import { tempDir } from './server.js';

export interface ShippedModel {
  /** The .onnx path. */
  modelPath: string;
  /** Manifest name, also the prefix of <name>.reference.json. */
  name: string;
  maxBytes: number;
  /** Why the model may be missing (e.g. still training); the checks skip with this reason. */
  missingReason: string;
}

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

/** The pixel recipes models/export.py records, keyed by the formula text it writes. */
const PIXEL_RECIPES: Record<string, (x: number, y: number, c: number) => number> = {
  'p(x,y,c) = (x*7 + y*13 + c*29) % 256': (x, y, c) => (x * 7 + y * 13 + c * 29) % 256,
  'p(x,y,c) = (x*3 + y*5 + c*71 + (x*y) % 17) % 256': (x, y, c) => (x * 3 + y * 5 + c * 71 + ((x * y) % 17)) % 256,
  'p(x,y,c) = ((floor(x/24) * 37 + floor(y/24) * 91 + c * 53) % 256 + (x % 5) * 9) % 256': (x, y, c) =>
    (((Math.floor(x / 24) * 37 + Math.floor(y / 24) * 91 + c * 53) % 256) + (x % 5) * 9) % 256,
  // Dark head-like dots on a textured background: the model answers with real density.
  'p(x,y,c) = 30 if ((x % 12) - 6)^2 + ((y % 16) - 5)^2 < 12 else (150 + 20*c + (x*y) % 50) % 256': (x, y, c) =>
    ((x % 12) - 6) ** 2 + ((y % 16) - 5) ** 2 < 12 ? 30 : (150 + 20 * c + ((x * y) % 50)) % 256,
  // Dark round heads over lighter bodies (models/quantize.py adds it: 8-bit models read the dots as empty).
  'p(x,y,c) = 40 if ((x % 24) - 12)^2 + ((y % 48) - 10)^2 < 36 else (90 + 30*c if |(x % 24) - 12| < 8 and 18 <= y % 48 < 44 else (170 + 10*c + (x*y) % 40) % 256)':
    (x, y, c) =>
      ((x % 24) - 12) ** 2 + ((y % 48) - 10) ** 2 < 36
        ? 40
        : Math.abs((x % 24) - 12) < 8 && y % 48 >= 18 && y % 48 < 44
          ? 90 + 30 * c
          : (170 + 10 * c + ((x * y) % 40)) % 256,
};

interface ReferenceInput {
  id: string;
  width: number;
  height: number;
  formula: string;
  densitySum: number;
}

export function registerModelChecks(model: ShippedModel): void {
  const { modelPath, name } = model;
  const present = existsSync(modelPath);
  const maybe = present ? test.serial : test.skip;
  if (!present) test.skip(`${name} checks: ${modelPath} not found (${model.missingReason})`, () => undefined);

  let pool: WorkerPool | undefined;
  async function sharedPool(): Promise<WorkerPool> {
    pool ??= await WorkerPool.start({ modelPath, device: 'cpu', workers: 1, intraOpThreads: 2, log: () => undefined });
    return pool;
  }
  test.after.always(async () => pool?.close());

  maybe(`${name}: the manifest is valid and names a file within the size limit`, (t) => {
    const spec = resolveModel(modelPath);
    t.is(spec.manifest.name, name);
    const size = readFileSync(spec.onnxPath).length;
    t.true(size <= model.maxBytes, `${size} bytes`);
    const { width, height } = spec.manifest.input.preferredSize;
    t.true(width >= 640 && width <= 1024 && height >= 480 && height <= 768, `preferred size ${width}x${height} suits camera frames`);
  });

  maybe(`${name}: counts on generated images are finite and non-negative; the map sums to the count`, async (t) => {
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

  maybe(`${name}: a blank (uniform) image counts near zero`, async (t) => {
    const p = await sharedPool();
    for (const grey of [0, 128, 255]) {
      const [o] = (await p.runBatch([solidJpeg(768, 576, grey)])).outcomes;
      t.true(o.ok && o.count < 1, `grey ${grey}: ${o.ok ? o.count : o.reason}`);
    }
  });

  maybe(`${name}: ONNX Runtime agrees with PyTorch on the reference inputs recorded at export`, async (t) => {
    const ort = (await import('../../src/workers/ort.js')).default;
    const spec = resolveModel(modelPath);
    const manifest = spec.manifest;
    const ref = JSON.parse(readFileSync(path.join(path.dirname(spec.onnxPath), `${name}.reference.json`), 'utf8')) as {
      model: string;
      inputs: ReferenceInput[];
      extraInputs?: ReferenceInput[];
      /** Set by models/quantize.py: integer kernels round differently from the float32 simulation. */
      relativeTolerance?: number;
      /** Set by models/quantize.py (density units): on inputs an int8 graph reads as nearly empty, rounding is most of the sum. */
      absoluteTolerance?: number;
    };
    const tolerance = ref.relativeTolerance ?? 1e-4;
    const absolute = ref.absoluteTolerance ?? 1e-3;
    t.is(ref.model, path.basename(spec.onnxPath), 'the reference file was written for this .onnx');
    const cases = [...ref.inputs, ...(ref.extraInputs ?? [])];
    // Synthetic patterns are not crowds, and a model may read them as (almost) nobody; the
    // comparison below only needs one input whose density is clearly not zero (the crowdline-v2
    // weights shipped from 2026-11-26 18:50 to 2026-12-07 read every dots pattern as empty; its
    // "people" pattern, dark round heads over bodies, has density: models/export.py writes it into
    // every reference file).
    t.true(
      cases.some((c) => c.densitySum > 10),
      'at least one reference input produces non-zero density',
    );
    const session = await ort.InferenceSession.create(spec.onnxPath);
    for (const c of cases) {
      const pixel = PIXEL_RECIPES[c.formula];
      if (!pixel) return t.fail(`${c.id}: unknown formula ${c.formula}`);
      // A folded model (models/fold_input.py) takes the pixels themselves, NHWC bytes.
      const raw = manifest.input.elementType === 'uint8';
      const data = raw ? new Uint8Array(3 * c.width * c.height) : new Float32Array(3 * c.width * c.height);
      for (let ch = 0; ch < 3; ch++)
        for (let y = 0; y < c.height; y++)
          for (let x = 0; x < c.width; x++) {
            if (raw) data[(y * c.width + x) * 3 + ch] = pixel(x, y, ch);
            else data[(ch * c.height + y) * c.width + x] = (pixel(x, y, ch) * manifest.input.pixelScale - manifest.input.mean[ch]) / manifest.input.std[ch];
          }
      const tensor =
        data instanceof Uint8Array ? new ort.Tensor('uint8', data, [1, c.height, c.width, 3]) : new ort.Tensor('float32', data, [1, 3, c.height, c.width]);
      const out = await session.run({ [manifest.input.name]: tensor });
      const sum = (out[manifest.output.name].data as Float32Array).reduce((a, b) => a + b, 0);
      t.true(Math.abs(sum - c.densitySum) <= absolute + tolerance * Math.abs(c.densitySum), `${c.id}: ONNX Runtime ${sum} vs PyTorch ${c.densitySum}`);
    }
  });

  maybe(`${name}: evaluate on a tiny split made here reports every image`, async (t) => {
    const split = tempDir('crowdline-tiny-split-');
    mkdirSync(path.join(split, 'images'));
    const points: Record<string, number[][]> = {};
    for (let i = 0; i < 3; i++) {
      writeFileSync(path.join(split, 'images', `f${i}.jpg`), texturedJpeg(640, 480, 10 + i));
      points[`f${i}.jpg`] = [];
    }
    writeFileSync(path.join(split, 'points.json'), JSON.stringify(points));
    const report = await evaluate({ split, modelPath, device: 'cpu', workers: 1, intraOpThreads: 2 });
    t.is(report.images, 3);
    t.true(report.results.every((r) => r.truth === 0 && Number.isFinite(r.predicted)));
  });

  const shared = path.resolve(path.dirname(modelPath), '../../shared/datasets/beijing-brt/train');
  (present && existsSync(shared) ? test.serial : test.skip)(
    `${name}: sparse held-out BRT frames: counts through the server code are close to the truth`,
    async (t) => {
      const report = await evaluate({ split: shared, modelPath, device: 'cpu', workers: 1, intraOpThreads: 2, skip: 700, limit: 10 });
      t.is(report.images, 10);
      t.log(`${name} BRT held-out sample: MAE ${report.mae.toFixed(2)} over ${report.images} images`);
      // Loose on purpose: a broken decode, channel order or normalisation is off by far more.
      t.true(report.mae < 8, `MAE ${report.mae} on sparse frames the model was not trained on`);
    },
  );
  if (present && !existsSync(shared)) test.skip(`${name} BRT evaluation: ${shared} not found (tests outside the dataset checkout skip it)`, () => undefined);
}
