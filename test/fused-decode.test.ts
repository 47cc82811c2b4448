/**
 * The fused decode + resize (native/decode-resize.c: libjpeg scanlines into
 * a ring of rows, each output row blended as soon as its source rows are
 * decoded) against the two-step path it replaces (TurboJPEG decode of the
 * whole image, then the JavaScript fixed-point loop): the same bytes,
 * exactly, on real frames of every kind a camera sends (1080p re-encodes of
 * the sample video, ShanghaiTech B, 4:4:4 / 4:2:2 / 4:2:0 / greyscale /
 * progressive JPEGs, odd sizes, up and down, RGB / BGR / GRAY); the same
 * verdict on truncated and bit-flipped JPEGs (an Error, never a crash); and
 * every argument it checks, attacked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { reencodeAt } from '../bench/host-path.js';
import { cutSampleVideo, runFfmpeg } from '../bench/sample-video.js';
import { SAMPLE_VIDEO } from '../src/app/paths.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import type { ChannelOrder, ModelManifest } from '../src/workers/manifest.js';
import { nativeResize } from '../src/workers/native-resize.js';
import { FramePreparer } from '../src/workers/prepare.js';
import { DecodeScratch, decodeJpeg, FrameDecodeError } from '../src/workers/jpeg-decode.js';
import { decodeBytesInto } from '../src/workers/preprocess.js';
import { resizeBytesInto } from '../src/workers/resize-bytes.js';
import { tempDir } from './helpers/server.js';

const SHB = path.resolve('../shared/datasets/shanghaitech-b/test/images');
const PYTHON = '/usr/bin/python3';

/** A uint8 model's manifest (NHWC bytes), in the given channel order. */
function bytesModel(order: ChannelOrder): ModelManifest {
  return {
    schema: 'crowdline.model-manifest/1',
    name: `bytes-${order}`,
    onnx: 'none.onnx',
    input: {
      name: 'image',
      layout: 'NHWC',
      elementType: 'uint8',
      channelOrder: order,
      pixelScale: 1,
      mean: order === 'GRAY' ? [0] : [0, 0, 0],
      std: order === 'GRAY' ? [1] : [1, 1, 1],
      preferredSize: { width: 768, height: 576 },
      sizeMultiple: 8,
    },
    output: { name: 'density', stride: 8, countScale: 1 },
  };
}

const channelsOf = (order: ChannelOrder): number => (order === 'GRAY' ? 1 : 3);

/** The two-step path: TurboJPEG decodes the whole image, the JavaScript loop resizes it. */
function twoStep(jpeg: Uint8Array, order: ChannelOrder, w: number, h: number): Uint8Array {
  const image = decodeJpeg(jpeg, bytesModel(order), DEFAULT_JPEG_LIMITS, new DecodeScratch());
  const out = new Uint8Array(w * h * channelsOf(order));
  resizeBytesInto(image, channelsOf(order), w, h, out, 0, 'js');
  return out;
}

function fused(jpeg: Uint8Array, order: ChannelOrder, w: number, h: number, offset = 0): Uint8Array {
  const out = new Uint8Array(offset + w * h * channelsOf(order)).fill(7);
  const done = decodeBytesInto(jpeg, bytesModel(order), DEFAULT_JPEG_LIMITS, new DecodeScratch(), w, h, out, offset, 'fused');
  if (!done.fused) throw new Error('not fused');
  return out;
}

/** Where two byte arrays first differ, and how many bytes do ('' when equal). */
function difference(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  let first = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      count++;
    }
  return count === 0 ? '' : `${count} bytes differ, first at ${first}: ${a[first]} vs ${b[first]}`;
}

/** Two real frames of the sample video, 60 apart, as JPEGs (ffmpeg). */
const vtestFrames = (): Buffer[] => cutSampleVideo(tempDir('crowdline-fused-'), { count: 2, every: 60, quality: 3 }, 60_000);

let subsampled: Array<[string, Buffer]> | undefined;
/** A frame of the sample video at an odd size in each chroma subsampling (and greyscale), by ffmpeg's encoder (made once). */
function subsampledFrames(): Array<[string, Buffer]> {
  subsampled ??= makeSubsampledFrames();
  return subsampled;
}
function makeSubsampledFrames(): Array<[string, Buffer]> {
  const dir = tempDir('crowdline-fused-');
  const kinds: Array<[string, string]> = [
    ['4:4:4', 'yuvj444p'],
    ['4:2:2', 'yuvj422p'],
    ['4:2:0', 'yuvj420p'],
    ['greyscale', 'gray'],
  ];
  return kinds.map(([name, pixFmt]) => {
    const file = path.join(dir, `${pixFmt}.jpg`);
    runFfmpeg(
      ['-i', SAMPLE_VIDEO, '-frames:v', '1', '-vf', 'scale=1023:767', '-pix_fmt', pixFmt, '-q:v', '2', file],
      'ffmpeg could not make the subsampled frame',
      60_000,
    );
    return [name, readFileSync(file)];
  });
}

const addon = nativeResize();
const hasFused = addon?.decodeResizeU8 !== undefined;

test('the addon is built with the fused decode + resize (scripts/setup.sh installs libjpeg62-turbo-dev)', (t) => {
  t.true(hasFused);
});

test('1080p camera frames (the sample video re-encoded at 1920x1080) -> 768x576: the same bytes as decode then resize, RGB, BGR and GRAY', (t) => {
  if (!hasFused) return t.fail('not built');
  const frames = reencodeAt(vtestFrames(), 1920, 1080, 85);
  for (const [i, frame] of frames.entries())
    for (const order of ['RGB', 'BGR', 'GRAY'] as const)
      t.is(difference(fused(frame, order, 768, 576), twoStep(frame, order, 768, 576)), '', `frame ${i} ${order}`);
});

test('ShanghaiTech B (1024x768, 4:2:0) down to 768x576, up to 1280x960, and to odd sizes: the same bytes', (t) => {
  if (!hasFused) return t.fail('not built');
  const files = existsSync(SHB)
    ? readdirSync(SHB)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .slice(0, 3)
    : [];
  if (files.length === 0) return t.pass('dataset not here');
  for (const file of files) {
    const jpeg = readFileSync(path.join(SHB, file));
    for (const [w, h] of [
      [768, 576],
      [1280, 960],
      [641, 359],
      [1, 1],
      [1024, 767],
      [1025, 768],
      [3, 2000],
    ])
      t.is(difference(fused(jpeg, 'RGB', w, h), twoStep(jpeg, 'RGB', w, h)), '', `${file} -> ${w}x${h}`);
  }
});

test('4:4:4, 4:2:2, 4:2:0 and greyscale JPEGs at an odd size (1023x767), every channel order: the same bytes', (t) => {
  if (!hasFused) return t.fail('not built');
  for (const [name, jpeg] of subsampledFrames())
    for (const order of ['RGB', 'BGR', 'GRAY'] as const)
      for (const [w, h] of [
        [768, 576],
        [1100, 800],
      ])
        t.is(difference(fused(jpeg, order, w, h), twoStep(jpeg, order, w, h)), '', `${name} ${order} -> ${w}x${h}`);
});

test('a progressive JPEG (OpenCV IMWRITE_JPEG_PROGRESSIVE): the same bytes', (t) => {
  if (!hasFused) return t.fail('not built');
  if (spawnSync(PYTHON, ['-c', 'import cv2'], { stdio: 'ignore' }).status !== 0) return t.pass('python3-opencv not installed');
  const file = path.join(tempDir('crowdline-fused-'), 'progressive.jpg');
  const script = `import cv2, sys\nc = cv2.VideoCapture(sys.argv[1])\nok, f = c.read()\nf = cv2.resize(f, (1280, 720))\nassert cv2.imwrite(sys.argv[2], f, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_QUALITY, 90])\n`;
  const made = spawnSync(PYTHON, ['-c', script, SAMPLE_VIDEO, file], { timeout: 60_000 });
  t.is(made.status, 0, made.stderr?.toString());
  const jpeg = readFileSync(file);
  t.true(jpeg.includes(Buffer.from([0xff, 0xc2])), 'the file has a progressive frame header (SOF2)');
  for (const order of ['RGB', 'BGR', 'GRAY'] as const) t.is(difference(fused(jpeg, order, 768, 576), twoStep(jpeg, order, 768, 576)), '', order);
});

test('the output lands at the offset given, and nothing outside its bytes is written', (t) => {
  if (!hasFused) return t.fail('not built');
  const jpeg = subsampledFrames()[0][1];
  const out = fused(jpeg, 'RGB', 64, 48, 5);
  t.deepEqual([...out.subarray(0, 5)], [7, 7, 7, 7, 7]);
  t.is(difference(out.subarray(5), twoStep(jpeg, 'RGB', 64, 48)), '');
});

/** Both paths' verdict on `bytes`: the output, or the error's class. */
function verdict(run: () => Uint8Array): { bytes?: Uint8Array; error?: string } {
  try {
    return { bytes: run() };
  } catch (err) {
    return { error: (err as Error).constructor.name };
  }
}

test('truncated JPEGs fail the frame with a FrameDecodeError, as decode then resize does, and the next frame decodes', (t) => {
  if (!hasFused) return t.fail('not built');
  const jpeg = reencodeAt(vtestFrames().slice(0, 1), 1920, 1080, 85)[0];
  const good = fused(jpeg, 'RGB', 768, 576);
  for (const keep of [0.2, 0.5, 0.9, 0.999]) {
    // Cut inside the scan and closed with an EOI marker, so the frame inspector passes it on to the decoder.
    const cut = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length * keep)), Buffer.from([0xff, 0xd9])]);
    const error = t.throws(() => fused(cut, 'RGB', 768, 576), { instanceOf: FrameDecodeError }, `kept ${keep}`);
    t.regex(error?.message ?? '', /^corrupt JPEG: .*libjpeg: (Corrupt JPEG data|Premature end of JPEG file)/);
    t.throws(() => twoStep(cut, 'RGB', 768, 576), { instanceOf: FrameDecodeError }, `two-step, kept ${keep}`);
  }
  t.is(difference(fused(jpeg, 'RGB', 768, 576), good), '', 'the process and the decoder still work');
});

test('bit-flipped JPEGs: the same verdict as decode then resize (both fail, or both give the same bytes); corrupt data fails', (t) => {
  if (!hasFused) return t.fail('not built');
  const source = subsampledFrames()[2][1]; // 4:2:0, 1023x767
  const scanStart = source.indexOf(Buffer.from([0xff, 0xda])) + 20;
  let seed = 15;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let decoderFailed = 0;
  const runs = 40;
  for (let r = 0; r < runs; r++) {
    const spoilt = Buffer.from(source);
    for (let k = 0; k < 4; k++) spoilt[scanStart + random(spoilt.length - 2 - scanStart)] ^= 1 << random(8);
    const a = verdict(() => fused(spoilt, 'RGB', 768, 576));
    const b = verdict(() => twoStep(spoilt, 'RGB', 768, 576));
    t.is(a.error, b.error, `run ${r}: the same verdict`);
    if (a.error === 'FrameDecodeError') decoderFailed++;
    if (a.bytes && b.bytes) t.is(difference(a.bytes, b.bytes), '', `run ${r}`);
  }
  t.true(decoderFailed > 0, 'some flips pass the frame inspector and hit data libjpeg reports as corrupt');
});

test('a JPEG whose header size is not the srcWidth x srcHeight passed is refused before anything is decoded', (t) => {
  const decodeResize = addon?.decodeResizeU8;
  if (!decodeResize) return t.fail('not built');
  const jpeg = subsampledFrames()[0][1]; // 1023x767
  const tables = (sw: number): [Int32Array, Int32Array] => [
    Int32Array.from({ length: 8 }, (_, i) => [0, 3, 2048, 0][i % 4]),
    Int32Array.from({ length: 8 }, (_, i) => [0, sw * 3, 2048, 0][i % 4]),
  ];
  const [xs, ys] = tables(1024);
  t.throws(() => decodeResize(jpeg, 0, xs, ys, new Uint8Array(12), 0, 2, 2, 1024, 767), { message: /header says 1023x767, the caller checked 1024x767/ });
  const [xs2, ys2] = tables(1023);
  t.notThrows(() => decodeResize(jpeg, 0, xs2, ys2, new Uint8Array(12), 0, 2, 2, 1023, 767));
});

/** Tables for a 4x3 RGB JPEG -> 2x2, to be broken one field at a time. */
function goodCall(jpeg: Uint8Array): Parameters<NonNullable<NonNullable<ReturnType<typeof nativeResize>>['decodeResizeU8']>> {
  const xTable = Int32Array.from([0, 3, 1024, 1024, 6, 9, 1024, 1024]);
  const yTable = Int32Array.from([0, 12, 2048, 0, 12, 24, 1024, 1024]);
  return [jpeg, 0, xTable, yTable, new Uint8Array(2 * 2 * 3), 0, 2, 2, 4, 3];
}

test('the fused call refuses every argument that would read or write outside its buffers, or rows out of order', (t) => {
  const decodeResize = addon?.decodeResizeU8;
  if (!decodeResize) return t.fail('not built');
  const dir = tempDir('crowdline-fused-');
  runFfmpeg(
    ['-f', 'lavfi', '-i', 'testsrc=size=4x3', '-frames:v', '1', '-pix_fmt', 'yuvj444p', path.join(dir, 'tiny.jpg')],
    'ffmpeg could not make the 4x3 JPEG',
    60_000,
  );
  const tiny = readFileSync(path.join(dir, 'tiny.jpg'));
  t.notThrows(() => decodeResize(...goodCall(tiny)));
  const attacks: Array<[string, (a: ReturnType<typeof goodCall>) => void, RegExp]> = [
    ['destination one byte short', (a) => (a[4] = new Uint8Array(11)), /sizes do not match/],
    ['destination offset past its end', (a) => (a[5] = 1), /sizes do not match/],
    ['column table for another width', (a) => (a[6] = 3), /sizes do not match/],
    ['row table for another height', (a) => (a[7] = 3), /sizes do not match/],
    ['column index past the row', (a) => (a[2][5] = 12), /column table/],
    ['negative column index', (a) => (a[2][0] = -3), /column table/],
    ['row offset past the image', (a) => (a[3][5] = 36), /row table out of range/],
    ['row offset not on a row start', (a) => (a[3][1] = 13), /row table out of range/],
    ['weights that could overflow 32 bits', (a) => (a[2][2] = 40000), /column table/],
    ['negative row weight', (a) => (a[3][2] = -1), /row table out of range/],
    ['channel order 3', (a) => (a[1] = 3 as 0), /channelOrder/],
    ['source width 0', (a) => (a[8] = 0), /sizes do not match/],
  ];
  for (const [name, spoil, message] of attacks) {
    const args = goodCall(tiny);
    spoil(args);
    t.throws(() => decodeResize(...args), { instanceOf: RangeError, message }, name);
  }
  // Rows read backwards past the ring (a table no bilinear resize makes) are refused, not read from stale memory.
  const tall = Buffer.from(subsampledFrames()[0][1]); // 1023x767
  const xs = Int32Array.from([0, 3, 2048, 0]);
  const backwards = Int32Array.from([700 * 1023 * 3, 700 * 1023 * 3, 2048, 0, 0, 0, 2048, 0]);
  t.throws(() => decodeResize(tall, 0, xs, backwards, new Uint8Array(6), 0, 1, 2, 1023, 767), { instanceOf: RangeError, message: /out of order/ });
  t.throws(() => (decodeResize as unknown as (...a: unknown[]) => void)(tall, 0, xs), { instanceOf: TypeError, message: /expected 10 arguments/ });
  const notJpeg = goodCall(Buffer.from('not a jpeg at all'));
  t.throws(() => decodeResize(...notJpeg), { instanceOf: Error, message: /libjpeg: Not a JPEG file/ });
});

test('FramePreparer (the server path) decodes and resizes in one pass: the same tensor, the resize costs no time of its own', (t) => {
  if (!hasFused) return t.fail('not built');
  const frames = reencodeAt(vtestFrames(), 1920, 1080, 85);
  const preparer = new FramePreparer(bytesModel('RGB'), 768, 576, DEFAULT_JPEG_LIMITS, true);
  const batch = preparer.prepare([frames[0], Buffer.from('corrupt'), frames[1]]);
  t.deepEqual(batch.good, [0, 2]);
  const input = new Uint8Array(batch.input, 0, 2 * 768 * 576 * 3);
  t.is(difference(input.subarray(0, 768 * 576 * 3), twoStep(frames[0], 'RGB', 768, 576)), '');
  t.is(difference(input.subarray(768 * 576 * 3), twoStep(frames[1], 'RGB', 768, 576)), '');
  for (const i of [0, 2]) {
    const outcome = batch.outcomes[i];
    t.true(outcome.ok && outcome.imageWidth === 1920 && outcome.imageHeight === 1080);
    t.is(outcome.preprocessUs, 0);
    t.true(outcome.decodeUs > 0);
  }
  t.false(batch.outcomes[1].ok);
});
