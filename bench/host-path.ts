/**
 * The host's own per-frame work, measured apart from inference:
 *  - preprocessing cost: JPEG decode and preprocessing of the bench's frames
 *    at the network's size (identity) and of the same frames at 1920x1080,
 *    on this thread, through the worker code (uint8 fast path and float
 *    reference path side by side);
 *  - a simulated accelerator: the real decode threads (PreparePool, into
 *    tensor slots as in the server) feed a
 *    device model whose batch of N takes a + b*N ms (timers, no CPU), to
 *    show how many frames per second the host path sustains per core and
 *    whether it keeps such a device busy.
 */
import { performance } from 'node:perf_hooks';
import jpeg from '@julusian/jpeg-turbo';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { channelCount, networkInputSize, resolveModel, type ModelManifest } from '../src/workers/manifest.js';
import { DecodeScratch, decodeJpeg } from '../src/workers/jpeg-decode.js';
import { decodeBytesInto, type FastDecode } from '../src/workers/preprocess.js';
import { resizeBytesInto } from '../src/workers/resize-bytes.js';
import { resizeNormalizeInto } from '../src/workers/resize-float.js';
import { nativeResize, nativeResizeStatus } from '../src/workers/native-resize.js';
import { PreparePool } from '../src/workers/prepare-pool.js';
import { SPARE_TENSOR_SLOTS } from '../src/workers/pool.js';
import { frameInputBytes } from '../src/workers/prepare.js';
import { TensorSlots } from '../src/workers/tensor-slots.js';
import type { PreprocessCase, PreprocessingCost, SimulatedDeviceResult } from './report-types.js';
import { round } from './stats.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The frames upscaled to width x height (fixed-point bilinear) and re-encoded, as a camera of that size would send them. */
export function reencodeAt(jpegs: readonly Uint8Array[], width: number, height: number, quality: number): Uint8Array[] {
  const scratch = new DecodeScratch();
  const rgb = rgbDecodeOnly();
  return jpegs.map((bytes) => {
    const image = decodeJpeg(bytes, rgb, DEFAULT_JPEG_LIMITS, scratch);
    const out = Buffer.alloc(width * height * 3);
    resizeBytesInto(image, 3, width, height, out, 0);
    return jpeg.compressSync(out, { format: jpeg.FORMAT_RGB, width, height, quality });
  });
}

/** Enough of a manifest to decode RGB bytes (the re-encoding needs no model). */
export function rgbDecodeOnly(): ModelManifest {
  return {
    schema: 'crowdline.model-manifest/1',
    name: 'decode-only',
    onnx: '-',
    input: {
      name: '-',
      layout: 'NCHW',
      elementType: 'float32',
      channelOrder: 'RGB',
      pixelScale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      preferredSize: { width: 1, height: 1 },
      sizeMultiple: 1,
    },
    output: { name: '-', stride: 1, countScale: 1 },
  };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Each step on its own over the frames, `rounds` times: decode alone (into
 * a reused buffer, or straight into the tensor where the fast path does),
 * then each path's preprocessing of the decoded images. Wall-clock medians,
 * and CPU time per frame (this process; nothing else of it runs here), which
 * holds on a machine other work keeps busy.
 */
function measureCase(name: string, jpegs: readonly Uint8Array[], manifest: ModelManifest, width: number, height: number, rounds: number): PreprocessCase {
  const channels = channelCount(manifest.input.channelOrder);
  const scratch = new DecodeScratch();
  const bytesOut = new Uint8Array(width * height * channels);
  const floatOut = new Float32Array(width * height * channels);
  const decodeWall: number[] = [];
  const fastWall: number[] = [];
  const jsLoopWall: number[] = [];
  const floatWall: number[] = [];
  const timed = (samples: number[], step: () => void): void => {
    const t0 = performance.now();
    step();
    samples.push(performance.now() - t0);
  };
  const target = { width, height, target: bytesOut };
  const c0 = cpuMs();
  for (let r = 0; r < rounds; r++) for (const frame of jpegs) timed(decodeWall, () => decodeJpeg(frame, manifest, DEFAULT_JPEG_LIMITS, scratch, target));
  const c1 = cpuMs();
  // The decoded images, kept, so each path's preprocessing is timed alone.
  const images = jpegs.map((frame) => {
    const image = decodeJpeg(frame, manifest, DEFAULT_JPEG_LIMITS, new DecodeScratch(), target);
    return image.inPlace ? { ...image, data: Uint8Array.from(image.data) } : image;
  });
  const c2 = cpuMs();
  for (let r = 0; r < rounds; r++) {
    for (const image of images) {
      // At identity size the decoder already wrote the tensor: the fast path has nothing left to do.
      const asServed = image.width === width && image.height === height ? { ...image, inPlace: true } : image;
      timed(fastWall, () => resizeBytesInto(asServed, channels, width, height, bytesOut, 0));
    }
  }
  const c3 = cpuMs();
  for (let r = 0; r < rounds; r++) for (const image of images) timed(floatWall, () => resizeNormalizeInto(image, manifest, width, height, floatOut, 0));
  const c4 = cpuMs();
  // The same fast path on the JavaScript loop (what runs where the native addon is not built).
  for (let r = 0; r < rounds; r++) {
    for (const image of images) {
      const asServed = image.width === width && image.height === height ? { ...image, inPlace: true } : image;
      timed(jsLoopWall, () => resizeBytesInto(asServed, channels, width, height, bytesOut, 0, 'js'));
    }
  }
  const c5 = cpuMs();
  const n = rounds * jpegs.length;
  const decodeCpu = (c1 - c0) / n;
  const fastCpu = (c3 - c2) / n;
  const identity = images.every((image) => image.width === width && image.height === height);
  const fused = identity || nativeResize()?.decodeResizeU8 === undefined ? undefined : measureFused(jpegs, manifest, width, height, rounds);
  return {
    name,
    from: `${images[0]?.width ?? 0}x${images[0]?.height ?? 0}`,
    to: `${width}x${height}`,
    frames: n,
    decodeMs: round(median(decodeWall)),
    fastPreprocessMs: round(median(fastWall)),
    resizeLoop: channels === 3 || channels === 1 ? nativeResizeStatus() : 'js',
    jsLoopPreprocessMs: round(median(jsLoopWall)),
    floatPreprocessMs: round(median(floatWall)),
    fastTotalMs: fused ? fused.wallMs.fused : round(median(decodeWall) + median(fastWall)),
    cpuMs: {
      decode: round(decodeCpu),
      fastPreprocess: round(fastCpu),
      jsLoopPreprocess: round((c5 - c4) / n),
      floatPreprocess: round((c4 - c3) / n),
      fastTotal: fused ? fused.cpuMs.fused : round(decodeCpu + fastCpu),
    },
    servedPath: identity ? 'identity' : fused ? 'fused' : 'two-step',
    ...(fused ? { fused } : {}),
  };
}

/**
 * The server's path for frames that need resizing (decode + resize in one
 * native call) against the two it replaced (decode alone; decode, then
 * resize), alternated frame by frame with the order rotated, so that all
 * three share whatever else the machine runs at that moment.
 */
function measureFused(
  jpegs: readonly Uint8Array[],
  manifest: ModelManifest,
  width: number,
  height: number,
  rounds: number,
): NonNullable<PreprocessCase['fused']> {
  const channels = channelCount(manifest.input.channelOrder);
  const scratch = new DecodeScratch();
  const out = new Uint8Array(width * height * channels);
  const wall = { decode: [] as number[], twoStep: [] as number[], fused: [] as number[] };
  const cpu = { decode: [] as number[], twoStep: [] as number[], fused: [] as number[] };
  const run = (frame: Uint8Array, how: FastDecode | 'decode'): void => {
    if (how === 'decode') decodeJpeg(frame, manifest, DEFAULT_JPEG_LIMITS, scratch);
    else decodeBytesInto(frame, manifest, DEFAULT_JPEG_LIMITS, scratch, width, height, out, 0, how);
  };
  const kinds: Array<['decode' | 'twoStep' | 'fused', FastDecode | 'decode']> = [
    ['decode', 'decode'],
    ['twoStep', 'two-step'],
    ['fused', 'fused'],
  ];
  let turn = 0;
  for (let r = 0; r < rounds; r++) {
    for (const frame of jpegs) {
      for (let k = 0; k < kinds.length; k++) {
        const [key, how] = kinds[(turn + k) % kinds.length];
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        run(frame, how);
        wall[key].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[key].push((c.user + c.system) / 1000);
      }
      turn++;
    }
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    frames: rounds * jpegs.length,
    wallMs: { decode: round(median(wall.decode)), twoStep: round(median(wall.twoStep)), fused: round(median(wall.fused)) },
    medianCpuMs: { decode: round(median(cpu.decode)), twoStep: round(median(cpu.twoStep)), fused: round(median(cpu.fused)) },
    cpuMs: {
      decode: round(sum(cpu.decode) / cpu.decode.length),
      twoStep: round(sum(cpu.twoStep) / cpu.twoStep.length),
      fused: round(sum(cpu.fused) / cpu.fused.length),
    },
  };
}

export function measurePreprocessing(options: {
  model: string;
  inputSize?: { width: number; height: number };
  jpegs: readonly Uint8Array[];
  hdJpegs: readonly Uint8Array[];
  rounds?: number;
}): PreprocessingCost {
  const manifest = resolveModel(options.model).manifest;
  const { width, height } = networkInputSize(manifest, options.inputSize);
  const rounds = options.rounds ?? 5;
  // One unmeasured pass: JIT and first-touch of the buffers.
  measureCase('warm-up', options.jpegs.slice(0, 5), manifest, width, height, 1);
  return {
    model: manifest.name,
    inputElementType: manifest.input.elementType,
    cases: [
      measureCase('bench frames', options.jpegs.slice(0, 20), manifest, width, height, rounds),
      measureCase('1920x1080 camera', options.hdJpegs, manifest, width, height, rounds),
    ],
  };
}

/** batch of N takes a + b*N ms on the simulated device. */
export interface DeviceModel {
  aMs: number;
  bMs: number;
}

/**
 * One device, one batch at a time (a CUDA stream's worth of work, queued),
 * its time spent on timers: the host's CPU stays free for decoding, as with
 * a real accelerator.
 */
class SimulatedDevice {
  busyMs = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly model: DeviceModel) {}

  run(frames: number): Promise<void> {
    const ms = this.model.aMs + this.model.bMs * frames;
    const done = this.tail.then(
      () =>
        new Promise<void>((resolve) => {
          this.busyMs += ms;
          setTimeout(resolve, ms);
        }),
    );
    this.tail = done;
    return done;
  }
}

export interface SimulatedDeviceOptions {
  model: string;
  inputSize?: { width: number; height: number };
  jpegs: readonly Uint8Array[];
  batch: number;
  decodeThreads: number;
  device: DeviceModel;
  durationS: number;
  cores: number;
}

/**
 * The decode threads prepare batches of `batch` frames, as many at once as
 * there are threads plus one waiting at the device (the server's
 * concurrency); each prepared batch then occupies the device for a + b*N ms.
 * Host frames/s per core: frames through the device per CPU second the whole
 * process spent (decode threads, hand-overs, this loop), which holds however
 * much else the machine runs; and per core of the machine, by wall clock.
 */
export async function measureSimulatedDevice(options: SimulatedDeviceOptions): Promise<SimulatedDeviceResult> {
  const spec = resolveModel(options.model);
  const { width, height } = networkInputSize(spec.manifest, options.inputSize);
  const lanes = options.decodeThreads + 1;
  // As the server sizes them: one slot per batch in flight, plus the spare.
  const slots = new TensorSlots(lanes + SPARE_TENSOR_SLOTS, options.batch, frameInputBytes(spec.manifest, width, height));
  const pool = PreparePool.start({
    modelPath: spec.manifestPath,
    inputWidth: width,
    inputHeight: height,
    imageLimits: DEFAULT_JPEG_LIMITS,
    threads: options.decodeThreads,
    slots,
  });
  const device = new SimulatedDevice(options.device);
  let next = 0;
  const take = (): Uint8Array[] => Array.from({ length: options.batch }, () => options.jpegs[next++ % options.jpegs.length]);
  try {
    // Warm the threads (first decodes allocate).
    await Promise.all(Array.from({ length: options.decodeThreads * 2 }, async () => pool.release((await pool.prepare(take())).slot)));
    let frames = 0;
    let failed = 0;
    const busyBefore = device.busyMs;
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + options.durationS * 1000;
    const lane = async (): Promise<void> => {
      while (performance.now() < end) {
        const prepared = await pool.prepare(take());
        try {
          await device.run(prepared.good.length);
        } finally {
          pool.release(prepared.slot); // the device is done reading it
        }
        frames += prepared.good.length;
        failed += prepared.outcomes.length - prepared.good.length;
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const fps = (frames / wallMs) * 1000;
    const deviceFps = (options.batch / (options.device.aMs + options.device.bMs * options.batch)) * 1000;
    return {
      batch: options.batch,
      decodeThreads: options.decodeThreads,
      device: options.device,
      deviceCapacityFps: round(deviceFps, 1),
      framesDone: frames,
      failed,
      durationS: round(wallMs / 1000),
      throughputFps: round(fps, 1),
      deviceBusy: round(Math.min(1, (device.busyMs - busyBefore) / wallMs), 3),
      cpuSeconds: round(cpuS),
      framesPerCpuSecond: round(frames / cpuS, 1),
      framesPerSecondPerCore: round(fps / options.cores, 1),
    };
  } finally {
    await pool.close();
  }
}
