/**
 * Dynamic batching: frames from different connections share a batch, yet
 * every reply goes back to the connection that sent the frame, in its order;
 * and batching never changes an answer.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import type { BatchRunner } from '../src/batcher/types.js';
import { FrameStatus } from '../src/framing/index.js';
import type { BatchResult, FrameOutcome } from '../src/workers/types.js';
import { numberFrame } from './helpers/fake-runner.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, startKnownAnswerServer, startServerWithRunner } from './helpers/server.js';

/** One slow worker that remembers which frames (by number) rode in each batch. */
class RecordingRunner implements BatchRunner {
  readonly size = 1;
  readonly batches: number[][] = [];

  async runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    const ids = jpegs.map((b) => Number(Buffer.from(b).toString('latin1')));
    this.batches.push(ids);
    const startedAtMs = Date.now();
    await new Promise((r) => setTimeout(r, 10));
    const outcomes: FrameOutcome[] = ids.map((id, i) => ({ ok: true, count: id, decodeUs: 1, height: 1, width: 1, densityOffset: i }));
    return { outcomes, densities: Float32Array.from(ids), inferUs: 1, startedAtMs, batchSize: ids.length };
  }
}

test('mixed batches: 4 connections x 24 frames, max batch 8, each reply to its own connection in order', async (t) => {
  const runner = new RecordingRunner();
  const { port } = await startServerWithRunner(t, runner, { maxBatch: 8, server: { window: 5 } });
  const frames = 24;
  await Promise.all(
    Array.from({ length: 4 }, async (_, c) => {
      // Window 5 < max batch 8: a batch cannot be filled from one connection alone.
      const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: `cam${c}`, window: 5 });
      t.teardown(() => conn.destroy());
      const results = collectResults(conn, frames);
      for (let f = 0; f < frames; f++) conn.send(numberFrame(c * 1000 + f));
      const got = await results;
      t.deepEqual(
        got.map((r) => r.seq),
        [...Array(frames).keys()],
        `cam${c}: replies in frame order`,
      );
      t.deepEqual(
        got.map((r) => r.count),
        Array.from({ length: frames }, (_, f) => c * 1000 + f),
        `cam${c}: its own frames`,
      );
      t.true(got.every((r) => r.status === FrameStatus.Ok));
    }),
  );
  t.true(
    runner.batches.every((b) => b.length <= 8),
    'no batch over max batch',
  );
  const connectionsIn = (batch: number[]): number => new Set(batch.map((id) => Math.floor(id / 1000))).size;
  t.true(
    runner.batches.some((b) => connectionsIn(b) > 1),
    'at least one batch mixed connections',
  );
  t.is(runner.batches.flat().length, 4 * frames, 'every frame ran exactly once');
});

test('batching does not change answers: the same frames give the same density maps with max batch 1 and 8', async (t) => {
  const model = knownAnswerModel();
  const frames = Array.from({ length: 12 }, (_, f) => blockPatternJpeg(64, 48, 8, { salt: f }));
  const densities = async (maxBatch: number): Promise<number[][]> => {
    const running = await startKnownAnswerServer(t, { model, maxBatch, server: { window: 12 } });
    const conns = await Promise.all(
      [0, 1, 2].map((c) => V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: `cam${c}`, window: 12 })),
    );
    t.teardown(() => conns.forEach((c) => c.destroy()));
    // Three connections send interleaved, so batches of 8 mix them.
    const all = conns.map((conn) => collectResults(conn, frames.length));
    for (const jpeg of frames) for (const conn of conns) conn.send(jpeg);
    const results = await Promise.all(all);
    return results.flatMap((rs) => rs.map((r) => Array.from(r.density!.values)));
  };
  const unbatched = await densities(1);
  const batched = await densities(8);
  t.is(batched.length, 36);
  t.deepEqual(batched, unbatched);
});
