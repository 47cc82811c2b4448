/**
 * Which model `crowdline serve` loads when --model is not given: crowdline-v2
 * on a GPU host (--device cuda, or auto where the CUDA provider is
 * installed), where its 3 x the compute of v1 costs little and it counts
 * dense and sparse scenes better; crowdline-v1 on CPU hosts, where v2 takes
 * about 2.8 x as long per frame (models/README.md, "Which model crowdline
 * serve uses").
 */
import { existsSync } from 'node:fs';
import { cudaProviderLibrary } from '../workers/session.js';
import type { DeviceChoice } from '../workers/types.js';
import { modelPath } from './paths.js';

export const CPU_DEFAULT_MODEL = 'crowdline-v1';
export const GPU_DEFAULT_MODEL = 'crowdline-v2';

/** The short name of the default model for `device`; `cudaInstalled` decides `auto`. */
export function defaultModelName(device: DeviceChoice, cudaInstalled: boolean = existsSync(cudaProviderLibrary())): string {
  return device === 'cuda' || (device === 'auto' && cudaInstalled) ? GPU_DEFAULT_MODEL : CPU_DEFAULT_MODEL;
}

/** The model path serve uses: --model when given, else the device's default. */
export function serveModelPath(model: string | undefined, device: DeviceChoice): string {
  return model ?? modelPath(defaultModelName(device));
}
