/** SIGTERM drain for load balancers: /readyz 503 at once, accept for --drain-delay-ms, then the graceful close. */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { ErrorCode, FrameStatus, type ResultMessage } from '../src/framing/index.js';
import { blockPatternJpeg } from './helpers/images.js';
import { runCli, oneWorkerServeArgs, startServeProcess, waitForLog } from './helpers/cli.js';
import { knownAnswerModel } from './helpers/server.js';

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

test('SIGTERM: /readyz 503 at once, new connections served during the drain delay, then refused; exit 0', async (t) => {
  const model = knownAnswerModel();
  // A generous delay: the test does its checks inside it, on a shared 2-core machine.
  const { child, port, log } = await startServeProcess([...oneWorkerServeArgs(model.onnxPath), '--metrics-port', '0', '--drain-delay-ms', '8000']);
  t.teardown(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const metricsPort = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(log())?.[1]);
  t.deepEqual(await readyz(metricsPort), { status: 200, body: 'ready\n' });

  const jpeg = blockPatternJpeg(64, 48, 8);
  const early = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'early', window: 4 });
  const earlyErrors: number[] = [];
  early.on('serverError', (e) => earlyErrors.push(e.code));
  const earlyClosed = new Promise<void>((r) => early.on('close', () => r()));

  child.kill('SIGTERM');
  await waitForLog(log, /draining: \/readyz says 503/);
  t.deepEqual(await readyz(metricsPort), { status: 503, body: 'draining\n' }, 'unready before it stops accepting');
  t.notRegex(log(), /no new connections/);

  // Still accepting: a connection made during the delay is served.
  const late = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'late', window: 4 });
  const lateErrors: number[] = [];
  late.on('serverError', (e) => lateErrors.push(e.code));
  const lateClosed = new Promise<void>((r) => late.on('close', () => r()));
  const answered = new Promise<ResultMessage>((r) => late.once('result', r));
  late.send(jpeg);
  t.is((await answered).status, FrameStatus.Ok);
  t.notRegex(log(), /no new connections/, 'the frame was answered while still accepting');

  await Promise.all([earlyClosed, lateClosed]);
  t.is(await exited, 0, log());
  t.deepEqual(earlyErrors, [ErrorCode.ShuttingDown]);
  t.deepEqual(lateErrors, [ErrorCode.ShuttingDown]);
  const order = ['draining: /readyz says 503', 'SIGTERM: no new connections; finishing frames in flight'].map((line) => log().indexOf(line));
  t.true(order[0] >= 0 && order[1] > order[0], log());
});

test('--drain-delay-ms must be a whole number >= 0', async (t) => {
  const run = await runCli(['serve', '--drain-delay-ms', '-1']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--drain-delay-ms must be a whole number >= 0/);
});
