/** Graceful shutdown: stop accepting, answer every accepted frame, then close. */
import net from 'node:net';
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { ErrorCode, FrameStatus, type ErrorMessage, type ResultMessage } from '../src/framing/index.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { startServerWithRunner } from './helpers/server.js';

test('frames in flight at shutdown all get their replies, then the reason, then the close', async (t) => {
  // Slow fake worker (up to 150 ms per batch) so frames are still in flight.
  let received = 0;
  const { server, port } = await startServerWithRunner(t, new FakeRunner(2, 150, 3), {
    server: { window: 8 },
    observer: { frameReceived: () => received++ },
  });
  const conns = await Promise.all([0, 1, 2].map((c) => V1Connection.connect({ host: '127.0.0.1', port, cameraName: `cam${c}`, window: 8 })));
  const replies = conns.map((conn) => {
    const results: ResultMessage[] = [];
    const errors: ErrorMessage[] = [];
    conn.on('result', (r) => results.push(r));
    conn.on('serverError', (e) => errors.push(e));
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
    return { results, errors, closed };
  });
  conns.forEach((conn, c) => {
    for (let f = 0; f < 6; f++) conn.send(numberFrame(c * 100 + f));
  });
  // Once the server has accepted all 18 frames (most still queued or running), shut down.
  while (received < 18) await new Promise((r) => setTimeout(r, 2));
  t.true(server.batcher.queueDepth + server.batcher.runningBatches > 0, 'frames are in flight');
  const closing = server.close();

  // New connections are no longer accepted.
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve('closed'));
  });
  t.true(refused === 'ECONNREFUSED' || refused === 'closed');

  await closing;
  await Promise.all(replies.map((r) => r.closed));
  replies.forEach((r, c) => {
    t.deepEqual(
      r.results.map((m) => m.seq),
      [0, 1, 2, 3, 4, 5],
      `cam${c}: every frame answered, in order`,
    );
    t.true(r.results.every((m) => m.status === FrameStatus.Ok));
    t.deepEqual(
      r.results.map((m) => m.count),
      [0, 1, 2, 3, 4, 5].map((f) => c * 100 + f),
    );
    t.is(r.errors[0]?.code, ErrorCode.ShuttingDown);
  });
});
