/**
 * Piscina worker entry for the prepare pool: JPEG bytes in, the batch's
 * network input out (transferred). No session: these threads only decode.
 */
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { resolveModel } from './manifest.js';
import { FramePreparer } from './prepare.js';
import type { BatchTask, PrepareConfig } from './types.js';

const config = workerData as PrepareConfig;
const preparer = new FramePreparer(resolveModel(config.modelPath).manifest, config.inputWidth, config.inputHeight, config.imageLimits, false);

export default (task: BatchTask): unknown => {
  const prepared = preparer.prepare(task.jpegs.map((buffer) => new Uint8Array(buffer)), task.into);
  return move({ [transferableSymbol]: [prepared.input], [valueSymbol]: prepared });
};
