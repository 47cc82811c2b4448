/**
 * The real frame worker with injected failures, for tests: a frame whose
 * bytes are "EXIT" makes the worker thread exit mid-task (as a crash would);
 * "THROW" makes the task throw.
 */
import realWorker from '../../src/workers/frame-worker.js';
import type { BatchTask } from '../../src/workers/types.js';

export default (async () => {
  const handler = await realWorker;
  return async (task: BatchTask): Promise<unknown> => {
    for (const buffer of task.jpegs) {
      const text = Buffer.from(buffer).toString('latin1');
      if (text === 'EXIT') process.exit(3);
      if (text === 'THROW') throw new Error('injected failure');
    }
    return handler(task);
  };
})();
