/**
 * The real frame worker with injected failures, for tests: a JPEG whose
 * comment says "crowdline-test:EXIT" (images.ts jpegWithComment) makes the
 * worker thread exit mid-task (as a crash would); "crowdline-test:THROW"
 * makes the task throw. Real JPEGs, so the main thread's screen lets them by.
 */
import realWorker from '../../src/workers/frame-worker.js';
import type { BatchTask } from '../../src/workers/types.js';

export default (async () => {
  const handler = await realWorker;
  return async (task: BatchTask): Promise<unknown> => {
    for (const buffer of task.jpegs) {
      const text = Buffer.from(buffer).toString('latin1');
      if (text.includes('crowdline-test:EXIT')) process.exit(3);
      if (text.includes('crowdline-test:THROW')) throw new Error('injected failure');
    }
    return handler(task);
  };
})();
