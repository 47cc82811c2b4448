/**
 * The sample video as the line tests need it: every frame's grey copy (as a
 * worker makes it) and density map (the model through the server's own
 * Inferencer, on the CPU), decoded once per test process with ffmpeg.
 * 795 frames x ~55 KB: about 44 MB held.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SAMPLE_VIDEO } from '../../src/app/paths.js';
import { greyFromInput, type GreyImage } from '../../src/lines/grey.js';
import type { CameraLines } from '../../src/lines/line-tracker.js';
import { DEFAULT_JPEG_LIMITS } from '../../src/workers/jpeg-inspect.js';
import { Inferencer } from '../../src/workers/infer.js';
import { resolveModel } from '../../src/workers/manifest.js';
import { modelPath } from '../../src/app/paths.js';

export const VTEST_WIDTH = 768;
export const VTEST_HEIGHT = 576;

export interface GroundTruthLine {
  name: string;
  points: Array<[number, number]>;
  in: 'left' | 'right';
  counts: { in: number; out: number };
  crossings: Array<{ frame: number; direction: 'in' | 'out'; note?: string }>;
}

export function vtestGroundTruth(): { lines: GroundTruthLine[] } {
  const file = fileURLToPath(new URL('../../../test/fixtures/vtest-lines.json', import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as { lines: GroundTruthLine[] };
}

export function vtestCamera(name = 'vtest'): CameraLines {
  return {
    name,
    reference: { width: VTEST_WIDTH, height: VTEST_HEIGHT },
    lines: vtestGroundTruth().lines.map((l, id) => ({ id, name: l.name, points: l.points, in: l.in })),
  };
}

export interface VtestFrame {
  grey: GreyImage;
  density: { width: number; height: number; values: Float32Array };
}

const cache = new Map<string, Promise<VtestFrame[]>>();

/** Every frame of vtest.avi (or the first `limit`) with `model`'s density map (cached per process). */
export function vtestFrames(model: string, limit = Number.POSITIVE_INFINITY): Promise<VtestFrame[]> {
  const key = `${model}/${limit}`;
  let frames = cache.get(key);
  if (!frames) {
    frames = decode(model, limit);
    cache.set(key, frames);
  }
  return frames;
}

async function decode(model: string, limit: number): Promise<VtestFrame[]> {
  const spec = resolveModel(modelPath(model));
  const inferencer = await Inferencer.load(
    { modelPath: spec.onnxPath, device: 'cpu', intraOpThreads: 1, inputWidth: VTEST_WIDTH, inputHeight: VTEST_HEIGHT, imageLimits: DEFAULT_JPEG_LIMITS },
    () => undefined,
  );
  if (spec.manifest.input.elementType !== 'uint8' || spec.manifest.input.layout !== 'NHWC' || spec.manifest.input.channelOrder === 'GRAY') {
    throw new Error(
      `vtest line tests feed raw RGB frames: ${model} wants ${spec.manifest.input.elementType} ${spec.manifest.input.layout} ${spec.manifest.input.channelOrder}`,
    );
  }
  const bytes = VTEST_WIDTH * VTEST_HEIGHT * 3;
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      SAMPLE_VIDEO,
      // Only the frames wanted: ffmpeg stops by itself.
      ...(Number.isFinite(limit) ? ['-frames:v', String(limit)] : []),
      '-f',
      'rawvideo',
      '-pix_fmt',
      spec.manifest.input.channelOrder === 'BGR' ? 'bgr24' : 'rgb24',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const frames: VtestFrame[] = [];
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= bytes && frames.length < limit) {
      const input = new Uint8Array(bytes);
      input.set(pending.subarray(0, bytes));
      pending = pending.subarray(bytes);
      const grey = greyFromInput(input, 0, VTEST_WIDTH, VTEST_HEIGHT, { layout: 'NHWC' });
      const result = await inferencer.run({
        input: input.buffer,
        good: [0],
        outcomes: [{ ok: true, count: 0, decodeUs: 0, height: 0, width: 0, densityOffset: 0 }],
        startedAtMs: 0,
      });
      const o = result.outcomes[0];
      if (!o.ok) throw new Error(`frame ${frames.length}: ${o.reason}`);
      frames.push({ grey, density: { width: o.width, height: o.height, values: result.densities.slice(0, o.width * o.height) } });
    }
    if (frames.length >= limit) break;
  }
  if (frames.length === 0) throw new Error(`ffmpeg gave no frames of ${SAMPLE_VIDEO}`);
  return frames;
}
