/**
 * The camera client end to end: the real CLI (`crowdline client`) in a child
 * process against a real server on loopback, checked through what it records.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadOpenCV } from '../client/opencv.js';
import { CSV_HEADER } from '../client/record/recorder.js';
import { SAMPLE_VIDEO } from '../src/app/paths.js';
import type { ChildProcess } from 'node:child_process';
import { runCli, startServeProcess } from './helpers/cli.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';

/** A folder of numbered PNGs with a bright square that moves frame to frame. */
async function writeImageFolder(frames: number, width = 160, height = 120): Promise<string> {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-frames-');
  for (let i = 0; i < frames; i++) {
    const image = new cv.Mat(height, width, cv.CV_8UC3, [40, 40, 40]);
    const x = (i * 7) % (width - 32);
    image.drawRectangle(new cv.Point2(x, 40), new cv.Point2(x + 32, 72), new cv.Vec3(255, 255, 255), -1);
    cv.imwrite(path.join(dir, `frame-${i}.png`), image);
  }
  return dir;
}

interface CsvRecord {
  frame: number;
  count: number;
  status: string;
}

function readCsv(file: string): CsvRecord[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  if (header !== CSV_HEADER) throw new Error(`unexpected CSV header: ${header}`);
  return lines.map((line) => {
    const [, frame, , , count, , status] = line.split(',');
    return { frame: Number(frame), count: count === '' ? NaN : Number(count), status };
  });
}

async function videoFrames(file: string): Promise<number> {
  const cv = await loadOpenCV();
  const capture = new cv.VideoCapture(file);
  let n = 0;
  while (!capture.read().empty) n++;
  capture.release();
  return n;
}

function assertEveryFrameOnceInOrder(t: import('ava').ExecutionContext, rows: CsvRecord[], frames: number): void {
  t.deepEqual(
    rows.map((r) => r.frame),
    Array.from({ length: frames }, (_, i) => i),
  );
  for (const r of rows) {
    t.is(r.status, 'ok', `frame ${r.frame}`);
    t.true(Number.isFinite(r.count) && r.count > 0, `frame ${r.frame} count ${r.count}`);
  }
}

test('headless: a video and an image folder, every frame recorded once, in order, with a count', async (t) => {
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }) });
  const folder = await writeImageFolder(12);
  const out = tempDir('crowdline-out-');
  const run = await runCli([
    'client',
    '--server',
    `127.0.0.1:${server.address.port}`,
    '--source',
    SAMPLE_VIDEO,
    '--source',
    folder,
    '--max-frames',
    '20',
    '--no-display',
    '--out',
    out,
  ]);
  t.is(run.code, 0, run.stderr);
  const videoName = 'vtest';
  const folderName = path.basename(folder);
  assertEveryFrameOnceInOrder(t, readCsv(path.join(out, `${videoName}.csv`)), 20);
  assertEveryFrameOnceInOrder(t, readCsv(path.join(out, `${folderName}.csv`)), 12);
  t.is(await videoFrames(path.join(out, `${videoName}.avi`)), 20);
  t.is(await videoFrames(path.join(out, `${folderName}.avi`)), 12);
  t.regex(run.stdout, /crowdline client summary/);
  t.regex(run.stdout, /sent 20, ok 20/);
  t.regex(run.stdout, /sent 12, ok 12/);
  t.regex(run.stdout, /latency ms p50 [\d.]+ p90/);
  t.true(run.stdout.includes(`wrote ${path.join(out, `${videoName}.avi`)}`), run.stdout);
  t.true(run.stdout.includes(`wrote ${path.join(out, `${folderName}.csv`)}`), run.stdout);
});

test('a source that cannot be opened fails alone, named in the message', async (t) => {
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }) });
  const folder = await writeImageFolder(6);
  const out = tempDir('crowdline-out-');
  const missing = path.join(tempDir(), 'no-such-camera.mp4');
  const run = await runCli(['client', '--server', `127.0.0.1:${server.address.port}`, '--source', missing, '--source', folder, '--no-display', '--out', out]);
  t.is(run.code, 1, 'a failed source makes the exit status non-zero');
  t.true(run.stderr.includes(`cannot open source "${missing}"`), run.stderr);
  t.true(run.stdout.includes(`FAILED: cannot open source "${missing}"`), run.stdout);
  const folderCsv = fs.readdirSync(out).find((f) => f === `${path.basename(folder)}.csv`);
  t.truthy(folderCsv);
  assertEveryFrameOnceInOrder(t, readCsv(path.join(out, folderCsv!)), 6);
});

/** `crowdline serve` in a child process, so it can really be killed. */
function startServerProcess(modelPath: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  return startServeProcess(['--model', modelPath, '--device', 'cpu', '--workers', '1', '--intra-op-threads', '1', '--port', String(port)]);
}

test('server killed and restarted mid-stream: the client reconnects and goes on, no frame lost', async (t) => {
  const model = knownAnswerModel({ channels: 3, width: 96, height: 72 });
  let server = await startServerProcess(model.onnxPath, 0);
  const port = server.port;
  t.teardown(() => server.child.kill('SIGKILL'));
  const folder = await writeImageFolder(30);
  const out = tempDir('crowdline-out-');
  let killedAfterRows = 0;
  const run = await runCli(['client', '--server', `127.0.0.1:${port}`, '--source', folder, '--fps', '10', '--no-display', '--out', out], {
    onSpawn: () => {
      const csv = path.join(out, `${path.basename(folder)}.csv`);
      const poll = setInterval(() => {
        const rows = fs.existsSync(csv) ? fs.readFileSync(csv, 'utf8').trim().split('\n').length - 1 : 0;
        if (rows < 8) return;
        clearInterval(poll);
        killedAfterRows = rows;
        server.child.kill('SIGKILL');
        setTimeout(() => {
          startServerProcess(model.onnxPath, port).then(
            (s) => (server = s),
            (err: Error) => t.fail(err.message),
          );
        }, 1000);
      }, 50);
    },
  });
  t.is(run.code, 0, run.stderr);
  t.true(killedAfterRows >= 8 && killedAfterRows < 30, `killed after ${killedAfterRows} rows`);
  t.regex(run.stderr, /lost the server at 127\.0\.0\.1/);
  t.regex(run.stderr, /reconnected to 127\.0\.0\.1/);
  t.regex(run.stdout, /reconnects [1-9]/);
  const csvFile = fs.readdirSync(out).find((f) => f.endsWith('.csv'))!;
  assertEveryFrameOnceInOrder(t, readCsv(path.join(out, csvFile)), 30);
});
