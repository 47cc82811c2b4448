/**
 * Live network cameras made on this machine (ffmpeg serving the sample video
 * as MPEG-TS over TCP): killed, frozen, down at start. The real CLI runs in a
 * child process against a real server; everything is checked through what
 * it logs, records and prints, never through wall-clock timings.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { CSV_HEADER } from '../client/record/recorder.js';
import { RunningCli } from './helpers/cli.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';
import { StreamCamera } from './helpers/stream-camera.js';
import { haveFfmpeg } from '../bench/sample-video.js';

const declare = haveFfmpeg() ? test.serial : test.skip;

interface Row {
  camera: string;
  frame: number;
  timeMs: number;
  status: string;
}

function readRows(file: string): Row[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  // Polled while the client writes it: a header not yet complete means no rows yet.
  if (!text.includes('\n')) return [];
  const [header, ...lines] = text.split('\n');
  if (header !== CSV_HEADER) throw new Error(`unexpected CSV header: ${header}`);
  return lines
    .filter((l) => l.split(',').length === 7)
    .map((l) => {
      const [camera, frame, time, , , , status] = l.split(',');
      return { camera, frame: Number(frame), timeMs: Date.parse(time), status };
    });
}

/** `crowdline client --no-display ARGS`. */
const startClient = (t: ExecutionContext, args: string[]): RunningCli => new RunningCli(t, ['client', '--no-display', ...args]);

async function cameras(t: ExecutionContext, n: number): Promise<StreamCamera[]> {
  const list = await Promise.all(Array.from({ length: n }, () => StreamCamera.create()));
  for (const c of list) t.teardown(() => c.kill());
  return list;
}

const serverArgs = async (t: ExecutionContext): Promise<string[]> => {
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }) });
  return ['--server', `127.0.0.1:${server.address.port}`];
};

declare('camera killed and restarted mid-run: it comes back by itself and the CSV shows the gap', async (t) => {
  const [cam] = await cameras(t, 1);
  cam.start();
  const out = tempDir('crowdline-cam-');
  const csv = path.join(out, 'door.csv');
  const client = startClient(t, [...(await serverArgs(t)), '--source', `door=${cam.url}`, '--stall-timeout', '5', '--out', out]);
  await client.until('10 rows', () => readRows(csv).length >= 10);
  cam.kill();
  const rowsAtKill = readRows(csv).length;
  await client.until('the capture to notice', () => /door: stream broke or ended/.test(client.stderr));
  await new Promise((r) => setTimeout(r, 3000));
  cam.start();
  await client.until('the camera to come back', () => /door: camera back after/.test(client.stderr));
  await client.until('10 more rows', () => readRows(csv).length >= rowsAtKill + 10);
  client.signal('SIGTERM');
  t.is(await client.exited, 0, client.stderr);
  const rows = readRows(csv);
  t.true(rows.every((r) => r.camera === 'door'));
  t.deepEqual(
    rows.map((r) => r.frame),
    [...rows.map((r) => r.frame)].sort((a, b) => a - b),
    'frames in order',
  );
  // The camera was off for 3 s at least: one gap between rows covers that.
  const gaps = rows.slice(1).map((r, i) => r.timeMs - rows[i].timeMs);
  t.true(Math.max(...gaps) >= 3000, `largest gap ${Math.max(...gaps)} ms`);
  t.regex(client.stdout, /door \(tcp:\/\/127\.0\.0\.1:\d+\)/);
  t.regex(client.stdout, /recovered [1-9]\d* times/);
});

declare('camera frozen (SIGSTOP): the watchdog restarts it while the other camera keeps counting', async (t) => {
  const [frozen, healthy] = await cameras(t, 2);
  frozen.start();
  healthy.start();
  const out = tempDir('crowdline-cam-');
  const healthyCsv = path.join(out, 'hall.csv');
  const client = startClient(t, [
    ...(await serverArgs(t)),
    '--source',
    `gate=${frozen.url}`,
    '--source',
    `hall=${healthy.url}`,
    '--stall-timeout',
    '4',
    '--out',
    out,
  ]);
  await client.until('both cameras to record', () => readRows(path.join(out, 'gate.csv')).length >= 5 && readRows(healthyCsv).length >= 5);
  frozen.freeze();
  await client.until('the watchdog', () => /gate: no frame for 4 s \(stalled\); capture restarted/.test(client.stderr));
  const healthyAtWatchdog = readRows(healthyCsv).length;
  await client.until('the healthy camera to go on', () => readRows(healthyCsv).length >= healthyAtWatchdog + 10);
  t.false(/gate: camera back/.test(client.stderr), 'still frozen while the other camera counted on');
  frozen.thaw();
  await client.until('the frozen camera to come back', () => /gate: camera back after/.test(client.stderr));
  client.signal('SIGINT');
  t.is(await client.exited, 0, client.stderr);
  t.regex(client.stdout, /gate \(tcp:[^\n]*\n(?:[^\n]*\n)*?[^\n]*[1-9]\d* stalls\), recovered [1-9]/);
});

declare('a camera that is down at start is picked up when it comes up', async (t) => {
  const [cam] = await cameras(t, 1);
  const out = tempDir('crowdline-cam-');
  const csv = path.join(out, 'late.csv');
  const client = startClient(t, [...(await serverArgs(t)), '--source', `late=${cam.url}`, '--out', out]);
  await client.until('two failed opens', () => (client.stderr.match(/late: cannot open the camera/g) ?? []).length >= 2);
  t.is(readRows(csv).length, 0);
  cam.start();
  await client.until('frames from the late camera', () => readRows(csv).length >= 5);
  client.signal('SIGTERM');
  t.is(await client.exited, 0, client.stderr);
  t.regex(client.stderr, /late: cannot open the camera \(.*Connection refused.*\); reconnecting in [\d.]+ s \(attempt 1\)/);
  // When it first delivered is logged, and the time before counts as down (not as a recovery).
  const first = /\n(\S+) late: first frame ([\d.]+) s after the start\n/.exec(client.stderr);
  t.truthy(first, client.stderr);
  t.false(Number.isNaN(Date.parse(first![1])), `the line's time stamp: ${first![1]}`);
  t.true(Number(first![2]) > 0);
  const summary = /recovered (\d+) times, down ([\d.]+) s in all, longest outage ([\d.]+) s; first frame ([\d.]+) s after the start/.exec(client.stdout);
  t.truthy(summary, client.stdout);
  t.is(summary![1], '0');
  t.is(summary![4], first![2]);
  t.true(Number(summary![2]) >= Number(summary![4]), 'down at least until the first frame');
});

for (const format of ['mp4', 'avi'] as const) {
  declare(`SIGTERM mid-run (${format}): recordings finalised and playable, CSV complete, full summary`, async (t) => {
    const [cam] = await cameras(t, 1);
    cam.start();
    const out = tempDir('crowdline-cam-');
    const csv = path.join(out, 'yard.csv');
    const client = startClient(t, [...(await serverArgs(t)), '--source', `yard=${cam.url}`, '--out', out, '--record', format, '--segment-seconds', '2']);
    // Enough rows for more than one 2 s MP4 segment (the clip runs at 10 fps).
    await client.until('35 rows', () => readRows(csv).length >= 35);
    client.signal('SIGTERM');
    t.is(await client.exited, 0, client.stderr);
    t.regex(client.stderr, /received SIGTERM: stopping capture/);
    const videos = fs.readdirSync(out).filter((f) => (format === 'mp4' ? /^yard-\d{8}T\d{6}Z\.mp4$/ : /^yard\.avi$/).test(f));
    if (format === 'mp4') t.true(videos.length >= 2, `segments: ${videos.join(' ')}`);
    let frames = 0;
    for (const file of videos) {
      const probed = spawnFfprobe(path.join(out, file));
      t.is(probed.codec, format === 'mp4' ? 'h264' : 'mjpeg', file);
      t.true(probed.frames > 0, `${file}: ${probed.frames} frames`);
      frames += probed.frames;
    }
    const rows = readRows(csv);
    t.true(fs.readFileSync(csv, 'utf8').endsWith('\n'), 'the CSV ends with a whole row');
    t.is(frames, rows.length, 'every answered frame is in the recording');
    t.regex(client.stdout, /crowdline client summary/);
    t.regex(client.stdout, new RegExp(`yard \\(${cam.url.replace(/\./g, '\\.')}\\)\\n\\s+frames captured \\d+, sent \\d+, ok ${rows.length},`));
    t.regex(client.stdout, /camera stopped at the end; capture started 1 times/);
    t.true(client.stdout.includes(`wrote ${csv}`));
  });
}

/** Decodes the whole file (so a truncated MP4 fails) and counts its frames. */
function spawnFfprobe(file: string): { codec: string; frames: number } {
  const args = ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', file];
  const [codec, frames] = spawnSync('ffprobe', args, { timeout: 30_000 }).stdout.toString().trim().split(',');
  return { codec, frames: Number(frames) };
}
