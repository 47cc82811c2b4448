/**
 * Piscina worker entry. Loads the model once per worker (reporting readiness
 * to the pool), then runs batches: JPEGs (decoded here, the fused mode) or
 * batches a prepare worker already decoded into a tensor slot (inference
 * only). Results carry
 * the density buffer as a transferable, so maps are moved to the main
 * thread, not copied.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runMotionJob } from '../lines/motion-job.js';
import { FrameProcessor } from './frame-processor.js';
import { SlotInput } from './slot-input.js';
import { lowerThisThread } from './thread-nice.js';
import type { BatchResult, WorkerConfig, WorkerStatusMessage, WorkerTask } from './types.js';

const config = workerData as WorkerConfig;
// Log lines go to the pool, which owns the server's logger.
const log = (line: string): void => {
  const msg: WorkerStatusMessage = { kind: 'crowdline-worker-log', threadId, line };
  parentPort?.postMessage(msg);
};

async function init(): Promise<(task: WorkerTask) => Promise<unknown>> {
  // Before the session exists: ONNX Runtime's intra-op threads inherit this thread's priority.
  const niceProblem = lowerThisThread(config.niceIncrement ?? 0);
  if (niceProblem) log(niceProblem);
  const t0 = performance.now();
  let processor: FrameProcessor;
  try {
    processor = await FrameProcessor.load(config, log);
  } catch (err) {
    const msg: WorkerStatusMessage = { kind: 'crowdline-worker-failed', threadId, error: (err as Error).message };
    parentPort?.postMessage(msg);
    throw err;
  }
  // Once per thread: the slots' aliases are made here, never per batch.
  const slotInput = config.slots && new SlotInput(config.slots);
  if (slotInput?.mode === 'copy') log('tensor slots: copied into each batch (native addon not built: npm run build:native)');
  const loadMs = Math.round(performance.now() - t0);
  const ready: WorkerStatusMessage = { kind: 'crowdline-worker-ready', threadId, provider: processor.provider, loadMs };
  parentPort?.postMessage(ready);

  // Density maps and grey copies leave by transfer, not copy.
  const movable = (result: BatchResult) => {
    const greys = result.outcomes.flatMap((o) => (o.ok && o.grey ? [o.grey.data.buffer] : []));
    return move({ [transferableSymbol]: [result.densities.buffer, ...greys], [valueSymbol]: result });
  };
  return async (task: WorkerTask) => {
    if ('kind' in task && task.kind === 'motion') {
      const flows = runMotionJob(task.job);
      return move({ [transferableSymbol]: flows.flatMap((f) => [f.u.buffer, f.v.buffer]), [valueSymbol]: flows });
    }
    if ('kind' in task && task.kind === 'pure-inference') return processor.inferencer.pureInference(task.prepared, task.durationMs);
    if ('kind' in task) {
      // The tensor lies in a slot shared at start: only its index came in.
      if (!slotInput) throw new Error('this worker was started without tensor slots');
      return movable(await processor.inferencer.runFromSlot(task.batch, slotInput));
    }
    return movable(
      await processor.runBatch(
        task.jpegs.map((buffer) => new Uint8Array(buffer)),
        task.motion,
        task.policies,
      ),
    );
  };
}

export default init();
