/**
 * Overload policies: with drop-oldest every frame still gets exactly one
 * reply, ok or dropped, in order, and the newest frame survives; with queue
 * nothing is dropped.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import type { FrameReport } from '../src/accept/observer.js';
import type { CrowdServer } from '../src/accept/server.js';
import { FrameStatus, type ResultMessage } from '../src/framing/index.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { collectResults } from './helpers/results.js';
import { startServerWithRunner } from './helpers/server.js';

const FRAMES = 60;

/** Records the deepest the server's queue got, seen each time a worker takes a batch. */
class QueueWatchingRunner extends FakeRunner {
  server: CrowdServer | undefined;
  deepestQueue = 0;

  override runBatch(jpegs: readonly Uint8Array[]) {
    this.deepestQueue = Math.max(this.deepestQueue, this.server?.batcher.queueDepth ?? 0);
    return super.runBatch(jpegs);
  }
}

/** Sends FRAMES at once on each of `cameras` connections; returns every RESULT each got, waiting a little for strays. */
async function flood(port: number, cameras: number): Promise<ResultMessage[][]> {
  return Promise.all(
    Array.from({ length: cameras }, async (_, c) => {
      const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: `cam${c}`, window: 2 });
      const all: ResultMessage[] = [];
      conn.on('result', (m) => all.push(m));
      const first = collectResults(conn, FRAMES);
      for (let f = 0; f < FRAMES; f++) conn.send(numberFrame(c * 1000 + f));
      await first;
      // A second reply to any frame would arrive now.
      await new Promise((r) => setTimeout(r, 100));
      conn.destroy();
      return all;
    }),
  );
}

test('drop-oldest: 3 cameras flood a slow worker; each frame answered exactly once, ok or dropped, in order', async (t) => {
  const reports: FrameReport[] = [];
  let received = 0;
  const observer = { frameReceived: () => void received++, frameAnswered: (r: FrameReport) => void reports.push(r) };
  const runner = new QueueWatchingRunner(1, 10, 3);
  const { server, port } = await startServerWithRunner(t, runner, { server: { window: 2, overload: 'drop-oldest' }, maxBatch: 1, observer });
  runner.server = server;
  const perCamera = await flood(port, 3);
  // Each connection keeps at most its window waiting, even when a whole burst arrives in one TCP read.
  t.true(runner.deepestQueue <= 3 * 2, `queue stayed within cameras x window (deepest ${runner.deepestQueue})`);
  perCamera.forEach((results, c) => {
    t.is(results.length, FRAMES, `cam${c}: one reply per frame`);
    t.deepEqual(
      results.map((r) => r.seq),
      [...Array(FRAMES).keys()],
      `cam${c}: in order, none twice`,
    );
    t.true(
      results.every((r) => r.status === FrameStatus.Ok || r.status === FrameStatus.Dropped),
      `cam${c}: only ok or dropped`,
    );
    for (const r of results.filter((r) => r.status === FrameStatus.Ok)) t.is(r.count, c * 1000 + r.seq, `cam${c}: ok replies carry their own frame`);
    t.is(results[FRAMES - 1].status, FrameStatus.Ok, `cam${c}: the newest frame is kept`);
    t.true(
      results.some((r) => r.status === FrameStatus.Dropped),
      `cam${c}: overload did drop`,
    );
  });
  t.is(received, 3 * FRAMES);
  t.is(reports.length, 3 * FRAMES);
});

test('queue: the same flood is answered in full, nothing dropped', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 3, 5), { server: { window: 2, overload: 'queue' }, maxBatch: 1 });
  const perCamera = await flood(port, 3);
  perCamera.forEach((results, c) => {
    t.deepEqual(
      results.map((r) => r.seq),
      [...Array(FRAMES).keys()],
      `cam${c}`,
    );
    t.true(
      results.every((r) => r.status === FrameStatus.Ok && r.count === c * 1000 + r.seq),
      `cam${c}: all ok, own frames`,
    );
  });
});

test('drop-oldest with batching: dropped frames never reach a worker', async (t) => {
  const runner = new FakeRunner(1, 10, 9);
  const { port } = await startServerWithRunner(t, runner, { server: { window: 2, overload: 'drop-oldest' }, maxBatch: 4 });
  const [results] = await flood(port, 1);
  const ok = results.filter((r) => r.status === FrameStatus.Ok).length;
  t.is(results.length, FRAMES);
  t.is(
    runner.batches.reduce((a, b) => a + b, 0),
    ok,
    'worker saw exactly the frames answered ok',
  );
});
