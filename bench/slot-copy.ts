/**
 * What reading a tensor slot costs an inference worker without the native
 * alias (src/workers/slot-input.ts copy mode): one copy of a batch's input
 * out of a SharedArrayBuffer into the worker's own buffer, at 768x576x3,
 * uint8 and float32, batch 8 and 16. Median of 60 copies each.
 *   node dist/bench/slot-copy.js
 */
import { performance } from 'node:perf_hooks';
import { SlotInput } from '../src/workers/slot-input.js';

const FRAME = 768 * 576 * 3;
for (const [name, bytesPerFrame] of [
  ['uint8', FRAME],
  ['float32', FRAME * 4],
] as const) {
  for (const batch of [8, 16]) {
    const bytes = bytesPerFrame * batch;
    const slot = new SharedArrayBuffer(bytes);
    new Uint8Array(slot).fill(7);
    const input = new SlotInput([slot], null);
    const ms: number[] = [];
    for (let r = 0; r < 60; r++) {
      const t0 = performance.now();
      input.input(0, bytes);
      ms.push(performance.now() - t0);
    }
    const median = ms.sort((a, b) => a - b)[30];
    console.log(
      `${name} 768x576x3, batch ${batch}: ${(bytes / 1e6).toFixed(1)} MB, copy median ${median.toFixed(2)} ms (${(median / batch).toFixed(3)} ms a frame)`,
    );
  }
}
