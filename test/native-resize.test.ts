/**
 * The native resize (native/resize.c) against the JavaScript loop it
 * replaces: bit-identical output on random sizes in both directions and
 * channel counts, and on real frames; every bound it checks, attacked; and
 * loading in several worker threads at once (the workers are threads).
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import { reencodeAt, rgbDecodeOnly } from '../bench/host-path.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { nativeResize, nativeResizeStatus } from '../src/workers/native-resize.js';
import { DecodeScratch, decodeJpeg, type DecodedImage } from '../src/workers/jpeg-decode.js';
import { resizeBytesInto } from '../src/workers/resize-bytes.js';

const SHB = path.resolve('../shared/datasets/shanghaitech-b/test/images');

function randomImage(width: number, height: number, channels: 1 | 3, seed: number): DecodedImage {
  const data = new Uint8Array(width * height * channels);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 255;
  }
  return { data, width, height, channels, inPlace: false };
}

function both(image: DecodedImage, width: number, height: number, offset = 0): { js: Uint8Array; native: Uint8Array } {
  const size = offset + width * height * image.channels;
  const js = new Uint8Array(size);
  const native = new Uint8Array(size);
  resizeBytesInto(image, image.channels, width, height, js, offset, 'js');
  resizeBytesInto(image, image.channels, width, height, native, offset, 'native');
  return { js, native };
}

test('the native resize is built and loaded (scripts/setup.sh builds it)', (t) => {
  t.regex(nativeResizeStatus(), /^native \((avx2|none)\)$/);
  t.truthy(nativeResize());
});

test('native and JavaScript loops give the same bytes: random sizes, up and down, 1 and 3 channels', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 70 }),
      fc.constantFrom<1 | 3>(1, 3),
      fc.integer({ min: 0, max: 7 }),
      fc.integer(),
      (sw, sh, dw, dh, channels, offset, seed) => {
        if (sw === dw && sh === dh) return; // identity: a copy, no loop
        const { js, native } = both(randomImage(sw, sh, channels, seed), dw, dh, offset);
        return Buffer.compare(Buffer.from(js), Buffer.from(native)) === 0;
      },
    ),
    { numRuns: 300, seed: 15 },
  );
  t.pass();
});

test('native and JavaScript loops give the same bytes on real frames (1080p and ShanghaiTech B down to 768x576, and up)', (t) => {
  const files = existsSync(SHB)
    ? readdirSync(SHB)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .slice(0, 2)
    : [];
  if (files.length === 0) return t.pass('dataset not here');
  const jpegs = files.map((f) => readFileSync(path.join(SHB, f)));
  const frames = [...jpegs, ...reencodeAt(jpegs.slice(0, 1), 1920, 1080, 85)];
  for (const frame of frames) {
    const image = decodeJpeg(frame, rgbDecodeOnly(), DEFAULT_JPEG_LIMITS, new DecodeScratch());
    for (const [w, h] of [
      [768, 576],
      [1280, 960],
      [641, 359],
    ]) {
      const { js, native } = both(image, w, h);
      t.true(Buffer.from(js).equals(Buffer.from(native)), `${image.width}x${image.height} -> ${w}x${h}`);
    }
  }
});

/** Tables as the JavaScript side builds them, for a 4x3 RGB -> 2x2 resize, to be broken one field at a time. */
function goodCall(): Parameters<NonNullable<ReturnType<typeof nativeResize>>['resizeBilinearU8']> {
  const src = new Uint8Array(4 * 3 * 3);
  const xTable = Int32Array.from([0, 3, 1024, 1024, 6, 9, 1024, 1024]);
  const yTable = Int32Array.from([0, 12, 2048, 0, 12, 24, 1024, 1024]);
  return [src, 4, 3, 3, xTable, yTable, new Uint8Array(2 * 2 * 3), 0, 2, 2];
}

test('the native resize refuses every argument that would read or write outside its buffers', (t) => {
  const addon = nativeResize();
  if (!addon) return t.fail('native resize not built');
  t.notThrows(() => addon.resizeBilinearU8(...goodCall()));
  const attacks: Array<[string, (a: ReturnType<typeof goodCall>) => void, RegExp]> = [
    ['destination one byte short', (a) => (a[6] = new Uint8Array(11)), /sizes do not match/],
    ['destination offset past its end', (a) => (a[7] = 1), /sizes do not match/],
    ['source shorter than width x height x channels', (a) => (a[2] = 4), /sizes do not match/],
    ['column table for another width', (a) => (a[8] = 3), /sizes do not match/],
    ['column index past the row', (a) => (a[4][5] = 12), /column table/],
    ['negative column index', (a) => (a[4][0] = -3), /column table/],
    ['row offset past the image', (a) => (a[5][5] = 36), /row table/],
    ['row offset not on a row start', (a) => (a[5][1] = 13), /row table/],
    ['weights that could overflow 32 bits', (a) => (a[4][2] = 40000), /column table/],
    ['negative row weight', (a) => (a[5][2] = -1), /row table/],
    ['5 channels', (a) => (a[3] = 5), /sizes do not match/],
  ];
  for (const [name, spoil, message] of attacks) {
    const args = goodCall();
    spoil(args);
    t.throws(() => addon.resizeBilinearU8(...args), { instanceOf: RangeError, message }, name);
  }
  const wrongType = goodCall() as unknown as unknown[];
  wrongType[0] = new Float32Array(36);
  t.throws(() => (addon.resizeBilinearU8 as (...a: unknown[]) => void)(...wrongType), { instanceOf: TypeError }, 'float source');
  t.throws(() => (addon.resizeBilinearU8 as (...a: unknown[]) => void)(...goodCall().slice(0, 9)), { instanceOf: TypeError }, '9 arguments');
});

/** Runs a resize of a random 333x211 RGB image to 128x96 in a worker thread, with `env`. */
function inWorker(env: NodeJS.ProcessEnv): Promise<{ status: string; bytes: Uint8Array }> {
  const here = new URL('.', import.meta.url).href;
  const source = `
    import { parentPort } from 'node:worker_threads';
    const { nativeResizeStatus } = await import(${JSON.stringify(new URL('../src/workers/native-resize.js', here).href)});
    const { resizeBytesInto } = await import(${JSON.stringify(new URL('../src/workers/resize-bytes.js', here).href)});
    const data = new Uint8Array(333 * 211 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const out = new Uint8Array(128 * 96 * 3);
    for (let r = 0; r < 20; r++) resizeBytesInto({ data, width: 333, height: 211, channels: 3, inPlace: false }, 3, 128, 96, out, 0);
    parentPort.postMessage({ status: nativeResizeStatus(), bytes: out });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { env });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('the addon loads and runs in several worker threads at once; CROWDLINE_NATIVE_RESIZE=0 falls back to the same bytes', async (t) => {
  const [a, b, c, off] = await Promise.all([
    inWorker(process.env),
    inWorker(process.env),
    inWorker(process.env),
    inWorker({ ...process.env, CROWDLINE_NATIVE_RESIZE: '0' }),
  ]);
  for (const r of [a, b, c]) t.regex(r.status, /^native/);
  t.regex(off.status, /disabled by CROWDLINE_NATIVE_RESIZE=0/);
  t.true(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)) && Buffer.from(a.bytes).equals(Buffer.from(c.bytes)));
  t.true(Buffer.from(a.bytes).equals(Buffer.from(off.bytes)), 'the JavaScript loop in a worker gives the same bytes');
});
