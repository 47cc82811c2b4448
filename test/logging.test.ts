/**
 * The server's log as an operator uses it: a server started from a config
 * file and CROWDLINE_* variables writes JSON lines (stderr is not a
 * terminal) that can be filtered by camera; each connection has an opened
 * and a closed line; workers and totals have theirs; a terminal gets
 * readable lines with peer text escaped.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { V1Connection } from '../client/connection/connection.js';
import { createLogger, formatPretty, type LogFields } from '../src/log/logger.js';
import { isPrintableLine } from '../src/log/peer-text.js';
import { WorkerPool } from '../src/workers/pool.js';
import { CLI } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';

type Line = Record<string, unknown> & { msg: string; level: string; time: string };

test('JSON lines carry level, ISO time and fields; peer-chosen bidi characters are escaped', (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const { log, format } = createLogger({ format: 'auto', stream: out });
  t.is(format, 'json', 'not a terminal');
  log('connection opened', { event: 'connection-opened', camera: 'door\u202e1', frames: 3 });
  log('refused', { level: 'warn', event: 'refused' });
  const lines = text.trim().split('\n');
  t.is(lines.length, 2);
  t.true(lines.every(isPrintableLine), 'no raw bidi character on the line');
  const first = JSON.parse(lines[0]) as Line;
  t.is(first.camera, 'door\u202e1', 'the same value once parsed');
  t.is(first.level, 'info');
  t.is(first.frames, 3);
  t.is(first.msg, 'connection opened');
  t.regex(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is((JSON.parse(lines[1]) as Line).level, 'warn');
});

test('on a terminal: one readable line per record, peer text quoted and escaped', (t) => {
  const out = Object.assign(new PassThrough(), { isTTY: true });
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const { log, format } = createLogger({ stream: out });
  t.is(format, 'pretty');
  log('connection closed', { event: 'connection-closed', camera: 'cam\n\x1b[2Jx', frames: 12, address: '10.0.0.5:50312' });
  t.regex(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}connection closed {2}camera="cam\\n\\u001b\[2Jx" frames=12 address=10\.0\.0\.5:50312\n$/);
  text = '';
  log('10.0.0.5:50312: connection closed after 12 frame(s)', { address: '10.0.0.5:50312', frames: 12, frames_ok: 1, duration_ms: 1200 });
  t.regex(text, /INFO {2}10\.0\.0\.5:50312: connection closed after 12 frame\(s\) {2}frames_ok=1 duration_ms=1200\n$/, 'what the message says is not repeated');
  t.is(formatPretty('not json'), 'not json\n');
});

function serveFromConfig(configFile: string, env: NodeJS.ProcessEnv): { lines: () => Line[]; raw: () => string; stop: () => void } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDLINE_')));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--no-console'], {
    env: { ...base, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let raw = '';
  child.stderr.on('data', (c: Buffer) => (raw += c.toString()));
  return {
    raw: () => raw,
    lines: () =>
      raw
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Line),
    stop: () => child.kill('SIGKILL'),
  };
}

async function until<T>(what: string, get: () => T | undefined, log: () => string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a server from server.yaml + CROWDLINE_* logs JSON lines an operator can filter by camera', async (t) => {
  const model = knownAnswerModel();
  const config = path.join(tempDir(), 'server.yaml');
  writeFileSync(config, [`model: ${model.onnxPath}`, 'port: 0', 'workers: 1', 'intra-op-threads: 1', 'log-totals-interval-ms: 300', ''].join('\n'));
  const server = serveFromConfig(config, { CROWDLINE_HOST: '127.0.0.1', CROWDLINE_DEVICE: 'cpu' });
  t.teardown(server.stop);
  const serving = await until('serving', () => server.lines().find((l) => l.event === 'serving'), server.raw);
  t.regex(String(serving.address), /^127\.0\.0\.1:\d+$/, 'host from CROWDLINE_HOST, port from the file');
  const port = Number(String(serving.address).split(':')[1]);

  const stream = async (camera: string, frames: number): Promise<void> => {
    const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: camera });
    const results = collectResults(conn, frames);
    for (let i = 0; i < frames; i++) conn.send(blockPatternJpeg(64, 48, 8, { salt: i }));
    await results;
    conn.destroy();
  };
  await Promise.all([stream('door', 3), stream('yard', 2)]);
  const byCamera = (camera: string): Line[] => server.lines().filter((l) => l.camera === camera);
  await until(
    'both closed lines',
    () => (['door', 'yard'].every((c) => byCamera(c).some((l) => l.event === 'connection-closed')) ? true : undefined),
    server.raw,
  );

  const door = byCamera('door');
  t.deepEqual(
    door.map((l) => l.event),
    ['connection-opened', 'connection-closed'],
    'the jq filter select(.camera=="door") finds exactly its lines',
  );
  const [opened, closed] = door;
  t.is(opened.protocol, 'v1');
  t.is(opened.level, 'info');
  t.regex(String(opened.address), /^127\.0\.0\.1:\d+$/);
  t.is(closed.address, opened.address);
  t.is(closed.frames, 3);
  t.is(closed.frames_ok, 3);
  t.is(typeof closed.duration_ms, 'number');
  t.is(byCamera('yard').find((l) => l.event === 'connection-closed')?.frames, 2);

  const ready = server.lines().filter((l) => l.event === 'worker-ready');
  t.is(ready.length, 1);
  t.is(ready[0].provider, 'cpu');
  // Totals every 300 ms (from the file): together they account for every frame.
  await until(
    'totals of all 5 frames',
    () =>
      server
        .lines()
        .filter((l) => l.event === 'totals')
        .reduce((n, l) => n + Number(l.frames_ok), 0) === 5
        ? true
        : undefined,
    server.raw,
  );
  const totals = server.lines().filter((l) => l.event === 'totals');
  t.is(
    totals.reduce((n, l) => n + Number(l.frames_received), 0),
    5,
  );
  t.true(totals.some((l) => Number(l.cameras) >= 1));
});

test("ONNX Runtime's own warnings stay out of the JSON log stream", async (t) => {
  // ONNX Runtime prints warnings straight to stderr, where the server's JSON lines go: on a host
  // without a CA bundle every worker printed one at start (found on a fresh Debian 12 machine). A
  // model with an unused initializer makes ONNX Runtime warn on any host, once per session.
  const model = knownAnswerModel({ unusedInitializer: true });
  const config = path.join(tempDir(), 'server.yaml');
  writeFileSync(config, [`model: ${model.onnxPath}`, 'port: 0', 'workers: 2', 'intra-op-threads: 1', ''].join('\n'));
  const server = serveFromConfig(config, { CROWDLINE_HOST: '127.0.0.1', CROWDLINE_DEVICE: 'cpu' });
  t.teardown(server.stop);
  const rawLines = (): string[] =>
    server
      .raw()
      .split('\n')
      .filter((l) => l.length > 0);
  const json = (l: string): Line | undefined => {
    try {
      return JSON.parse(l) as Line;
    } catch {
      return undefined;
    }
  };
  await until(
    'serving',
    () =>
      rawLines()
        .map(json)
        .find((l) => l?.event === 'serving'),
    server.raw,
  );
  t.is(
    rawLines()
      .map(json)
      .filter((l) => l?.event === 'worker-ready').length,
    2,
    'both sessions were created',
  );
  t.deepEqual(
    rawLines().filter((l) => json(l) === undefined),
    [],
    'every line on stderr is JSON',
  );
});

test('a worker that dies is logged, and so is its replacement', async (t) => {
  const lines: Array<[string, LogFields | undefined]> = [];
  const running = await startKnownAnswerServer(t, { log: (message, fields) => lines.push([message, fields]) });
  const ready = lines.find(([, f]) => f?.event === 'worker-ready');
  t.truthy(ready);
  await running.pool.threads[0].terminate();
  const deadline = Date.now() + 30_000;
  while (!lines.some(([, f]) => f?.event === 'worker-restarted') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const exited = lines.find(([, f]) => f?.event === 'worker-exited');
  t.truthy(exited, lines.map(([m]) => m).join('\n'));
  t.is(exited![1]?.level, 'error');
  const restarted = lines.find(([, f]) => f?.event === 'worker-restarted');
  t.truthy(restarted);
  t.regex(restarted![0], /^worker \d+: restarted, ready on cpu/);
});

test('--device auto on a host without CUDA: the fallback is logged once, not once per worker', async (t) => {
  const model = knownAnswerModel();
  const lines: string[] = [];
  const pool = await WorkerPool.start({ modelPath: model.onnxPath, device: 'auto', workers: 2, intraOpThreads: 1, log: (l) => lines.push(l) });
  t.teardown(() => pool.close());
  t.is(pool.provider, 'cpu', 'this host has no CUDA provider (see the brief)');
  t.is(lines.filter((l) => /CUDA provider unavailable/.test(l)).length, 1, lines.join('\n'));
  t.is(lines.filter((l) => /ready on cpu/.test(l)).length, 2);
});
