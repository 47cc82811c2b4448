/**
 * Issue 15's missed target (1920x1080 JPEG -> 768x576 network input <= 6.5
 * ms): our path (libjpeg-turbo decode, then the fixed-point bilinear on
 * bytes) against the library route, sharp (libvips: JPEG decode with
 * shrink-on-load where the scale allows, resize, raw RGB out), per frame.
 * sharp is NOT a dependency (it lost: docs/performance.md); this loads it
 * only when installed beside the project:
 *   npm install --no-save sharp@^0.35 && npm run build
 *   node dist/bench/resize-library.js [--frames 10] [--rounds 5] [--shb DIR]
 * sharp runs as our workers would use it: sharp.concurrency(1) (one libvips
 * thread per frame) and no cache. CPU time is the whole process's
 * (process.cpuUsage counts libvips' threads); the methods alternate within
 * each round so they share the machine's load.
 */
import os from 'node:os';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SAMPLE_VIDEO } from '../src/app/paths.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { DecodeScratch, decodeJpeg } from '../src/workers/jpeg-decode.js';
import { resizeBytesInto } from '../src/workers/resize-bytes.js';
import { loadFrames } from './frames.js';
import { reencodeAt, rgbDecodeOnly } from './host-path.js';

/** The part of sharp's API used here (it ships its own types, but is not installed with the project). */
interface SharpPipeline {
  resize(width: number, height: number, options: { fit: 'fill'; kernel: string }): SharpPipeline;
  removeAlpha(): SharpPipeline;
  raw(): SharpPipeline;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
}
interface Sharp {
  (input: Uint8Array, options: { limitInputPixels: number; sequentialRead: boolean; raw?: { width: number; height: number; channels: 3 } }): SharpPipeline;
  concurrency(threads: number): number;
  cache(enabled: boolean): unknown;
  versions: Record<string, string>;
}

const argv = yargs(hideBin(process.argv))
  .option('source', { type: 'string', default: SAMPLE_VIDEO, describe: 'video or folder of .jpg (the identity and 1080p cases)' })
  .option('frames', { type: 'number', default: 10 })
  .option('rounds', { type: 'number', default: 5 })
  .option('shb', {
    type: 'string',
    default: '../shared/datasets/shanghaitech-b/test/images',
    describe: 'folder of 1024x768 ShanghaiTech B images (skipped if absent)',
  })
  .option('kernel', { type: 'string', default: 'linear', describe: "sharp's resize kernel" })
  .option('width', { type: 'number', default: 768 })
  .option('height', { type: 'number', default: 576 })
  .strict()
  .parseSync();

async function loadSharp(): Promise<Sharp> {
  const name = 'sharp'; // not a dependency: resolved at run time only
  try {
    return ((await import(name)) as { default: Sharp }).default;
  } catch (err) {
    console.error(
      `sharp did not load (${(err as Error).message.split('\n')[0]}): npm install --no-save sharp@^0.35 (prebuilt binaries, no compiler), then rerun.`,
    );
    process.exit(2);
  }
}

const sharp = await loadSharp();
sharp.concurrency(1);
sharp.cache(false);

const { width, height } = argv;
const rgb = rgbDecodeOnly();
const scratch = new DecodeScratch();
const tensor = new Uint8Array(width * height * 3);
const target = { width, height, target: tensor };

type Method = (jpeg: Uint8Array) => Promise<void> | void;
const methods: Record<string, Method> = {
  'our decode': (jpeg) => void decodeJpeg(jpeg, rgb, DEFAULT_JPEG_LIMITS, scratch, target),
  'our decode + resize': (jpeg) => {
    const image = decodeJpeg(jpeg, rgb, DEFAULT_JPEG_LIMITS, scratch, target);
    resizeBytesInto(image, 3, width, height, tensor, 0);
  },
  'sharp decode only': async (jpeg) => {
    await sharp(jpeg, { limitInputPixels: DEFAULT_JPEG_LIMITS.maxPixels, sequentialRead: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  },
  'sharp decode + resize': async (jpeg) => void (await sharpResize(jpeg)),
  'our decode, sharp resize': async (jpeg) => void (await hybridResize(jpeg)),
};

/** libjpeg-turbo's decode (ours), then libvips' resize of the raw pixels. */
async function hybridResize(jpeg: Uint8Array): Promise<Buffer> {
  const image = decodeJpeg(jpeg, rgb, DEFAULT_JPEG_LIMITS, scratch);
  const { data } = await sharp(image.data, {
    limitInputPixels: DEFAULT_JPEG_LIMITS.maxPixels,
    sequentialRead: true,
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill', kernel: argv.kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

async function sharpResize(jpeg: Uint8Array): Promise<Buffer> {
  const { data, info } = await sharp(jpeg, { limitInputPixels: DEFAULT_JPEG_LIMITS.maxPixels, sequentialRead: true })
    .resize(width, height, { fit: 'fill', kernel: argv.kernel })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) throw new Error(`sharp gave ${info.width}x${info.height}x${info.channels}`);
  return data;
}

/** Mean |sharp - ours| in grey levels over the output (how far sharp's resampling is from what training saw). */
async function meanDifference(jpeg: Uint8Array): Promise<number> {
  const ours = new Uint8Array(width * height * 3);
  const image = decodeJpeg(jpeg, rgb, DEFAULT_JPEG_LIMITS, new DecodeScratch(), { width, height, target: ours });
  resizeBytesInto(image, 3, width, height, ours, 0);
  const theirs = await sharpResize(jpeg);
  let sum = 0;
  for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i] - theirs[i]);
  return sum / ours.length;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(name: string, jpegs: readonly Uint8Array[]): Promise<void> {
  for (const method of Object.values(methods)) for (const jpeg of jpegs.slice(0, 3)) await method(jpeg); // warm-up
  const cpu: Record<string, number> = {};
  const wall: Record<string, number[]> = {};
  for (let r = 0; r < argv.rounds; r++) {
    for (const [label, method] of Object.entries(methods)) {
      const c0 = cpuMs();
      for (const jpeg of jpegs) {
        const t0 = performance.now();
        await method(jpeg);
        (wall[label] ??= []).push(performance.now() - t0);
      }
      cpu[label] = (cpu[label] ?? 0) + cpuMs() - c0;
    }
  }
  const n = argv.rounds * jpegs.length;
  const first = decodeJpeg(jpegs[0], rgb, DEFAULT_JPEG_LIMITS, new DecodeScratch());
  const diffs: number[] = [];
  for (const jpeg of jpegs) diffs.push(await meanDifference(jpeg));
  console.log(
    `\n${name}: ${first.width}x${first.height} -> ${width}x${height}, ${n} frames each; sharp vs ours mean |difference| ${(diffs.reduce((a, b) => a + b, 0) / diffs.length).toFixed(2)} grey levels`,
  );
  for (const label of Object.keys(methods)) {
    console.log(`  ${label.padEnd(22)} CPU ${(cpu[label] / n).toFixed(2).padStart(6)} ms/frame   wall median ${median(wall[label]).toFixed(2).padStart(6)} ms`);
  }
}

const load = (): string =>
  os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ');
console.log(`sharp ${sharp.versions.sharp ?? '?'} (libvips ${sharp.versions.vips ?? '?'}), concurrency 1, kernel ${argv.kernel}; load average ${load()}`);
const frames = (await loadFrames(argv.source, argv.frames)).jpegs;
await measure('1080p camera (vtest re-encoded at 1920x1080, q85)', reencodeAt(frames, 1920, 1080, 85));
if (existsSync(argv.shb)) {
  const files = readdirSync(argv.shb)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, argv.frames);
  await measure(
    'ShanghaiTech B test',
    files.map((f) => readFileSync(path.join(argv.shb, f))),
  );
}
await measure('identity (vtest frames)', frames);
console.log(`\nload average at the end ${load()}`);
