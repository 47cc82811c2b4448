/**
 * The worker side of counting lines, through the real pool: frames whose
 * camera has lines come back with a grey copy of the network input (and
 * others without), in both decode modes; a motion task on a worker gives
 * exactly what the same job gives on this thread.
 */
import test from 'ava';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { WorkerPool } from '../src/workers/pool.js';
import { blockGrey, blockPatternJpeg } from './helpers/images.js';

for (const decodeThreads of [0, 1]) {
  test.serial(`grey copies only for the frames that ask, right where the blocks are (${decodeThreads === 0 ? 'fused' : 'decode threads'})`, async (t) => {
    const pool = await WorkerPool.start({ modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1, decodeThreads, maxBatch: 2 });
    try {
      const jpeg = blockPatternJpeg(768, 576, 32, { colour: true });
      const result = await pool.runBatch([jpeg, jpeg], [true, false]);
      const [asked, plain] = result.outcomes;
      t.true(asked.ok && plain.ok);
      if (!asked.ok || !plain.ok) return;
      t.is(plain.grey, undefined);
      const grey = asked.grey;
      if (!grey) return t.fail('no grey copy');
      t.deepEqual([grey.width, grey.height], [192, 144]);
      // Each 32 px block is 8x8 grey pixels; its centre is the block's own level.
      for (const [bx, by] of [
        [0, 0],
        [5, 3],
        [23, 17],
        [11, 9],
      ]) {
        const g = grey.data[(by * 8 + 4) * 192 + bx * 8 + 4];
        t.true(Math.abs(g - blockGrey(bx, by)) <= 2, `block ${bx},${by}: ${g} vs ${blockGrey(bx, by)}`);
      }
    } finally {
      await pool.close();
    }
  });
}

test.serial('native and tiled frames get a grey copy too: the whole frame, about as many grey pixels as a fixed one, right where the blocks are', async (t) => {
  const pool = await WorkerPool.start({ modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1, maxBatch: 3 });
  try {
    // 1536x1152: native runs it at its own size, tiled cuts it into 3 x 3 tiles of 768x576; both grey copies are 1/8: 192x144.
    const jpeg = blockPatternJpeg(1536, 1152, 64, { colour: true });
    const result = await pool.runBatch([jpeg, jpeg, jpeg], [true, true, false], ['native', 'tiled', 'tiled']);
    const [native, tiled, plain] = result.outcomes;
    t.true(native.ok && tiled.ok && plain.ok);
    if (!native.ok || !tiled.ok || !plain.ok) return;
    t.is(plain.grey, undefined, 'no grey copy where the camera has no lines');
    for (const [label, grey] of [
      ['native', native.grey],
      ['tiled', tiled.grey],
    ] as const) {
      if (!grey) return t.fail(`${label}: no grey copy`);
      t.deepEqual([grey.width, grey.height], [192, 144], label);
      // Each 64 px block is 8x8 grey pixels; its centre is the block's own level (tiles overlap there: the copy is of the frame, not of a tile).
      for (const [bx, by] of [
        [0, 0],
        [10, 8],
        [23, 17],
        [12, 9],
      ]) {
        const g = grey.data[(by * 8 + 4) * 192 + bx * 8 + 4];
        t.true(Math.abs(g - blockGrey(bx, by)) <= 2, `${label} block ${bx},${by}: ${g} vs ${blockGrey(bx, by)}`);
      }
    }
  } finally {
    await pool.close();
  }
});

test.serial('a motion task on a worker gives what the job gives in process', async (t) => {
  const pool = await WorkerPool.start({ modelPath: DEFAULT_MODEL_PATH, device: 'cpu', workers: 1 });
  try {
    const w = 48;
    const before = new Uint8Array(w * w).map((_, i) => (i * 2654435761) >>> 24);
    const after = new Uint8Array(w * w).map((_, i) => before[(i + w * w - 2) % (w * w)]);
    const job = { before: [before], after: [after], windows: [{ x: 10, y: 20, width: w, height: w }], greyWidth: 192, greyHeight: 144 };
    const onWorker = await pool.runMotion(job);
    const here = runMotionJob(job);
    t.is(onWorker.length, 1);
    t.deepEqual([onWorker[0].x0, onWorker[0].y0, onWorker[0].fullWidth], [10, 20, 192]);
    t.deepEqual(Array.from(onWorker[0].u), Array.from(here[0].u));
    t.deepEqual(Array.from(onWorker[0].v), Array.from(here[0].v));
    // A job that breaks its own bounds fails on the worker, which lives on.
    await t.throwsAsync(pool.runMotion({ ...job, windows: [{ x: 180, y: 20, width: w, height: w }] }), { message: /not inside the 192x144 image/ });
    t.is((await pool.runMotion(job)).length, 1);
  } finally {
    await pool.close();
  }
});
