/**
 * Piscina worker entry for the prepare pool: JPEG bytes in, the batch's
 * network input written into the tensor slot the task names (shared once,
 * in workerData), and only the outcomes out. No session: these threads only
 * decode.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { resolveModel } from './manifest.js';
import { FramePreparer } from './prepare.js';
import { lowerThisThread } from './thread-nice.js';
import type { PrepareConfig, PrepareTask, SlotBatch, WorkerStatusMessage } from './types.js';

const config = workerData as PrepareConfig;
// Bulk work, below the main thread (thread-nice.ts); a failure is the pool's to log.
const niceProblem = lowerThisThread(config.niceIncrement ?? 0);
if (niceProblem) parentPort?.postMessage({ kind: 'crowdline-worker-log', threadId, line: niceProblem } satisfies WorkerStatusMessage);
const preparer = new FramePreparer(resolveModel(config.modelPath).manifest, config.inputWidth, config.inputHeight, config.imageLimits, false);

export default (task: PrepareTask): SlotBatch => {
  const slot = config.slots[task.slot];
  if (!slot) throw new RangeError(`no tensor slot ${task.slot}`);
  const { good, outcomes, startedAtMs } = preparer.prepare(
    task.jpegs.map((buffer) => new Uint8Array(buffer)),
    slot,
    task.motion,
  );
  return { slot: task.slot, good, outcomes, startedAtMs };
};
