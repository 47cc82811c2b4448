/**
 * The whole path (JPEG -> decode -> resize -> normalise -> ONNX -> reply
 * framing) against exact numbers: the known-answer model's density is the
 * mean normalised grey level of each 8x8 block.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { DensityFormat, FrameStatus } from '../src/framing/index.js';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, startKnownAnswerServer } from './helpers/server.js';

const W = 64;
const H = 48;

async function runOne(
  t: import('ava').ExecutionContext,
  channels: 1 | 3,
  jpeg: Buffer,
  format: (typeof DensityFormat)[keyof typeof DensityFormat] = DensityFormat.Float32,
) {
  const running = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels, width: W, height: H }) });
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'ka', densityFormat: format });
  t.teardown(() => conn.destroy());
  t.is(conn.welcome.inputWidth, W);
  t.is(conn.welcome.inputHeight, H);
  t.is(conn.welcome.outputStride, 8);
  t.is(conn.welcome.modelName, 'known-answer');
  const results = collectResults(conn, 1);
  conn.send(jpeg, 1234.5);
  const [r] = await results;
  return r;
}

function assertDensity(t: import('ava').ExecutionContext, values: Float32Array, expected: Float32Array, tolerance: number): void {
  t.is(values.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
  t.true(worst <= tolerance, `largest deviation ${worst} > ${tolerance}`);
}

test('grey model: density equals the block grey levels exactly', async (t) => {
  const r = await runOne(t, 1, blockPatternJpeg(W, H, 8));
  t.is(r.status, FrameStatus.Ok);
  t.is(r.captureTimeMs, 1234.5);
  t.is(r.density?.height, H / 8);
  t.is(r.density?.width, W / 8);
  const expected = expectedBlockDensity(W / 8, H / 8);
  assertDensity(t, r.density!.values, expected, 1e-6);
  const sum = expected.reduce((a, b) => a + b, 0);
  t.true(Math.abs(r.count - sum) < 1e-4, `count ${r.count} vs ${sum}`);
  t.true(r.timings.inferUs > 0 && r.timings.decodeUs > 0 && r.timings.serverUs >= r.timings.inferUs);
});

test('colour model: RGB decode, channel mix and pooling give the same answer', async (t) => {
  const r = await runOne(t, 3, blockPatternJpeg(W, H, 8, { colour: true }));
  t.is(r.status, FrameStatus.Ok);
  // YCbCr round trip may move a grey level by one step.
  assertDensity(t, r.density!.values, expectedBlockDensity(W / 8, H / 8), 1.01 / 255);
});

test('frames larger than the input size are resized (bilinear) before the model', async (t) => {
  // 128x96 with 16x16 blocks halves exactly onto 64x48 with 8x8 blocks.
  const r = await runOne(t, 1, blockPatternJpeg(2 * W, 2 * H, 16));
  t.is(r.status, FrameStatus.Ok);
  t.is(r.density?.width, W / 8);
  assertDensity(t, r.density!.values, expectedBlockDensity(W / 8, H / 8), 1e-6);
});

test('float16 and 8-bit density formats carry the same map, count stays exact', async (t) => {
  const expected = expectedBlockDensity(W / 8, H / 8);
  const sum = expected.reduce((a, b) => a + b, 0);
  const f16 = await runOne(t, 1, blockPatternJpeg(W, H, 8), DensityFormat.Float16);
  assertDensity(t, f16.density!.values, expected, 1e-3);
  t.true(Math.abs(f16.count - sum) < 1e-4);
  const u8 = await runOne(t, 1, blockPatternJpeg(W, H, 8), DensityFormat.Uint8Scaled);
  assertDensity(t, u8.density!.values, expected, 1 / 255);
  t.true(Math.abs(u8.count - sum) < 1e-4);
});
