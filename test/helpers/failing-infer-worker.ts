/**
 * The real frame worker with failures injected into inference on a batch a
 * decode thread prepared (tensor slots), for tests. The inference worker
 * never sees the JPEG, only the decoded frames' sizes, so the marker is the
 * size: a frame 40 pixels wide makes the task throw; 24 wide makes the
 * worker thread exit mid-task (as a crash would).
 */
import realWorker from '../../src/workers/frame-worker.js';
import type { WorkerTask } from '../../src/workers/types.js';

const THROW_WIDTH = 40;
const EXIT_WIDTH = 24;

export default (async () => {
  const handler = await realWorker;
  return async (task: WorkerTask): Promise<unknown> => {
    if ('kind' in task && task.kind === 'infer') {
      for (const outcome of task.batch.outcomes) {
        if (!outcome.ok) continue;
        if (outcome.imageWidth === EXIT_WIDTH) process.exit(3);
        if (outcome.imageWidth === THROW_WIDTH) throw new Error('injected inference failure');
      }
    }
    return handler(task);
  };
})();
