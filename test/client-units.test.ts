/** Small pieces of the camera client that need no OpenCV. */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { Backoff } from '../client/capture/backoff.js';
import type { StreamInput } from '../client/capture/stream-input.js';
import { CameraStream, SERVER_RETRY } from '../client/connection/camera-stream.js';
import type { CameraStreamOptions } from '../client/connection/stream-types.js';
import type { OpenCV } from '../client/opencv.js';
import { ClientCost } from '../client/run/cost.js';
import { DensityFormat } from '../src/framing/index.js';
import { gridShape, letterbox, tileSize } from '../client/display/mosaic.js';
import { parseSource } from '../client/capture/sources.js';
import { CameraStats, formatSummary } from '../client/run/summary.js';
import { tempDir } from './helpers/server.js';
import { freePort } from './helpers/stream-camera.js';

test('grid: near-square, one tile per camera', (t) => {
  t.deepEqual(gridShape(1), { cols: 1, rows: 1 });
  t.deepEqual(gridShape(2), { cols: 2, rows: 1 });
  t.deepEqual(gridShape(3), { cols: 2, rows: 2 });
  t.deepEqual(gridShape(4), { cols: 2, rows: 2 });
  t.deepEqual(gridShape(5), { cols: 3, rows: 2 });
  const four = tileSize(4, 1240, 930);
  t.true(four.width * 2 <= 1240 && four.height * 2 <= 930);
});

test('letterbox keeps the aspect ratio and centres the image', (t) => {
  const place = letterbox(800, 400, { x: 100, y: 0, width: 400, height: 300 });
  t.deepEqual(place, { x: 100, y: 50, width: 400, height: 200 });
});

test('sources: camera index, stream URL, folder, file', (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'clip.mp4'), '');
  t.is(parseSource('0').kind, 'camera');
  t.is(parseSource('rtsp://10.0.0.5:554/stream1').kind, 'stream');
  t.is(parseSource('http://cam/video.mjpg').kind, 'stream');
  t.is(parseSource(dir).kind, 'folder');
  t.is(parseSource(path.join(dir, 'clip.mp4')).kind, 'file');
  t.is(parseSource('/no/such/file.avi').kind, 'file');
});

test('latency percentiles come from a fixed-size histogram', (t) => {
  const stats = new CameraStats();
  for (let i = 1; i <= 100; i++) stats.recordOk(1, i, i);
  const s = stats.summary('x', 'x', []);
  t.is(s.latencyMs.p50, 50);
  t.is(s.latencyMs.p99, 99);
  t.is(s.latencyMs.max, 100);
  // Two hours of answers at 25 fps: nothing is kept per frame, the percentiles still come out.
  for (let i = 0; i < 200_000; i++) stats.recordOk(1, 1 + (i % 1000), 1000 + i);
  t.is(stats.summary('x', 'x', []).latencyMs.p50, 500);
  t.true(Number.isNaN(new CameraStats().summary('y', 'y', []).latencyMs.p50));
});

test('summary', (t) => {
  const stats = new CameraStats();
  stats.started(0);
  stats.recordOk(10, 40, 0);
  stats.recordOk(20, 60, 1000);
  stats.recordNotOk('dropped', 2000);
  const s = stats.summary('cam0-x', 'x.mp4', []);
  t.is(s.count.mean, 15);
  t.is(s.count.min, 10);
  t.is(s.count.max, 20);
  t.is(s.latencyMs.max, 60);
  t.is(s.dropped, 1);
  t.is(s.fps, 1.5);
  t.regex(formatSummary([s], 2000), /count mean 15\.0 min 10\.0 max 20\.0/);
});

test('server reconnect delays: exponential from 250 ms to 5 s, each scaled by a random 0.5..1, reset by a success', (t) => {
  const randoms = [0, 0.5, 0.999, 0, 0, 0, 0.25];
  const backoff = new Backoff({ ...SERVER_RETRY, random: () => randoms.shift() ?? 0 });
  t.deepEqual(
    Array.from({ length: 7 }, () => backoff.next()),
    [125, 375, 1000, 1000, 2000, 2500, 3125],
  );
  backoff.reset();
  t.is(backoff.next(), 125);
  // Over many draws the delays spread over the whole band instead of one instant.
  const spread = new Backoff(SERVER_RETRY);
  const firsts = Array.from({ length: 200 }, () => {
    spread.reset();
    return spread.next();
  });
  t.true(firsts.every((d) => d >= 125 && d <= 250));
  t.true(new Set(firsts).size > 50, `only ${new Set(firsts).size} distinct first delays`);
});

test('a camera that cannot reach the server retries on the jittered schedule', async (t) => {
  const lines: string[] = [];
  const retries = (): string[] => lines.filter((l) => l.includes('retrying in'));
  const port = await freePort();
  const input: StreamInput = { text: 'test', live: true, fps: 0, close: () => undefined };
  const options: CameraStreamOptions = {
    name: 'door',
    host: '127.0.0.1',
    port,
    densityFormat: DensityFormat.None,
    window: 0,
    jpegQuality: 80,
    maxWidth: 0,
    fps: 0,
    maxFrames: 0,
  };
  const events = { answer: () => undefined, captured: () => undefined, log: (line: string) => lines.push(line), wake: () => undefined };
  // OpenCV is not reached before a connection exists.
  const stream = new CameraStream({} as OpenCV, input, options, events, new ClientCost(), new Backoff({ ...SERVER_RETRY, random: () => 0 }));
  stream.start();
  while (retries().length < 3) await sleep(20);
  stream.abort();
  t.deepEqual(
    retries().map((l) => /retrying in ([\d.]+ s)/.exec(l)?.[1]),
    ['0.13 s', '0.25 s', '0.50 s'],
  );
  t.regex(retries()[0], /^door: cannot reach the server at 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); retrying in 0\.13 s$/);
});
