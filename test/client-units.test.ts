/** Small pieces of the camera client that need no OpenCV. */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { gridShape, letterbox, tileSize } from '../client/mosaic.js';
import { uniqueCameraNames } from '../client/run-client.js';
import { parseSource } from '../client/sources.js';
import { CameraStats, formatSummary, percentile } from '../client/summary.js';
import { tempDir } from './helpers/server.js';

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

test('camera names are short, unique and safe as file names', (t) => {
  t.deepEqual(uniqueCameraNames(['0', 'rtsp://user:pw@10.0.0.5:554/s', '/data/My Clip.mp4', '/data/My Clip.mp4']), [
    'cam0-dev0',
    'cam1-10_0_0_5',
    'cam2-My_Clip',
    'cam3-My_Clip',
  ]);
});

test('percentiles and summary', (t) => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  t.is(percentile(sorted, 50), 50);
  t.is(percentile(sorted, 99), 99);
  t.is(percentile([7], 90), 7);
  t.true(Number.isNaN(percentile([], 50)));
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
