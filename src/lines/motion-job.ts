/**
 * The worker's side of a motion step (line-tracker.ts): dense flow on each
 * window's pair of grey crops, then each place's dominant motion over the
 * flow's own window (flow.ts). Pure: the worker runs it on what the main
 * thread sent, tests and the bench call it directly.
 */
import { DEFAULT_FLOW_OPTIONS, denseFlow, dominantMotion, type FlowField } from './flow.js';
import type { MotionJob } from './line-tracker.js';

/** Bounds a job must meet before any pixel is touched (the main thread builds them, but a worker trusts nothing it can check). */
export function checkMotionJob(job: MotionJob): void {
  const n = job.windows.length;
  if (job.before.length !== n || job.after.length !== n) throw new RangeError('motion job: one pair of crops per window');
  for (let i = 0; i < n; i++) {
    const w = job.windows[i];
    const bytes = w.width * w.height;
    if (!(w.width >= 8 && w.height >= 8) || w.x < 0 || w.y < 0 || w.x + w.width > job.greyWidth || w.y + w.height > job.greyHeight) {
      throw new RangeError(`motion job: window ${i} ${w.width}x${w.height}+${w.x}+${w.y} is not inside the ${job.greyWidth}x${job.greyHeight} image`);
    }
    if (job.before[i].length !== bytes || job.after[i].length !== bytes) throw new RangeError(`motion job: crops of window ${i} must be ${bytes} bytes`);
  }
}

export function runMotionJob(job: MotionJob): FlowField[] {
  checkMotionJob(job);
  return job.windows.map((w, i) => {
    const field: FlowField = {
      ...denseFlow(job.before[i], job.after[i], w.width, w.height, DEFAULT_FLOW_OPTIONS),
      x0: w.x,
      y0: w.y,
      fullWidth: job.greyWidth,
      fullHeight: job.greyHeight,
    };
    dominantMotion(field, DEFAULT_FLOW_OPTIONS.radius);
    return field;
  });
}
