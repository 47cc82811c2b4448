/** The recorder's Motion-JPEG AVI files open in OpenCV with every frame, across segments. */
import path from 'node:path';
import test from 'ava';
import { MjpegAviWriter } from '../client/record/avi-writer.js';
import { loadOpenCV } from '../client/opencv.js';
import { tempDir } from './helpers/server.js';

test('AVI segments: each file opens with its frames, in order', async (t) => {
  const cv = await loadOpenCV();
  const base = path.join(tempDir('crowdline-avi-'), 'cam.avi');
  const writer = new MjpegAviWriter(base, 64, 48, 25, 40_000);
  const frames = 30;
  for (let i = 0; i < frames; i++) {
    // Grey level encodes the frame number; noise keeps JPEGs a few kB so segments fill up.
    const pixels = Buffer.from(Array.from({ length: 48 * 64 * 3 }, () => i * 8 + Math.floor(Math.random() * 5)));
    writer.write(cv.imencode('.jpg', new cv.Mat(pixels, 48, 64, cv.CV_8UC3), [cv.IMWRITE_JPEG_QUALITY, 100]));
  }
  writer.close();
  t.true(writer.paths.length > 1, `expected several segments, got ${writer.paths.join(', ')}`);
  t.is(path.basename(writer.paths[1]), 'cam-2.avi');
  const levels: number[] = [];
  for (const file of writer.paths) {
    const capture = new cv.VideoCapture(file);
    t.is(capture.get(cv.CAP_PROP_FRAME_WIDTH), 64);
    t.is(capture.get(cv.CAP_PROP_FPS), 25);
    for (let frame = capture.read(); !frame.empty; frame = capture.read()) {
      const data = frame.getData();
      levels.push(data.reduce((sum, v) => sum + v, 0) / data.length);
    }
    capture.release();
  }
  t.is(levels.length, frames);
  // Mean grey (level + noise 0..4) identifies each frame.
  t.true(
    levels.every((v, i) => Math.abs(v - (i * 8 + 2)) <= 2),
    `grey levels ${levels.map((v) => v.toFixed(1)).join(' ')}`,
  );
});
