/** Memory is bounded by configuration, not by what clients send. */
import net from 'node:net';
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { ClientSideParser, encodeBye, encodeFrame, encodeHello, ErrorCode, FrameStatus, type ServerMessage } from '../src/framing/index.js';
import { FakeRunner, GatedRunner, numberFrame } from './helpers/fake-runner.js';
import { collectResults } from './helpers/results.js';
import { startServerWithRunner } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a connection admits no more than its window, even when a burst arrives in one read', async (t) => {
  const runner = new GatedRunner(1);
  let received = 0;
  const { port } = await startServerWithRunner(t, runner, { server: { window: 4 }, observer: { frameReceived: () => received++ } });
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'burst', window: 4 });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 40);
  for (let i = 0; i < 40; i++) conn.send(numberFrame(i)); // ~1 KB: one TCP read on loopback
  await sleep(200);
  t.is(received, 4, 'only the window was admitted while the workers were busy');
  runner.release();
  const got = await results;
  t.deepEqual(
    got.map((r) => r.count),
    [...Array(40).keys()],
  );
  t.is(received, 40);
});

test('frames still buffered when the client half-closes are all answered', async (t) => {
  const runner = new GatedRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { window: 2 } });
  const socket = net.connect(port, '127.0.0.1');
  const parser = new ClientSideParser();
  const messages: ServerMessage[] = [];
  socket.on('data', (c: Buffer) => messages.push(...parser.push(c)));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  const frames = Array.from({ length: 10 }, (_, i) => encodeFrame({ seq: i, captureTimeMs: 0, jpeg: numberFrame(i) }));
  socket.end(Buffer.concat([encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 2, cameraName: 'x' }), ...frames, encodeBye()]));
  await sleep(100);
  runner.release();
  await closed;
  t.deepEqual(
    messages.filter((m) => m.type === 'result').map((m) => (m.type === 'result' ? m.count : -1)),
    [...Array(10).keys()],
  );
});

test('over max connections, a v1 client is told the server is full', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 0), { server: { maxConnections: 1 } });
  const first = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'first' });
  t.teardown(() => first.destroy());
  await t.throwsAsync(V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'second' }), { message: /server is full \(1 connections\)/ });
  const results = collectResults(first, 1);
  first.send(numberFrame(5));
  t.is((await results)[0].status, FrameStatus.Ok);
});

test('a client that never says HELLO is closed after the handshake timeout', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 0), { server: { handshakeTimeoutMs: 100 } });
  const socket = net.connect(port, '127.0.0.1');
  const parser = new ClientSideParser();
  const messages: ServerMessage[] = [];
  socket.on('data', (c: Buffer) => messages.push(...parser.push(c)));
  socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 2, cameraName: 'slow' }).subarray(0, 9));
  await new Promise<void>((r) => socket.on('close', () => r()));
  t.like(messages[0], { type: 'error', code: ErrorCode.HandshakeTimeout });
});

test('an idle connection is closed with a reason; a busy one is not', async (t) => {
  // No race against the clock: the busy camera's frame is admitted before the idle camera even says HELLO, and is
  // held until the idle one has been closed, so it was in flight longer than the idle timeout, however slow the machine.
  const runner = new GatedRunner(1);
  let admitted!: () => void;
  const busyAdmitted = new Promise<void>((r) => (admitted = r));
  const { port } = await startServerWithRunner(t, runner, {
    server: { idleTimeoutMs: 200 },
    observer: { frameReceived: (camera) => camera === 'busy' && admitted() },
  });
  const busy = net.connect(port, '127.0.0.1');
  t.teardown(() => busy.destroy());
  const parser = new ClientSideParser();
  const busyMessages: ServerMessage[] = [];
  busy.on('data', (c: Buffer) => busyMessages.push(...parser.push(c)));
  const busyClosed = new Promise<void>((r) => busy.on('close', () => r()));
  // HELLO and FRAME in one write: no idle moment between them.
  busy.write(
    Buffer.concat([
      encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 2, cameraName: 'busy' }),
      encodeFrame({ seq: 7, captureTimeMs: 0, jpeg: numberFrame(7) }),
    ]),
  );
  await busyAdmitted;

  const idle = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'idle' });
  const idleErrors: number[] = [];
  idle.on('serverError', (e) => idleErrors.push(e.code));
  await new Promise<void>((r) => idle.on('close', () => r()));
  t.deepEqual(idleErrors, [ErrorCode.IdleTimeout], 'the idle camera is told why');
  t.deepEqual(
    busyMessages.map((m) => m.type),
    ['welcome'],
    'the busy camera has had nothing but its WELCOME',
  );
  // Still read from: a second frame is taken and answered (a connection being closed reads no more).
  busy.write(encodeFrame({ seq: 8, captureTimeMs: 0, jpeg: numberFrame(8) }));
  runner.release();
  await busyClosed;
  // Idle only once both are answered, and closed for that afterwards.
  t.deepEqual(
    busyMessages.map((m) => (m.type === 'result' ? `result ${m.seq} ${m.status}` : m.type === 'error' ? `error ${m.code}` : m.type)),
    ['welcome', `result 7 ${FrameStatus.Ok}`, `result 8 ${FrameStatus.Ok}`, `error ${ErrorCode.IdleTimeout}`],
  );
});

test('over the server-wide queue bound, only connections under their fair part queue more: a flood cannot pause the others', async (t) => {
  const runner = new GatedRunner(1);
  const received = new Map<string, number>();
  const { port, server } = await startServerWithRunner(t, runner, {
    server: { window: 8, maxQueue: 5 },
    observer: { frameReceived: (camera) => received.set(camera, (received.get(camera) ?? 0) + 1) },
  });
  // Three senders (the fair part is per sender: connections from one address share one part).
  const conns = await Promise.all(
    [0, 1, 2].map((c) => V1Connection.connect({ host: '127.0.0.1', port, cameraName: `c${c}`, window: 8, localAddress: `127.0.0.${11 + c}` })),
  );
  t.teardown(() => conns.forEach((c) => c.destroy()));
  const results = conns.map((conn, c) => {
    const r = collectResults(conn, 8);
    for (let i = 0; i < 8; i++) conn.send(numberFrame(c * 100 + i));
    return r;
  });
  await sleep(300);
  // Fair part: 5 / 3 senders, so each may hold 2 queued whatever the others hold.
  for (const c of ['c0', 'c1', 'c2']) t.true((received.get(c) ?? 0) >= 2, `${c} queued its fair part (${received.get(c)})`);
  const total = [...received.values()].reduce((a, b) => a + b, 0);
  t.true(total <= 1 + 5 + 3 * 2, `one running + the bound + at most a fair part per connection (${total})`);
  t.true(server.batcher.queueDepth < 8 * 3, 'not everything sent was queued');
  runner.release();
  const got = await Promise.all(results);
  got.forEach((list, c) =>
    t.deepEqual(
      list.map((r) => r.count),
      [...Array(8).keys()].map((i) => c * 100 + i),
    ),
  );
});
