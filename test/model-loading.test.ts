/** --model errors are clear: missing file, not ONNX, manifest mismatch, CUDA absent. */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { resolveModel, validateManifest } from '../src/workers/manifest.js';
import { WorkerPool } from '../src/workers/pool.js';
import { cudaProviderLibrary } from '../src/workers/session.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const quiet = (): void => undefined;

test('a missing model file is named in the error', (t) => {
  t.throws(() => resolveModel('/nonexistent/model.onnx'), { message: /model file not found: \/nonexistent\/model\.onnx/ });
});

test('a model without a manifest beside it is refused', (t) => {
  const dir = tempDir();
  const { onnxPath } = knownAnswerModel();
  copyFileSync(onnxPath, path.join(dir, 'lonely.onnx'));
  t.throws(() => resolveModel(path.join(dir, 'lonely.onnx')), { message: /manifest not found: .*lonely\.json/ });
});

test('a file that is not ONNX is refused before any worker starts', (t) => {
  const { onnxPath } = knownAnswerModel();
  writeFileSync(onnxPath, 'PK\u0003\u0004 this is a zip, not a model');
  t.throws(() => resolveModel(onnxPath), { message: /is not an ONNX model/ });
});

test('manifest fields are validated with the field named', (t) => {
  const good = JSON.parse(readFileSync(knownAnswerModel().manifestPath, 'utf8')) as Record<string, unknown>;
  t.notThrows(() => validateManifest(good));
  t.throws(() => validateManifest({ ...good, schema: 'other' }), { message: /"schema"/ });
  const input = good.input as Record<string, unknown>;
  t.throws(() => validateManifest({ ...good, input: { ...input, channelOrder: 'YUV' } }), { message: /input\.channelOrder/ });
  t.throws(() => validateManifest({ ...good, input: { ...input, std: [0] } }), { message: /input\.std/ });
  t.throws(() => validateManifest({ ...good, output: { name: 'density', stride: 0 } }), { message: /output\.stride/ });
});

test('a graph whose input name does not match the manifest fails with both names', async (t) => {
  const model = knownAnswerModel();
  const manifest = JSON.parse(readFileSync(model.manifestPath, 'utf8')) as { input: { name: string } };
  manifest.input.name = 'pixels';
  writeFileSync(model.manifestPath, JSON.stringify(manifest));
  await t.throwsAsync(WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, intraOpThreads: 1, log: quiet }), {
    message: /input "pixels" not in the graph \(inputs: image\)/,
  });
});

test('a graph whose channel count contradicts the manifest fails', async (t) => {
  const model = knownAnswerModel({ channels: 3 });
  const manifest = JSON.parse(readFileSync(model.manifestPath, 'utf8')) as { input: Record<string, unknown> };
  Object.assign(manifest.input, { channelOrder: 'GRAY', mean: [0], std: [1] });
  writeFileSync(model.manifestPath, JSON.stringify(manifest));
  await t.throwsAsync(WorkerPool.start({ modelPath: model.onnxPath, device: 'cpu', workers: 1, intraOpThreads: 1, log: quiet }), {
    message: /has 3 channels, channelOrder GRAY means 1/,
  });
});

test('--device auto falls back to CPU with a log line; --device cuda fails clearly when CUDA is absent', async (t) => {
  const model = knownAnswerModel();
  const lines: string[] = [];
  const pool = await WorkerPool.start({ modelPath: model.onnxPath, device: 'auto', workers: 1, intraOpThreads: 1, log: (l) => lines.push(l) });
  t.teardown(() => pool.close());
  if (pool.provider === 'cuda') {
    t.log('this machine has the CUDA provider; fallback not exercised');
    t.pass();
    return;
  }
  t.is(pool.provider, 'cpu');
  t.true(
    lines.some((l) => /CUDA provider unavailable .*falling back to CPU/.test(l)),
    lines.join('\n'),
  );
  await t.throwsAsync(WorkerPool.start({ modelPath: model.onnxPath, device: 'cuda', workers: 1, intraOpThreads: 1, log: quiet }), {
    message: /--device cuda: the CUDA execution provider is not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/,
  });
  t.truthy(cudaProviderLibrary());
});
