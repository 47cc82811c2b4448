/**
 * Scale-out: HAProxy (deploy/haproxy's template) in front of three
 * `crowdline serve` processes on 127.0.0.1; 8 file cameras and 1 live one
 * stream through it while one server is drained (SIGTERM) and another is
 * killed (SIGKILL). Every file frame is answered exactly once; the live
 * camera resumes within the stated bound; all three servers did work.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { CSV_HEADER } from '../client/record/recorder.js';
import { framesOk, startFleet } from '../bench/fleet.js';
import { serverStates } from '../bench/haproxy.js';
import { scrape } from '../bench/scrape.js';
import type { ChildServer } from '../bench/server-process.js';
import { RunningCli } from './helpers/cli.js';
import { readClientCsv, writeJpegFolder } from './helpers/frame-folder.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const FILE_CAMERAS = 8;
const FILE_FRAMES = 48;
const LIVE_FRAMES = 150;
const LIVE_FPS = 10;
/** The live camera's longest run of frames without an answer, in seconds of its stream: the stated bound. */
const LIVE_RESUME_BOUND_S = 10;

const csvRows = (file: string): Array<{ frame: number; status: string }> => readClientCsv(file, CSV_HEADER);

async function until(what: string, ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The server whose metrics have seen `camera` (each camera holds one connection). */
async function hosting(servers: ChildServer[], camera: string): Promise<number> {
  for (let i = 0; i < servers.length; i++) {
    const samples = await scrape(servers[i].metricsUrl).catch(() => new Map<string, number>());
    if (samples.has(`crowdline_camera_people{camera="${camera}"}`)) return i;
  }
  return -1;
}

test('HAProxy + 3 servers: drain one, kill one; every file frame exactly once, live resumes, work spread', async (t) => {
  t.timeout(300_000);
  const model = knownAnswerModel({ channels: 3, width: 96, height: 72 });
  const fleet = await startFleet(3, {
    model: model.onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 0,
    overload: 'queue',
    window: 4,
    // Longer than HAProxy's 2 s to notice (1 s checks, 2 failures).
    drainDelayMs: 3000,
  });
  t.teardown(() => fleet.stop());
  const files = writeJpegFolder(FILE_FRAMES);
  const live = writeJpegFolder(LIVE_FRAMES);
  const out = tempDir('crowdline-scale-out-');
  const server = `127.0.0.1:${fleet.port}`;
  const cameras = Array.from({ length: FILE_CAMERAS }, (_, i) => `cam${i + 1}`);
  const fileClient = new RunningCli(t, [
    'client',
    '--server',
    server,
    ...cameras.flatMap((c) => ['--source', `${c}=${files}`]),
    '--fps',
    '6',
    '--no-display',
    '--out',
    out,
  ]);
  const liveClient = new RunningCli(t, [
    'client',
    '--server',
    server,
    '--source',
    `live=${live}`,
    '--live',
    '--fps',
    String(LIVE_FPS),
    '--no-display',
    '--out',
    out,
  ]);

  // Last answered-ok count seen from each server (a killed one keeps its last figure).
  const answered = [0, 0, 0];
  const poll = async (): Promise<number> => {
    for (let i = 0; i < fleet.servers.length; i++) answered[i] = (await framesOk(fleet.servers[i])) ?? answered[i];
    return answered.reduce((a, b) => a + b, 0);
  };
  let liveServer = -1;
  await until('the live camera on a server', async () => (liveServer = await hosting(fleet.servers, 'live')) >= 0);
  const drained = (liveServer + 1) % 3;
  const total = FILE_CAMERAS * FILE_FRAMES;
  await until('a quarter of the file frames', async () => (await poll()) >= total / 4);
  fleet.servers[drained].signal('SIGTERM');
  await until('half of the file frames', async () => (await poll()) >= total / 2);
  fleet.servers[liveServer].signal('SIGKILL');
  const liveRowsAtKill = fs.existsSync(path.join(out, 'live.csv')) ? csvRows(path.join(out, 'live.csv')).length : 0;

  await until('HAProxy marking both servers down', async () => {
    const states = await serverStates(fleet.statsPort);
    return [drained, liveServer].every((i) => states.get(fleet.names[i])?.startsWith('DOWN'));
  });
  t.is(await fleet.servers[drained].exited, 'exit 0', 'the drained server finished and exited 0');
  t.is(await fleet.servers[liveServer].exited, 'SIGKILL');
  t.is(await fileClient.exited, 0, fileClient.stderr);
  t.is(await liveClient.exited, 0, liveClient.stderr);
  await poll();

  for (const camera of cameras) {
    const rows = csvRows(path.join(out, `${camera}.csv`));
    t.deepEqual(
      rows.map((r) => r.frame),
      [...Array(FILE_FRAMES).keys()],
      `${camera}: every frame exactly once, in order`,
    );
    t.true(
      rows.every((r) => r.status === 'ok'),
      camera,
    );
  }
  t.regex(fileClient.stdout, /reconnects [1-9]/, 'some file cameras moved to another server');

  // Live: frames after the kill were answered, and the longest run without an answer is within the bound.
  const liveOk = csvRows(path.join(out, 'live.csv'))
    .filter((r) => r.status === 'ok')
    .map((r) => r.frame);
  const longestGap = Math.max(...liveOk.slice(1).map((f, i) => f - liveOk[i]));
  t.true(csvRows(path.join(out, 'live.csv')).length > liveRowsAtKill, 'the live camera went on after its server was killed');
  t.true(liveOk[liveOk.length - 1] >= LIVE_FRAMES - LIVE_FPS, `live answered to its end (last ok frame ${liveOk[liveOk.length - 1]})`);
  t.true(longestGap <= LIVE_RESUME_BOUND_S * LIVE_FPS, `live camera's longest gap: ${longestGap} frames`);
  t.regex(liveClient.stderr, /reconnected to 127\.0\.0\.1/);

  t.true(
    answered.every((n) => n > 0),
    `frames answered per server: ${answered.join(', ')}`,
  );
  t.log(`frames answered per server: ${answered.join(', ')}; live camera's longest gap ${longestGap} frame(s) at ${LIVE_FPS} fps`);
  t.log(`live camera: ${/frames captured[^\n]*/.exec(liveClient.stdout)?.[0] ?? '?'}`);
});
