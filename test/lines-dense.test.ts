/**
 * A dense crowd moving across a line, where boxes merge and a tracker would
 * lose people: a ShanghaiTech Part A test image (read in place from
 * ../shared/datasets, never copied into the repository) slides 8 px a frame
 * past a camera, so every head crosses the line at a known frame. The density
 * the model sees on one side must reappear, carried by the flow, as people
 * crossing: the estimate is compared with the model's own density that
 * crossed (conservation) and, for the record, with the annotated heads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { greyFromInput } from '../src/lines/grey.js';
import { LineTracker, type CameraLines } from '../src/lines/line-tracker.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { Inferencer } from '../src/workers/infer.js';
import { resolveModel } from '../src/workers/manifest.js';
import { modelPath } from '../src/app/paths.js';

const W = 768;
const H = 576;
const CANVAS_W = 1152;
const SHIFT = 8;
// The shared datasets sit beside the checkout (../shared), or beside the folder of worktrees (../../shared).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATASET =
  [path.resolve(ROOT, '../shared/datasets/shanghaitech-a/test'), path.resolve(ROOT, '../../shared/datasets/shanghaitech-a/test')].find((d) => existsSync(d)) ??
  path.resolve(ROOT, '../shared/datasets/shanghaitech-a/test');
const IMAGE = 'IMG_1.jpg';

test('a dense crowd sliding across a line: the people the density carries across are counted (conservation within 10 %)', async (t) => {
  if (!existsSync(path.join(DATASET, 'images', IMAGE))) {
    t.log(`ShanghaiTech A not found at ${DATASET}: nothing to check here`);
    t.pass();
    return;
  }
  t.timeout(10 * 60_000);
  const raw = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      path.join(DATASET, 'images', IMAGE),
      '-vf',
      `scale=${CANVAS_W}:${H}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 64 << 20 },
  );
  t.is(raw.status, 0, String(raw.stderr));
  const canvas = new Uint8Array(raw.stdout.buffer, raw.stdout.byteOffset, raw.stdout.byteLength);
  const spec = resolveModel(modelPath('crowdline-v2'));
  const inferencer = await Inferencer.load(
    { modelPath: spec.onnxPath, device: 'cpu', intraOpThreads: 1, inputWidth: W, inputHeight: H, imageLimits: DEFAULT_JPEG_LIMITS },
    () => undefined,
  );
  const camera: CameraLines = {
    name: 'plaza',
    reference: { width: W, height: H },
    lines: [
      {
        id: 0,
        name: 'middle',
        points: [
          [384, H],
          [384, 0],
        ],
        in: 'right',
      },
    ],
  };
  const tracker = new LineTracker([camera], async (job) => runMotionJob(job));
  const steps = (CANVAS_W - W) / SHIFT;
  let crossedDensity = 0;
  let previous: Float32Array | undefined;
  let mapW = 0;
  let mapH = 0;
  for (let k = 0; k <= steps; k++) {
    // The crowd moves right: the camera's window slides left over the canvas.
    const offset = CANVAS_W - W - k * SHIFT;
    const frame = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) frame.set(canvas.subarray((y * CANVAS_W + offset) * 3, (y * CANVAS_W + offset + W) * 3), y * W * 3);
    const grey = greyFromInput(frame, 0, W, H, { layout: 'NHWC' });
    const result = await inferencer.run({
      input: frame.buffer,
      good: [0],
      outcomes: [{ ok: true, count: 0, decodeUs: 0, height: 0, width: 0, densityOffset: 0 }],
      startedAtMs: 0,
    });
    const o = result.outcomes[0];
    if (!o.ok) throw new Error(o.reason);
    mapW = o.width;
    mapH = o.height;
    const values = result.densities.slice(0, mapW * mapH);
    // What crosses between this frame and the next: the density in the SHIFT-wide strip left of the line (in map cells).
    if (previous) {
      const cell = W / mapW;
      for (let r = 0; r < mapH; r++) {
        for (let c = 0; c < mapW; c++) {
          const overlap = Math.max(0, Math.min((c + 1) * cell, 384) - Math.max(c * cell, 384 - SHIFT)) / cell;
          crossedDensity += overlap * previous[r * mapW + c];
        }
      }
    }
    previous = values;
    tracker.observe('plaza', 1, 1000 + k * 100, { width: mapW, height: mapH, values }, grey, { width: W, height: H });
    await tracker.settled();
  }
  tracker.flush(1000 + (steps + 1) * 100);
  const [middle] = tracker.totals('plaza') ?? [];
  const points = (JSON.parse(readFileSync(path.join(DATASET, 'points.json'), 'utf8')) as Record<string, Array<[number, number]>>)[IMAGE];
  // Heads that crossed: canvas x (after scaling) between the line's first and last position over the canvas.
  const size = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path.join(DATASET, 'images', IMAGE)])
    .stdout.toString()
    .trim()
    .split(',')
    .map(Number);
  const heads = points.filter(([x]) => {
    const cx = (x * CANVAS_W) / size[0];
    return cx > 384 && cx <= 384 + (CANVAS_W - W);
  }).length;
  t.log(
    `crossed: estimate ${middle.in.toFixed(1)} in, ${middle.out.toFixed(1)} out; the model's density that crossed ${crossedDensity.toFixed(1)}; annotated heads ${heads}`,
  );
  t.true(crossedDensity > 50, `a dense crowd: ${crossedDensity.toFixed(1)} people crossed`);
  t.true(Math.abs(middle.in - crossedDensity) <= 0.1 * crossedDensity, `estimate ${middle.in.toFixed(1)} vs ${crossedDensity.toFixed(1)}`);
  t.true(middle.out <= 0.02 * crossedDensity, `out ${middle.out.toFixed(1)}`);
});
