/**
 * Accuracy of a model through crowdline's own worker code (the same JPEG
 * decode, resize and normalisation as the server), so train/serve skew shows
 * up in the figures. Reads a split in the shared dataset layout:
 *   <split>/images/*.jpg and <split>/points.json ({ "file.jpg": [[x, y], ...] }).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { InputSizeLimits, InputSizePolicy } from '../src/workers/input-size.js';
import { WorkerPool } from '../src/workers/pool.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { type BandReport, DEFAULT_BAND_EDGES, densityBands } from './density-bands.js';

export interface EvaluateOptions {
  split: string;
  modelPath: string;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  inputSize?: { width: number; height: number };
  /** How each frame becomes network input (default fixed), and the bounds on native/tiled. */
  inputPolicy?: InputSizePolicy;
  inputSizeLimits?: Partial<InputSizeLimits>;
  /** Density band edges in people (default 100, 500). */
  bandEdges?: readonly number[];
  /** Skip the first n images (sorted by name) and take at most limit. */
  skip?: number;
  limit?: number;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

export interface ImageResult {
  file: string;
  truth: number;
  predicted: number;
  error: number;
  /** The worker's time on this image: decode + preprocessing, and inference (all its tiles). */
  decodeMs: number;
  inferMs: number;
}

export interface EvaluationReport {
  model: string;
  split: string;
  images: number;
  mae: number;
  rmse: number;
  /** Mean error (predicted - truth): positive means over-counting. */
  bias: number;
  meanTruth: number;
  msPerImage: number;
  inputPolicy: InputSizePolicy;
  /** Mean worker time per image (decode + preprocess, inference). */
  decodeMsPerImage: number;
  inferMsPerImage: number;
  /** Peak resident memory of the process (main thread + workers), MiB. */
  maxRssMiB: number;
  bands: BandReport[];
  results: ImageResult[];
}

export function readSplit(split: string): Array<{ file: string; truth: number }> {
  const pointsPath = path.join(split, 'points.json');
  const imagesDir = path.join(split, 'images');
  if (!existsSync(pointsPath)) throw new Error(`${pointsPath} not found (expected <split>/points.json and <split>/images/)`);
  const points = JSON.parse(readFileSync(pointsPath, 'utf8')) as Record<string, unknown>;
  const files = readdirSync(imagesDir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort(compareNatural);
  return files.map((file) => {
    const list = points[file];
    if (!Array.isArray(list)) throw new Error(`${pointsPath} has no points for ${file}`);
    return { file, truth: list.length };
  });
}

/** IMG_2 before IMG_10. */
function compareNatural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluationReport> {
  const all = readSplit(options.split);
  const skip = options.skip ?? 0;
  const chosen = all.slice(skip, options.limit === undefined ? undefined : skip + options.limit);
  if (chosen.length === 0) throw new Error(`no images selected from ${options.split}`);
  const pool = await WorkerPool.start({
    modelPath: options.modelPath,
    device: options.device,
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
    inputSize: options.inputSize,
    inputPolicy: options.inputPolicy,
    inputSizeLimits: options.inputSizeLimits,
    log: options.log ?? (() => undefined),
  });
  const results = new Array<ImageResult>(chosen.length);
  const started = performance.now();
  try {
    let next = 0;
    let done = 0;
    // One image per worker at a time, like the server with batching off.
    const lane = async (): Promise<void> => {
      while (next < chosen.length) {
        const i = next++;
        const { file, truth } = chosen[i];
        const jpeg = readFileSync(path.join(options.split, 'images', file));
        const batch = await pool.runBatch([jpeg]);
        const outcome = batch.outcomes[0];
        if (!outcome.ok) throw new Error(`${file}: ${outcome.reason}`);
        results[i] = { file, truth, predicted: outcome.count, error: outcome.count - truth, decodeMs: outcome.decodeUs / 1000, inferMs: batch.inferUs / 1000 };
        options.onProgress?.(++done, chosen.length);
      }
    };
    await Promise.all(Array.from({ length: pool.size }, lane));
  } finally {
    await pool.close();
  }
  const elapsed = performance.now() - started;
  const n = results.length;
  const mae = results.reduce((s, r) => s + Math.abs(r.error), 0) / n;
  const rmse = Math.sqrt(results.reduce((s, r) => s + r.error * r.error, 0) / n);
  const bias = results.reduce((s, r) => s + r.error, 0) / n;
  const meanTruth = results.reduce((s, r) => s + r.truth, 0) / n;
  return {
    model: options.modelPath,
    split: options.split,
    images: n,
    mae,
    rmse,
    bias,
    meanTruth,
    msPerImage: elapsed / n,
    inputPolicy: options.inputPolicy ?? 'fixed',
    decodeMsPerImage: results.reduce((s, r) => s + r.decodeMs, 0) / n,
    inferMsPerImage: results.reduce((s, r) => s + r.inferMs, 0) / n,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    bands: densityBands(results, options.bandEdges ?? DEFAULT_BAND_EDGES),
    results,
  };
}
