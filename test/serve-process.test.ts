/** `crowdline serve` as a process: SIGTERM finishes in-flight frames, then exits 0. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { V1Connection } from '../client/connection.js';
import { ErrorCode, FrameStatus, type ResultMessage } from '../src/framing/index.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel } from './helpers/server.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

test('SIGTERM: stop accepting, answer what was accepted, exit 0', async (t) => {
  const model = knownAnswerModel();
  const child = spawn(process.execPath, [cli, 'serve', '--model', model.onnxPath, '--host', '127.0.0.1', '--port', '0', '--device', 'cpu', '--workers', '1', '--intra-op-threads', '1', '--window', '16'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
  });
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
  t.is(await exited, 0, stderr);
  t.true(results.length >= 1);
  t.deepEqual(results.map((r) => r.seq), [...Array(results.length).keys()], 'a gap-free prefix, in order');
  t.true(results.every((r) => r.status === FrameStatus.Ok));
  t.deepEqual(errors, [ErrorCode.ShuttingDown]);
  t.regex(stderr, /SIGTERM: no new connections; finishing frames in flight/);
});
