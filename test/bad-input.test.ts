/** Nothing a client sends can crash the server or disturb another connection. */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { encodeFrameHead, encodeHello, ErrorCode, FrameStatus } from '../src/framing/index.js';
import { blockPatternJpeg, jpegWithComment } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer, startServerWithRunner } from './helpers/server.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { rawClient } from './helpers/raw-client.js';

const hello = encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 4, cameraName: 'raw' });

test('a corrupt JPEG gets a frame error with a reason; the next frame on the connection succeeds', async (t) => {
  const running = await startKnownAnswerServer(t);
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'c' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 3);
  const good = blockPatternJpeg(64, 48, 8);
  conn.send(good);
  conn.send(Buffer.concat([good.subarray(0, 200), Buffer.alloc(300, 0x55)])); // truncated + garbage
  conn.send(good);
  const [a, b, c] = await results;
  t.is(a.status, FrameStatus.Ok);
  t.is(b.status, FrameStatus.FrameError);
  t.regex(b.reason ?? '', /JPEG/);
  t.true(Number.isNaN(b.count));
  t.is(c.status, FrameStatus.Ok);
  t.is(c.count, a.count);
});

test('not a JPEG at all: frame error naming the missing SOI marker', async (t) => {
  const running = await startKnownAnswerServer(t);
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'c' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(Buffer.from('GIF89a....'));
  const [r] = await results;
  t.is(r.status, FrameStatus.FrameError);
  t.regex(r.reason ?? '', /SOI marker/);
});

test('a client vanishing mid-frame leaves the other connections unaffected', async (t) => {
  const running = await startKnownAnswerServer(t, { workers: 2 });
  const port = running.address.port;
  const steady = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'steady' });
  t.teardown(() => steady.destroy());
  const results = collectResults(steady, 20);
  const good = blockPatternJpeg(64, 48, 8);
  for (let i = 0; i < 10; i++) steady.send(good);

  const vanishing = await rawClient(port);
  vanishing.socket.write(hello);
  vanishing.socket.write(encodeFrameHead(0, 0, good.length));
  vanishing.socket.write(good.subarray(0, good.length / 2));
  vanishing.socket.destroy();
  await vanishing.closed;

  for (let i = 0; i < 10; i++) steady.send(good);
  const got = await results;
  t.true(got.every((r) => r.status === FrameStatus.Ok));
  t.deepEqual(
    got.map((r) => r.seq),
    [...Array(20).keys()],
  );
});

test('an oversized frame length is refused with a reason, and the server keeps serving', async (t) => {
  const running = await startKnownAnswerServer(t, { server: { maxFrameBytes: 10_000 } });
  const client = await rawClient(running.address.port);
  client.socket.write(hello);
  client.socket.write(encodeFrameHead(0, 0, 50_000_000));
  await client.closed;
  const error = client.messages.find((m) => m.type === 'error');
  t.truthy(error);
  if (error?.type !== 'error') return;
  t.is(error.code, ErrorCode.FrameTooLarge);
  t.regex(error.reason, /50000000 bytes exceeds the server's maximum of 10000/);

  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'after' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(blockPatternJpeg(64, 48, 8));
  t.is((await results)[0].status, FrameStatus.Ok);
});

test('garbage, a wrong version and frames before HELLO each close only that connection, with a reason', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 0));
  const http = await rawClient(port);
  http.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await http.closed;
  t.is(http.messages.length, 0);

  const v2 = await rawClient(port);
  const hello2 = Buffer.from(hello);
  hello2.writeUInt16LE(2, 8 + 4);
  v2.socket.write(hello2);
  await v2.closed;
  t.like(v2.messages[0], { type: 'error', code: ErrorCode.UnsupportedVersion });

  const early = await rawClient(port);
  early.socket.write(Buffer.concat([hello.subarray(0, 1), Buffer.alloc(7)])); // type HELLO, length 0
  await early.closed;
  t.like(early.messages[0], { type: 'error', code: ErrorCode.MalformedMessage });

  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'fine' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(numberFrame(42));
  t.is((await results)[0].count, 42);
});

test('sequence numbers must increase; frames accepted before the violation are still answered', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 5));
  const client = await rawClient(port);
  client.socket.write(hello);
  for (const seq of [5, 6, 6]) {
    const body = numberFrame(seq);
    client.socket.write(Buffer.concat([encodeFrameHead(seq, 0, body.length), body]));
  }
  await client.closed;
  const kinds = client.messages.map((m) => (m.type === 'result' ? `result ${m.seq}` : m.type));
  t.deepEqual(kinds, ['welcome', 'result 5', 'result 6', 'error']);
  t.like(client.messages[3], { type: 'error', code: ErrorCode.SequenceOrder });
});

/** One worker running test/helpers/failing-worker (EXIT / THROW frames), and a connection to it. */
async function failingWorkerServer(t: import('ava').ExecutionContext) {
  const running = await startKnownAnswerServer(t, { workers: 1, workerFile: new URL('./helpers/failing-worker.js', import.meta.url) });
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'c' });
  t.teardown(() => conn.destroy());
  return { running, conn };
}

test('a worker that dies fails only the frames it held, and the pool keeps serving', async (t) => {
  const { running, conn } = await failingWorkerServer(t);
  const results = collectResults(conn, 5);
  const good = blockPatternJpeg(64, 48, 8);
  conn.send(good);
  conn.send(jpegWithComment('crowdline-test:EXIT')); // the worker thread exits while holding this frame
  for (let i = 0; i < 3; i++) conn.send(good);
  const got = await results;
  t.deepEqual(
    got.map((r) => r.status),
    [FrameStatus.Ok, FrameStatus.ServerError, FrameStatus.Ok, FrameStatus.Ok, FrameStatus.Ok],
  );
  t.regex(got[1].reason ?? '', /inference failed: worker exited/);
  t.is(running.pool.readyWorkers, 1, 'the replacement worker loaded the model');
});

test('a worker that throws fails only that batch; the same worker goes on', async (t) => {
  const { conn } = await failingWorkerServer(t);
  const results = collectResults(conn, 3);
  const good = blockPatternJpeg(64, 48, 8);
  conn.send(jpegWithComment('crowdline-test:THROW'));
  conn.send(good);
  conn.send(good);
  const got = await results;
  t.deepEqual(
    got.map((r) => r.status),
    [FrameStatus.ServerError, FrameStatus.Ok, FrameStatus.Ok],
  );
  t.regex(got[0].reason ?? '', /injected failure/);
});
