/** The evaluate command reads the shared dataset layout and scores through the worker code. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { evaluate, readSplit } from '../models/evaluate.js';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

function makeSplit(images: number): string {
  const split = tempDir('crowdline-split-');
  mkdirSync(path.join(split, 'images'));
  const points: Record<string, number[][]> = {};
  for (let i = 0; i < images; i++) {
    const name = `IMG_${i + 1}.jpg`;
    writeFileSync(path.join(split, 'images', name), blockPatternJpeg(64, 48, 8, { salt: i }));
    points[name] = Array.from({ length: 10 + i }, (_, k) => [k, k]);
  }
  writeFileSync(path.join(split, 'points.json'), JSON.stringify(points));
  return split;
}

test('evaluate reports one result per image with errors against the point counts', async (t) => {
  const split = makeSplit(5);
  const report = await evaluate({ split, modelPath: knownAnswerModel().onnxPath, device: 'cpu', workers: 1, intraOpThreads: 1 });
  t.is(report.images, 5);
  t.is(report.results.length, 5);
  report.results.forEach((r, i) => {
    const expected = expectedBlockDensity(8, 6, i).reduce((a, b) => a + b, 0);
    t.is(r.file, `IMG_${i + 1}.jpg`);
    t.is(r.truth, 10 + i);
    t.true(Math.abs(r.predicted - expected) < 1e-3);
  });
  const mae = report.results.reduce((s, r) => s + Math.abs(r.predicted - r.truth), 0) / 5;
  t.true(Math.abs(report.mae - mae) < 1e-9);
  t.true(report.rmse >= report.mae);
});

test('skip and limit select by natural file order', async (t) => {
  const split = makeSplit(12);
  t.deepEqual(
    readSplit(split)
      .slice(0, 3)
      .map((e) => e.file),
    ['IMG_1.jpg', 'IMG_2.jpg', 'IMG_3.jpg'],
  );
  const report = await evaluate({ split, modelPath: knownAnswerModel().onnxPath, device: 'cpu', workers: 1, intraOpThreads: 1, skip: 9, limit: 2 });
  t.deepEqual(
    report.results.map((r) => r.file),
    ['IMG_10.jpg', 'IMG_11.jpg'],
  );
});

test('a split without points.json is a clear error', (t) => {
  t.throws(() => readSplit(tempDir()), { message: /points\.json not found/ });
});
