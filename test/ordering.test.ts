/**
 * Every frame a session accepts gets exactly one reply, and replies leave
 * each connection in the order its frames arrived, whatever order the
 * workers finish in.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { FrameStatus } from '../src/framing/index.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { blockPatternJpeg, blockGrey } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer, startServerWithRunner } from './helpers/server.js';

test('workers finishing out of order: 8 connections x 60 frames, each answered once, in order', async (t) => {
  const runner = new FakeRunner(4, 15, 7);
  const { port } = await startServerWithRunner(t, runner, { server: { window: 8 }, maxBatch: 3 });
  const connections = 8;
  const frames = 60;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: `cam${c}`, window: 8 });
      t.teardown(() => conn.destroy());
      const results = collectResults(conn, frames);
      // Send everything at once: the server's window and TCP backpressure pace us.
      for (let f = 0; f < frames; f++) conn.send(numberFrame(c * 1000 + f), f);
      const got = await results;
      t.deepEqual(
        got.map((r) => r.seq),
        Array.from({ length: frames }, (_, f) => f),
        `cam${c} order`,
      );
      t.deepEqual(
        got.map((r) => r.count),
        Array.from({ length: frames }, (_, f) => c * 1000 + f),
        `cam${c} content`,
      );
      t.true(got.every((r) => r.status === FrameStatus.Ok));
    }),
  );
  // Batches really mixed several frames, so out-of-order completion was exercised.
  t.true(runner.batches.some((n) => n > 1));
});

test('real worker pool (2 workers, batching on): 8 connections get their own frames back in order', async (t) => {
  const running = await startKnownAnswerServer(t, { workers: 2, maxBatch: 4, server: { window: 4 } });
  const frames = 12;
  await Promise.all(
    Array.from({ length: 8 }, async (_, c) => {
      const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: `cam${c}` });
      t.teardown(() => conn.destroy());
      const results = collectResults(conn, frames);
      const salts: number[] = [];
      for (let f = 0; f < frames; f++) {
        const salt = c * 13 + f;
        salts.push(salt);
        conn.send(blockPatternJpeg(64, 48, 8, { salt }));
      }
      const got = await results;
      t.deepEqual(
        got.map((r) => r.seq),
        [...Array(frames).keys()],
      );
      got.forEach((r, f) => {
        // The first block's grey level identifies the frame the reply belongs to.
        t.true(Math.abs(r.density!.values[0] - blockGrey(0, 0, salts[f]) / 255) < 1e-6, `cam${c} frame ${f}`);
      });
    }),
  );
});
