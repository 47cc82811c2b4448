/** `crowdline serve` as a process: SIGTERM finishes in-flight frames, then exits 0. */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { ErrorCode, FrameStatus, type ResultMessage } from '../src/framing/index.js';
import { blockPatternJpeg } from './helpers/images.js';
import { oneWorkerServeArgs, startServeProcess } from './helpers/cli.js';
import { knownAnswerModel } from './helpers/server.js';

test('SIGTERM: stop accepting, answer what was accepted, exit 0', async (t) => {
  const model = knownAnswerModel();
  const { child, port, log } = await startServeProcess([...oneWorkerServeArgs(model.onnxPath), '--window', '16']);
  t.teardown(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'sig', window: 16 });
  const results: ResultMessage[] = [];
  const errors: number[] = [];
  conn.on('serverError', (e) => errors.push(e.code));
  const closed = new Promise<void>((r) => conn.on('close', () => r()));
  const firstResult = new Promise<void>((r) => conn.once('result', () => r()));
  conn.on('result', (m) => results.push(m));
  const jpeg = blockPatternJpeg(640, 480, 16);
  for (let i = 0; i < 16; i++) conn.send(jpeg);
  await firstResult;
  child.kill('SIGTERM');
  await closed;
  t.is(await exited, 0, log());
  t.true(results.length >= 1);
  t.deepEqual(
    results.map((r) => r.seq),
    [...Array(results.length).keys()],
    'a gap-free prefix, in order',
  );
  t.true(results.every((r) => r.status === FrameStatus.Ok));
  t.deepEqual(errors, [ErrorCode.ShuttingDown]);
  t.regex(log(), /SIGTERM: no new connections; finishing frames in flight/);
});
