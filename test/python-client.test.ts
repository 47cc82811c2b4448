/**
 * The Python client (client/python/crowdline_client.py, written from
 * docs/protocol.md) against `crowdline serve`: plain and TLS, token and
 * client certificate, every density format, and refusals.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { makePki } from '../bench/throwaway-pki.js';
import { V1Connection } from '../client/connection/connection.js';
import { FrameStatus } from '../src/framing/index.js';
import { PACKAGE_ROOT, SAMPLE_VIDEO } from '../src/app/paths.js';
import { legacyRoundTrip, writeCredentials } from './helpers/auth.js';
import { oneWorkerServeArgs, startServeProcess, waitForLog } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

/** Debian's interpreter: python3-numpy and python3-opencv (scripts/setup.sh) are installed for it. */
const PYTHON = process.env.CROWDLINE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const SCRIPT = path.join(PACKAGE_ROOT, 'client', 'python', 'crowdline_client.py');

interface Line {
  frame: number;
  seq: number;
  status: string;
  count: number | null;
  format: number;
  height?: number;
  width?: number;
  mapSum?: number;
}

function runPython(args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
      resolve({ code, lines, stderr });
    });
  });
}

test('plain: every density format decodes to the count the TypeScript client gets; a wrong or missing token is refused', async (t) => {
  const dir = tempDir('crowdline-py-');
  const creds = await writeCredentials([{ name: 'pi' }], dir);
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, creds.tokens.pi + '\n', { mode: 0o600 });
  const jpegFile = path.join(dir, 'frame.jpg');
  const jpeg = blockPatternJpeg(64, 48, 8);
  writeFileSync(jpegFile, jpeg);
  const { child, port } = await startServeProcess([...oneWorkerServeArgs(knownAnswerModel().onnxPath), '--auth', creds.file]);
  t.teardown(() => child.kill('SIGKILL'));

  const ts = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'ts', token: creds.tokens.pi });
  const tsResult = collectResults(ts, 1);
  ts.send(jpeg);
  const expected = (await tsResult)[0].count;
  ts.destroy();

  for (const [density, tolerance] of [
    ['f32', 1e-4],
    ['f16', 1e-2],
    ['u8', 3e-2],
    ['none', 0],
  ] as const) {
    const run = await runPython([
      '--server',
      `127.0.0.1:${port}`,
      '--token-file',
      tokenFile,
      '--image',
      jpegFile,
      '--frames',
      '7',
      '--window',
      '3',
      '--density',
      density,
    ]);
    t.is(run.code, 0, run.stderr);
    t.deepEqual(
      run.lines.map((l) => l.frame),
      [0, 1, 2, 3, 4, 5, 6],
      density,
    );
    for (const line of run.lines) {
      t.is(line.status, 'ok');
      t.true(Math.abs((line.count ?? NaN) - expected) < 1e-4, `${density}: count ${line.count} vs ${expected}`);
      if (density === 'none') {
        t.is(line.mapSum, undefined);
      } else {
        t.deepEqual([line.height, line.width], [6, 8]);
        t.true(Math.abs((line.mapSum ?? NaN) - expected) <= tolerance * expected, `${density}: map sum ${line.mapSum} vs ${expected}`);
      }
    }
  }

  const video = await runPython(['--server', `127.0.0.1:${port}`, '--token-file', tokenFile, '--video', SAMPLE_VIDEO, '--frames', '3']);
  t.is(video.code, 0, video.stderr);
  t.deepEqual(
    video.lines.map((l) => l.status),
    ['ok', 'ok', 'ok'],
    'frames read and encoded with OpenCV',
  );

  writeFileSync(tokenFile, creds.tokens.pi.slice(0, -3) + 'xyz');
  const wrong = await runPython(['--server', `127.0.0.1:${port}`, '--token-file', tokenFile, '--image', jpegFile]);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /server error 11 \(Unauthorized\)/);
  const missing = await runPython(['--server', `127.0.0.1:${port}`, '--image', jpegFile]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /requires a token/);
});

test('a hardened server (auth + TLS + legacy from one range) serves the Python client (token or certificate), the TS client and a legacy client; wrong CA and plain text refused', async (t) => {
  const dir = tempDir('crowdline-py-');
  const creds = await writeCredentials([{ name: 'pi' }, { name: 'pi-cert' }], dir);
  const pki = await makePki(dir, ['pi-cert']);
  const other = await makePki(tempDir('crowdline-pki-'));
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, creds.tokens.pi, { mode: 0o600 });
  const jpegFile = path.join(dir, 'frame.jpg');
  const jpeg = blockPatternJpeg(64, 48, 8);
  writeFileSync(jpegFile, jpeg);
  const { child, port, log } = await startServeProcess([
    ...oneWorkerServeArgs(knownAnswerModel().onnxPath),
    '--auth',
    creds.file,
    '--tls-cert',
    pki.serverCert,
    '--tls-key',
    pki.serverKey,
    '--tls-client-ca',
    pki.caCert,
    '--legacy',
    'allow-from',
    '127.0.0.1/32',
  ]);
  t.teardown(() => child.kill('SIGKILL'));
  await waitForLog(log, /WARNING: legacy protocol \(no authentication, no encryption\) allowed from 127\.0\.0\.1\/32/);
  const server = ['--server', `127.0.0.1:${port}`, '--image', jpegFile, '--frames', '4'];

  const withToken = await runPython([...server, '--tls', '--ca', pki.caCert, '--token-file', tokenFile]);
  t.is(withToken.code, 0, withToken.stderr);
  t.deepEqual(
    withToken.lines.map((l) => l.status),
    ['ok', 'ok', 'ok', 'ok'],
  );
  const withCert = await runPython([...server, '--tls', '--ca', pki.caCert, '--cert', pki.clients['pi-cert'].cert, '--key', pki.clients['pi-cert'].key]);
  t.is(withCert.code, 0, withCert.stderr);
  t.is(withCert.lines.length, 4);

  const wrongCa = await runPython([...server, '--tls', '--ca', other.caCert, '--token-file', tokenFile]);
  t.is(wrongCa.code, 3);
  t.regex(wrongCa.stderr, /certificate verify failed/);
  const plain = await runPython([...server, '--token-file', tokenFile]);
  t.is(plain.code, 2);
  t.regex(plain.stderr, /server error 12 \(TlsRequired\)/);

  const ts = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'ts', token: creds.tokens.pi, tls: { ca: readFileSync(pki.caCert) } });
  const results = collectResults(ts, 1);
  ts.send(jpeg);
  t.is((await results)[0].status, FrameStatus.Ok);
  ts.destroy();
  t.is((await legacyRoundTrip(port, jpeg)).values.length, 8 * 6);
});

test('the server killed and restarted mid-stream: the Python client reconnects and every frame is answered once, in order', async (t) => {
  const dir = tempDir('crowdline-py-');
  const jpegFile = path.join(dir, 'frame.jpg');
  writeFileSync(jpegFile, blockPatternJpeg(64, 48, 8));
  const model = knownAnswerModel().onnxPath;
  let server = await startServeProcess(oneWorkerServeArgs(model));
  const port = server.port;
  t.teardown(() => server.child.kill('SIGKILL'));
  const child = spawn(PYTHON, [SCRIPT, '--server', `127.0.0.1:${port}`, '--image', jpegFile, '--frames', '30', '--fps', '15', '--window', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.split('\n').length > 5) resolve();
    });
  });
  server.child.kill('SIGKILL');
  server = await startServeProcess(oneWorkerServeArgs(model, port));
  t.is(await exited, 0, stderr);
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
  t.deepEqual(
    lines.map((l) => l.frame),
    [...Array(30).keys()],
  );
  t.true(lines.every((l) => l.status === 'ok'));
  t.regex(stderr, /connection lost/);
});
