/**
 * Tensor slots (src/workers/tensor-slots.ts): the decode threads prepare
 * every batch into a SharedArrayBuffer shared once at start, and the
 * inference workers read it there. Checked: the accounting alone (waiters,
 * double release, close); a split pool (decode threads + a session) gives
 * the fused pool's densities over more batches than there are slots, a
 * corrupt frame failing alone; no slot leaks, whatever inference did.
 */
import test from 'ava';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { resolveModel } from '../src/workers/manifest.js';
import { frameInputBytes, inputView } from '../src/workers/prepare.js';
import { PreparePool } from '../src/workers/prepare-pool.js';
import { SPARE_TENSOR_SLOTS, WorkerPool } from '../src/workers/pool.js';
import { nativeResize } from '../src/workers/native-resize.js';
import { SlotInput } from '../src/workers/slot-input.js';
import { TensorSlots } from '../src/workers/tensor-slots.js';
import type { BatchResult } from '../src/workers/types.js';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { V1Connection } from '../client/connection/connection.js';
import { DensityFormat, FrameStatus } from '../src/framing/index.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, startKnownAnswerServer } from './helpers/server.js';

/** Markers of test/helpers/failing-infer-worker.ts (frame widths; not imported: that module starts a worker). */
const THROW_WIDTH = 40;
const EXIT_WIDTH = 24;

test('slots: handed out until none is free, then to waiters in order as they come back', async (t) => {
  const slots = new TensorSlots(2, 4, 10);
  t.is(slots.buffers.length, 2);
  t.true(slots.buffers.every((b) => b instanceof SharedArrayBuffer && b.byteLength === 40));
  const a = await slots.acquire();
  const b = await slots.acquire();
  t.not(a, b);
  t.is(slots.free, 0);
  const order: number[] = [];
  const first = slots.acquire().then((s) => (order.push(1), s));
  const second = slots.acquire().then((s) => (order.push(2), s));
  slots.release(b);
  t.is(await first, b, 'the released slot goes straight to the first waiter');
  t.is(slots.free, 0);
  slots.release(a);
  t.is(await second, a);
  t.deepEqual(order, [1, 2]);
  slots.release(a);
  slots.release(b);
  t.is(slots.free, 2);
});

test('slots: a release of a slot not out throws (a double release would hand one tensor to two batches)', async (t) => {
  const slots = new TensorSlots(2, 1, 1);
  const a = await slots.acquire();
  slots.release(a);
  t.throws(() => slots.release(a), { message: /not in use/ });
  t.throws(() => slots.release(7), { message: /not in use/ });
  t.is(slots.free, 2);
});

test('slots: close fails the waiters and every later acquire', async (t) => {
  const slots = new TensorSlots(1, 1, 1);
  await slots.acquire();
  const waiting = slots.acquire();
  slots.close();
  await t.throwsAsync(waiting, { message: /closed/ });
  await t.throwsAsync(slots.acquire(), { message: /closed/ });
  t.throws(() => new TensorSlots(0, 1, 1), { instanceOf: RangeError });
});

const quiet = (): void => undefined;

/** Batch i: four frames of their own pattern, all at the model's size except batch 5's third frame, which is corrupt. */
function batches(count: number): Buffer[][] {
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: 4 }, (_, k) => (i === 5 && k === 2 ? Buffer.from('not a jpeg') : blockPatternJpeg(64, 48, 8, { salt: i * 4 + k }))),
  );
}

function sameResult(t: import('ava').ExecutionContext, got: BatchResult, want: BatchResult, name: string): void {
  t.deepEqual(
    got.outcomes.map((o) => o.ok),
    want.outcomes.map((o) => o.ok),
    `${name}: which frames failed`,
  );
  t.deepEqual(
    got.outcomes.map((o) => (o.ok ? o.count : o.reason)),
    want.outcomes.map((o) => (o.ok ? o.count : o.reason)),
    `${name}: counts`,
  );
  t.deepEqual(Array.from(got.densities), Array.from(want.densities), `${name}: densities`);
}

const aliasShared = nativeResize()?.aliasShared;

test('slot input: the alias reads the slot in place; the copy holds the same bytes in a buffer of its own', (t) => {
  const slots = [new SharedArrayBuffer(16), new SharedArrayBuffer(16)];
  new Uint8Array(slots[1]).set([1, 2, 3, 4, 5]);
  const copy = new SlotInput(slots, null);
  t.is(copy.mode, 'copy');
  const copied = copy.input(1, 5);
  t.false(copied instanceof SharedArrayBuffer);
  t.deepEqual([...new Uint8Array(copied, 0, 5)], [1, 2, 3, 4, 5]);
  new Uint8Array(slots[1])[0] = 9;
  t.is(new Uint8Array(copied)[0], 1, 'a copy, not a view');
  t.throws(() => copy.input(2, 1), { instanceOf: RangeError });
  t.throws(() => copy.input(0, 17), { instanceOf: RangeError });
  if (!aliasShared) return t.log('native addon not built: alias mode not checked');
  const alias = new SlotInput(slots, aliasShared);
  t.is(alias.mode, 'alias');
  const view = alias.input(1, 5);
  t.true(view instanceof ArrayBuffer);
  t.is(view.byteLength, 16);
  new Uint8Array(slots[1])[0] = 42;
  t.is(new Uint8Array(view)[0], 42, 'the same memory');
  t.is(alias.input(1, 5), view, 'made once, not per batch');
});

for (const mode of ['alias', 'copy'] as const) {
  const run = mode === 'alias' && !aliasShared ? test.skip : test.serial;
  run(
    `decode threads into tensor slots (${mode}): the fused pool's densities over more batches than slots; a corrupt frame fails alone; all slots free after`,
    async (t) => {
      await splitMatchesFused(t, mode);
    },
  );
}

async function splitMatchesFused(t: import('ava').ExecutionContext, mode: 'alias' | 'copy'): Promise<void> {
  const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
  const opts = { modelPath: model.onnxPath, device: 'cpu' as const, workers: 1, intraOpThreads: 1, maxBatch: 4, log: quiet };
  const fused = await WorkerPool.start({ ...opts, decodeThreads: 0 });
  // Workers take the environment as it is when they start.
  const before = process.env.CROWDLINE_SLOT_COPY;
  process.env.CROWDLINE_SLOT_COPY = mode === 'copy' ? '1' : '0';
  const lines: string[] = [];
  const split = await WorkerPool.start({ ...opts, decodeThreads: 2, log: (line) => lines.push(line) }).finally(() => {
    if (before === undefined) delete process.env.CROWDLINE_SLOT_COPY;
    else process.env.CROWDLINE_SLOT_COPY = before;
  });
  try {
    t.is(
      lines.some((l) => /tensor slots: copied/.test(l)),
      mode === 'copy',
      'the worker says when it copies',
    );
    t.is(fused.tensorSlots, undefined, 'the fused mode has no slots');
    const slots = split.tensorSlots;
    if (!slots) return t.fail('the split pool has no tensor slots');
    t.is(slots.size, 1 + 2 + SPARE_TENSOR_SLOTS);
    const work = batches(4 * slots.size);
    // All at once: more batches than slots, so most wait for a slot and every slot is reused.
    const [want, got] = await Promise.all([Promise.all(work.map((b) => fused.runBatch(b))), Promise.all(work.map((b) => split.runBatch(b)))]);
    work.forEach((_, i) => sameResult(t, got[i], want[i], `batch ${i}`));
    t.deepEqual(
      got[5].outcomes.map((o) => o.ok),
      [true, true, false, true],
    );
    const expected = expectedBlockDensity(8, 6, 5 * 4 + 3);
    const last = got[5].densities.subarray(2 * 48); // the frame after the corrupt one: the third map
    t.true(
      expected.every((v, i) => Math.abs(last[i] - v) <= 1e-6),
      'the frame after the corrupt one has its own block means',
    );
    t.is(slots.free, slots.size, 'every slot is free again');
    // One by one too (each batch reuses a slot the last one freed).
    for (const b of work.slice(0, 3)) sameResult(t, await split.runBatch(b), await fused.runBatch(b), 'sequential');
    t.is(slots.free, slots.size);
    await t.throwsAsync(split.runBatch(batches(1)[0].concat(blockPatternJpeg(64, 48, 8))), { instanceOf: RangeError, message: /exceeds/ });
    t.is(slots.free, slots.size, 'a refused batch takes no slot');
  } finally {
    await Promise.all([fused.close(), split.close()]);
  }
}

test.serial('a failed inference returns its slot: a task that throws, and a worker that dies mid-batch', async (t) => {
  const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
  const pool = await WorkerPool.start({
    modelPath: model.onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    decodeThreads: 1,
    maxBatch: 2,
    log: quiet,
    workerFile: new URL('./helpers/failing-infer-worker.js', import.meta.url),
  });
  try {
    const slots = pool.tensorSlots;
    if (!slots) return t.fail('no tensor slots');
    const good = blockPatternJpeg(64, 48, 8);
    const throws = [good, blockPatternJpeg(THROW_WIDTH, 48, 8)];
    const dies = [blockPatternJpeg(EXIT_WIDTH, 48, 8)];
    // More failing batches than slots: a leak would leave the last ones waiting for ever.
    const failures = Array.from({ length: slots.size + 2 }, () => pool.runBatch(throws));
    const results = await Promise.allSettled(failures);
    t.true(results.every((r) => r.status === 'rejected' && /injected inference failure/.test(String(r.reason))));
    t.is(slots.free, slots.size, 'every slot back after the throws');
    await t.throwsAsync(pool.runBatch(dies));
    t.is(slots.free, slots.size, 'the slot is back after the worker died');
    // The replacement worker reads the same slots.
    const after = await pool.runBatch([good, good]);
    t.deepEqual(
      after.outcomes.map((o) => o.ok),
      [true, true],
    );
    const expected = expectedBlockDensity(8, 6);
    t.true(expected.every((v, i) => Math.abs(after.densities[i] - v) <= 1e-6));
    t.is(slots.free, slots.size);
  } finally {
    await pool.close();
  }
});

test("a prepare pool alone (the bench's simulated device): slots come back only when released", async (t) => {
  const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
  const { manifest } = resolveModel(model.manifestPath);
  const slots = new TensorSlots(2, 2, frameInputBytes(manifest, 64, 48));
  const pool = PreparePool.start({
    modelPath: model.manifestPath,
    inputWidth: 64,
    inputHeight: 48,
    imageLimits: DEFAULT_JPEG_LIMITS,
    threads: 1,
    slots,
    log: quiet,
  });
  try {
    const a = await pool.prepare([blockPatternJpeg(64, 48, 8)]);
    const b = await pool.prepare([blockPatternJpeg(64, 48, 8, { salt: 1 })]);
    t.is(pool.tensorSlots.free, 0);
    // The preprocessed frame is in the slot, where this thread sees it without any message carrying it.
    const frame = inputView(manifest, slots.buffers[a.slot], 64 * 48);
    t.true(frame.some((v) => v !== 0));
    const third = pool.prepare([blockPatternJpeg(64, 48, 8, { salt: 2 })]);
    pool.release(a.slot);
    const c = await third;
    t.is(c.slot, a.slot, 'the waiting batch got the slot released');
    pool.release(b.slot);
    pool.release(c.slot);
    t.is(pool.tensorSlots.free, 2);
  } finally {
    await pool.close();
  }
});

test.serial('a server with decode threads sizes its slots by --max-batch and answers every frame from them', async (t) => {
  const running = await startKnownAnswerServer(t, { decodeThreads: 1, maxBatch: 4 });
  const slots = running.pool.tensorSlots;
  if (!slots) return t.fail('no tensor slots');
  t.is(slots.maxFrames, 4, 'max batch reaches the pool');
  t.is(slots.size, 1 + 1 + SPARE_TENSOR_SLOTS);
  // Two cameras at once, so batches of several frames form.
  const conns = await Promise.all(
    ['a', 'b'].map((name) => V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: name, densityFormat: DensityFormat.Float32 })),
  );
  t.teardown(() => conns.forEach((c) => c.destroy()));
  const results = conns.map((c) => collectResults(c, 12));
  for (let i = 0; i < 12; i++) for (const [k, c] of conns.entries()) c.send(blockPatternJpeg(64, 48, 8, { salt: k * 100 + i }));
  const got = await Promise.all(results);
  got.forEach((answers, k) =>
    answers.forEach((r, i) => {
      t.is(r.status, FrameStatus.Ok);
      const expected = expectedBlockDensity(8, 6, k * 100 + i);
      const values = r.density?.values ?? new Float32Array(0);
      t.true(values.length === expected.length && expected.every((v, j) => Math.abs(values[j] - v) <= 1e-5), `camera ${k} frame ${i}: its own block means`);
    }),
  );
  t.is(slots.free, slots.size, 'every slot free once every frame is answered');
});
