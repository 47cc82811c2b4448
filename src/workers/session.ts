/**
 * ONNX Runtime session creation with execution-provider choice. `auto`
 * tries CUDA and falls back to CPU with a log line saying why; `cuda` fails
 * with instructions when the CUDA provider is not installed.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from './ort.js';
import { channelCount, ModelLoadError, type ModelSpec } from './manifest.js';
import type { DeviceChoice } from './types.js';

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: 'cuda' | 'cpu';
}

export const CUDA_INSTALL_HINT =
  'the CUDA execution provider is not installed: on a GPU host with CUDA 12 and cuDNN 9, run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (see README, "GPU hosts")';

function cpuOptions(intraOpThreads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
}

function cudaOptions(): ort.InferenceSession.SessionOptions {
  // One stream per session: parallelism on a GPU comes from several sessions
  // (workers) and from batching, not from intra-op threads.
  return {
    executionProviders: [{ name: 'cuda', deviceId: 0 }],
    // A missing CUDA provider is reported by our own fallback log line.
    logSeverityLevel: 4,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
}

/**
 * onnxruntime-node ships the CPU provider only; the CUDA provider libraries
 * are added by its install script on GPU hosts. Look before trying, so a
 * CPU machine gets one clear line instead of a native error dump.
 */
export function cudaProviderLibrary(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

export async function createSession(spec: ModelSpec, device: DeviceChoice, intraOpThreads: number, log: (line: string) => void): Promise<LoadedSession> {
  let session: ort.InferenceSession | undefined;
  let provider: 'cuda' | 'cpu' = 'cpu';
  if (device === 'cuda' || device === 'auto') {
    session = await tryCuda(spec, device, intraOpThreads, log);
    if (session) provider = 'cuda';
  }
  if (!session) {
    try {
      session = await ort.InferenceSession.create(spec.onnxPath, cpuOptions(intraOpThreads));
    } catch (err) {
      throw new ModelLoadError(`cannot load ${spec.onnxPath} as an ONNX model: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  checkGraphMatchesManifest(session, spec);
  return { session, provider };
}

/** A CUDA session, or undefined (logged) when `auto` must fall back to CPU. */
async function tryCuda(
  spec: ModelSpec,
  device: 'cuda' | 'auto',
  intraOpThreads: number,
  log: (line: string) => void,
): Promise<ort.InferenceSession | undefined> {
  const library = cudaProviderLibrary();
  let why: string;
  if (!existsSync(library)) {
    why = `not installed: no ${library}`;
  } else {
    try {
      return await ort.InferenceSession.create(spec.onnxPath, cudaOptions());
    } catch (err) {
      why = (err as Error).message.split('\n')[0];
    }
  }
  if (device === 'cuda') throw new ModelLoadError(`--device cuda: ${CUDA_INSTALL_HINT} (${why})`);
  log(`CUDA provider unavailable (${why}); falling back to CPU with ${intraOpThreads} intra-op thread(s)`);
  return undefined;
}

/** Names and channel count must agree with the manifest; fail loudly if not. */
export function checkGraphMatchesManifest(session: ort.InferenceSession, spec: ModelSpec): void {
  const { manifest, manifestPath } = spec;
  if (!session.inputNames.includes(manifest.input.name)) {
    throw new ModelLoadError(`${manifestPath}: input "${manifest.input.name}" not in the graph (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(manifest.output.name)) {
    throw new ModelLoadError(`${manifestPath}: output "${manifest.output.name}" not in the graph (outputs: ${session.outputNames.join(', ')})`);
  }
  const meta = session.inputMetadata.find((m) => m.name === manifest.input.name);
  if (meta && meta.isTensor) {
    const shape = meta.shape;
    const { layout, elementType } = manifest.input;
    if (shape.length !== 4) {
      throw new ModelLoadError(`${manifestPath}: input "${manifest.input.name}" has rank ${shape.length}, ${layout} needs 4`);
    }
    const channels = channelCount(manifest.input.channelOrder);
    const channelDim = layout === 'NHWC' ? shape[3] : shape[1];
    if (typeof channelDim === 'number' && channelDim !== channels) {
      throw new ModelLoadError(
        `${manifestPath}: input "${manifest.input.name}" has ${channelDim} channels, channelOrder ${manifest.input.channelOrder} means ${channels} (layout ${layout})`,
      );
    }
    if (meta.type !== elementType) {
      throw new ModelLoadError(`${manifestPath}: input "${manifest.input.name}" is ${meta.type}, the manifest's input.elementType says ${elementType}`);
    }
  }
}
