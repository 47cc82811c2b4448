/**
 * The uint8 fast path against the float reference path, on real frames
 * (vtest.avi, a ShanghaiTech image, a BRT image) and on the known-answer
 * model; and models/fold_input.py (the graph that normalises its own uint8
 * input) against the float model it came from.
 * Tolerances, stated: the fast path's resized bytes are within 1 grey level
 * of the float reference's (it is OpenCV's fixed-point bilinear, rounded to
 * bytes); at identity size they are equal. Counts through a folded model are
 * within 1e-4 relative of the float model's at identity size, within 1%
 * where the frame is resized.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import jpeg from '@julusian/jpeg-turbo';
import { cutSampleVideo } from '../bench/sample-video.js';
import { V1Connection } from '../client/connection/connection.js';
import { DensityFormat, FrameStatus } from '../src/framing/index.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { resolveModel, type ModelManifest } from '../src/workers/manifest.js';
import { DecodeScratch, decodeJpeg } from '../src/workers/jpeg-decode.js';
import { resizeBytesInto } from '../src/workers/resize-bytes.js';
import { resizeNormalizeInto } from '../src/workers/resize-float.js';
import { WorkerPool } from '../src/workers/pool.js';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';

const PYTHON = '/usr/bin/python3';
const FOLD = path.resolve('models/fold_input.py');
const V2 = path.resolve('models/crowdline-v2.onnx');
const SHB = path.resolve('../shared/datasets/shanghaitech-b/test/images');
const BRT = path.resolve('../shared/datasets/beijing-brt/train/images');
const havePythonOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

/** A manifest whose float path writes plain pixel values (scale 1, mean 0, std 1): the reference in grey levels. */
const PIXELS: ModelManifest = {
  schema: 'crowdline.model-manifest/1',
  name: 'pixels',
  onnx: 'none.onnx',
  input: {
    name: 'image',
    layout: 'NCHW',
    elementType: 'float32',
    channelOrder: 'RGB',
    pixelScale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    preferredSize: { width: 768, height: 576 },
    sizeMultiple: 8,
  },
  output: { name: 'density', stride: 8, countScale: 1 },
};

/** Three real frames of the sample video, 40 apart, as JPEGs (ffmpeg, no OpenCV in the test process). */
const vtestFrames = (): Buffer[] => cutSampleVideo(tempDir('crowdline-vtest-'), { count: 3, every: 40, quality: 3 }, 30_000);

function firstJpeg(dir: string): Buffer | undefined {
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()[0];
  return file ? readFileSync(path.join(dir, file)) : undefined;
}

/** Largest and mean |fast - reference| in grey levels, for `bytes` resized to w x h. */
function compareToReference(bytes: Uint8Array, w: number, h: number): { worst: number; mean: number; identical: boolean } {
  const image = decodeJpeg(bytes, PIXELS, DEFAULT_JPEG_LIMITS, new DecodeScratch());
  const reference = new Float32Array(3 * w * h);
  resizeNormalizeInto(image, PIXELS, w, h, reference, 0);
  const fast = new Uint8Array(3 * w * h);
  resizeBytesInto(image, 3, w, h, fast, 0);
  let worst = 0;
  let sum = 0;
  let identical = true;
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < w * h; i++) {
      const d = Math.abs(fast[i * 3 + c] - reference[c * w * h + i]);
      if (d !== 0) identical = false;
      worst = Math.max(worst, d);
      sum += d;
    }
  return { worst, mean: sum / (3 * w * h), identical };
}

test("fast path at identity size: the bytes are the decoder's, exactly (vtest frames)", (t) => {
  for (const frame of vtestFrames()) {
    const r = compareToReference(frame, 768, 576);
    t.true(r.identical, `worst ${r.worst}`);
  }
});

test('fast path at identity size decodes straight into the batch tensor', (t) => {
  const [frame] = vtestFrames();
  const target = new Uint8Array(768 * 576 * 3 + 16);
  const image = decodeJpeg(frame, PIXELS, DEFAULT_JPEG_LIMITS, new DecodeScratch(), { width: 768, height: 576, target: target.subarray(16) });
  t.true(image.inPlace);
  t.is(image.data.buffer, target.buffer);
  const viaScratch = decodeJpeg(frame, PIXELS, DEFAULT_JPEG_LIMITS, new DecodeScratch());
  t.false(viaScratch.inPlace);
  t.deepEqual(Buffer.from(target.subarray(16)), Buffer.from(viaScratch.data));
  // Another size is never decoded in place.
  const other = decodeJpeg(frame, PIXELS, DEFAULT_JPEG_LIMITS, new DecodeScratch(), { width: 640, height: 480, target });
  t.false(other.inPlace);
});

test('fast path resizing real frames stays within 1 grey level of the float reference', (t) => {
  const cases: Array<[string, Buffer | undefined, number, number]> = [
    ['vtest 768x576 -> 1920x1080 (up)', vtestFrames()[0], 1920, 1080],
    ['vtest 768x576 -> 640x480 (down)', vtestFrames()[1], 640, 480],
    ['ShanghaiTech B -> 768x576', firstJpeg(SHB), 768, 576],
    ['BRT -> 768x576', firstJpeg(BRT), 768, 576],
  ];
  for (const [name, frame, w, h] of cases) {
    if (!frame) {
      t.log(`${name}: dataset not here, skipped`);
      continue;
    }
    const r = compareToReference(frame, w, h);
    t.log(`${name}: worst ${r.worst.toFixed(3)}, mean ${r.mean.toFixed(3)} grey levels`);
    t.true(r.worst <= 1, `${name}: worst ${r.worst}`);
    t.true(r.mean <= 0.3, `${name}: mean ${r.mean}`);
  }
});

test('fast path on a grey image with odd sizes and a 1-pixel source keeps every value in range', (t) => {
  const raw = Buffer.alloc(5 * 3 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 53) % 256;
  const tiny = jpeg.compressSync(raw, { format: jpeg.FORMAT_RGB, width: 5, height: 3, quality: 100, subsampling: jpeg.SAMP_444 });
  for (const [w, h] of [
    [1, 1],
    [7, 13],
    [5, 3],
    [2, 9],
  ]) {
    const r = compareToReference(tiny, w, h);
    t.true(r.worst <= 1, `${w}x${h}: worst ${r.worst}`);
  }
});

function runFold(manifestPath: string): string {
  const run = spawnSync(PYTHON, [FOLD, manifestPath], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`fold_input.py failed: ${run.stderr}`);
  return run.stdout;
}

const withPython = havePythonOnnx ? test : test.skip;
if (!havePythonOnnx) test.skip('models/fold_input.py tests: python3-onnx is not installed (scripts/setup.sh installs it)', () => undefined);

withPython('known-answer grey model folded to uint8 (Sub + Mul prologue): the server answers the exact block means', async (t) => {
  const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
  const out = runFold(model.manifestPath);
  t.regex(out, /as Sub and Mul/);
  const manifest = resolveModel(model.manifestPath).manifest;
  t.is(manifest.input.elementType, 'uint8');
  t.is(manifest.input.layout, 'NHWC');
  t.regex(runFold(model.manifestPath), /already folded/, 'a second run changes nothing');
  const running = await startKnownAnswerServer(t, { model });
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'ka', densityFormat: DensityFormat.Float32 });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(blockPatternJpeg(64, 48, 8), 1);
  const [r] = await results;
  t.is(r.status, FrameStatus.Ok);
  const expected = expectedBlockDensity(8, 6);
  const values = r.density?.values ?? new Float32Array(0);
  t.is(values.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
  t.true(worst <= 1e-5, `largest deviation ${worst}`);
});

withPython('known-answer colour model folded (1/std into its first Conv): the same densities as the float model', async (t) => {
  const float = knownAnswerModel({ channels: 3, width: 64, height: 48 });
  const folded = knownAnswerModel({ channels: 3, width: 64, height: 48 });
  t.regex(runFold(folded.manifestPath), /1\/std in the weights/);
  const opts = { device: 'cpu' as const, workers: 1, intraOpThreads: 1, log: () => undefined };
  const a = await WorkerPool.start({ ...opts, modelPath: float.onnxPath });
  const b = await WorkerPool.start({ ...opts, modelPath: folded.onnxPath });
  try {
    const frames = [
      blockPatternJpeg(64, 48, 8, { colour: true }),
      blockPatternJpeg(64, 48, 8, { colour: true, salt: 5 }),
      blockPatternJpeg(128, 96, 16, { colour: true }),
    ];
    const [x, y] = await Promise.all([a.runBatch(frames), b.runBatch(frames)]);
    t.true(x.outcomes.every((o) => o.ok) && y.outcomes.every((o) => o.ok));
    t.is(x.densities.length, y.densities.length);
    let worst = 0;
    for (let i = 0; i < x.densities.length; i++) worst = Math.max(worst, Math.abs(x.densities[i] - y.densities[i]));
    // Identity-size frames see the same bytes; the 128x96 one goes through each path's resize (within 1 grey level = 1/255).
    t.true(worst <= 1.01 / 255, `largest difference ${worst}`);
    const identity = x.densities.subarray(0, 2 * 48);
    let worstIdentity = 0;
    for (let i = 0; i < identity.length; i++) worstIdentity = Math.max(worstIdentity, Math.abs(identity[i] - y.densities[i]));
    t.true(worstIdentity <= 1e-6, `identity-size frames: largest difference ${worstIdentity}`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

const UNFOLD = path.resolve('test/helpers/unfold_input.py');
// crowdline-v2 ships folded; the test helper takes the fold out again, so the fold is checked on a real network
// (MobileNetV2 stem: a stride-2 Conv with asymmetric pads) against the float model it came from.
(havePythonOnnx && existsSync(V2) ? test.serial : test.skip)(
  'a real model folded (crowdline-v2, unfolded by the test, then folded again): counts match the float model on real frames',
  async (t) => {
    const floatDir = tempDir('crowdline-float-');
    const unfold = spawnSync(PYTHON, [UNFOLD, V2.replace(/\.onnx$/, '.json'), path.join(floatDir, 'm')], { encoding: 'utf8', timeout: 60_000 });
    if (unfold.status !== 0) throw new Error(`unfold_input.py failed: ${unfold.stderr}`);
    t.is(resolveModel(path.join(floatDir, 'm.onnx')).manifest.input.elementType, 'float32');
    const dir = tempDir('crowdline-fold-');
    copyFileSync(path.join(floatDir, 'm.onnx'), path.join(dir, 'm.onnx'));
    copyFileSync(path.join(floatDir, 'm.json'), path.join(dir, 'm.json'));
    t.regex(runFold(path.join(dir, 'm.json')), /1\/std in the weights/);

    const frames: Array<[string, Buffer, number]> = vtestFrames().map((f, i) => [`vtest ${i} (identity)`, f, 1e-4]);
    const shb = firstJpeg(SHB);
    if (shb) frames.push(['ShanghaiTech B 1024x768 (resized)', shb, 0.01]);
    const opts = { device: 'cpu' as const, workers: 1, intraOpThreads: 2, inputSize: { width: 768, height: 576 }, log: () => undefined };
    const floatPool = await WorkerPool.start({ ...opts, modelPath: path.join(floatDir, 'm.onnx') });
    const foldedPool = await WorkerPool.start({ ...opts, modelPath: path.join(dir, 'm.onnx') });
    try {
      const a = await floatPool.runBatch(frames.map((f) => f[1]));
      const b = await foldedPool.runBatch(frames.map((f) => f[1]));
      frames.forEach(([name, , tolerance], i) => {
        const x = a.outcomes[i];
        const y = b.outcomes[i];
        if (!x.ok || !y.ok) return t.fail(`${name}: a frame failed`);
        const rel = Math.abs(x.count - y.count) / Math.max(1, x.count);
        t.log(`${name}: float ${x.count.toFixed(4)}, uint8 folded ${y.count.toFixed(4)} (relative ${rel.toExponential(2)})`);
        t.true(rel <= tolerance, `${name}: ${x.count} vs ${y.count}`);
      });
    } finally {
      await Promise.all([floatPool.close(), foldedPool.close()]);
    }
  },
);

test.serial('decode threads separate from sessions: same counts as the fused pool, failures stay per frame', async (t) => {
  const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
  const opts = { modelPath: model.onnxPath, device: 'cpu' as const, workers: 1, intraOpThreads: 1, maxBatch: 3, log: () => undefined };
  const fused = await WorkerPool.start({ ...opts, decodeThreads: 0 });
  const split = await WorkerPool.start({ ...opts, decodeThreads: 2 });
  try {
    t.is(fused.decodeThreads, 0);
    t.is(split.decodeThreads, 2);
    t.is(split.concurrency, 3, 'one batch per session plus one per decode thread in flight');
    const batch = [blockPatternJpeg(64, 48, 8), Buffer.from('not a jpeg'), blockPatternJpeg(64, 48, 8, { salt: 3 })];
    const [a, b] = await Promise.all([fused.runBatch(batch), split.runBatch(batch)]);
    t.deepEqual(
      b.outcomes.map((o) => o.ok),
      [true, false, true],
    );
    t.deepEqual(Array.from(b.densities), Array.from(a.densities));
    const expected = expectedBlockDensity(8, 6);
    t.true(
      expected.every((v, i) => Math.abs(b.densities[i] - v) <= 1e-6),
      'first frame: the block means',
    );
  } finally {
    await Promise.all([fused.close(), split.close()]);
  }
});
