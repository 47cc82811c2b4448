/**
 * Added CPU per frame of counting lines at 768x576: the grey copy (in the
 * worker, from the network input), the flow over each line's window (in a
 * worker) and the flux accumulation (main thread), against the frame's own
 * decode + inference. Single thread, the fastest of `--rounds` rounds of
 * the sample video's first `--frames` frames (CPU time, not wall time: the
 * machine may be shared).
 *
 *   node dist/bench/line-cost.js [--frames 200] [--rounds 3] [--lines 3]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { addStepFlux } from '../src/lines/crossing-flux.js';
import { bandSamples, flowWindow } from '../src/lines/band.js';
import { cropGrey, DEFAULT_FLOW_OPTIONS, denseFlow } from '../src/lines/flow.js';
import { greyFromInput } from '../src/lines/grey.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { vtestFrames, vtestGroundTruth } from '../test/helpers/vtest-lines.js';

const argv = yargs(hideBin(process.argv))
  .option('frames', { type: 'number', default: 200 })
  .option('rounds', { type: 'number', default: 3 })
  .option('lines', { type: 'number', default: 3 })
  .strict()
  .parseSync();
const [count, rounds, lineCount] = [argv.frames, argv.rounds, argv.lines];

const cpuMs = (run: () => void): number => {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

const frames = await vtestFrames('crowdline-v2', count + 1);
const source = { width: 768, height: 576 };
const grey = { width: frames[0].grey.width, height: frames[0].grey.height };
const margin = DEFAULT_FLOW_OPTIONS.radius * 2 ** (DEFAULT_FLOW_OPTIONS.levels - 1) + 4;
const lines = vtestGroundTruth()
  .lines.slice(0, lineCount)
  .map((l) => {
    const samples = bandSamples(l.points, l.in, 40, source.width / grey.width);
    const window = flowWindow(samples, source, grey, margin);
    if (!window) throw new Error(`line ${l.name} is off the frame`);
    return { samples, window, net: new Float64Array(samples.bins), mass: new Float64Array(samples.bins) };
  });

// The grey copy's cost does not depend on the picture: any 768x576 RGB input.
const input = new Uint8Array(768 * 576 * 3).map((_, i) => (i * 2654435761) >>> 24);
let best = { grey: Infinity, flow: Infinity, flux: Infinity, fullFrameFlow: Infinity };
for (let r = 0; r < rounds; r++) {
  let flux = 0;
  const flow = cpuMs(() => {
    for (let t = 1; t <= count; t++) {
      for (const l of lines) {
        const w = l.window;
        // What a worker runs for a motion step: the flow, then each place's dominant motion.
        const [f] = runMotionJob({
          before: [cropGrey(frames[t - 1].grey.data, grey.width, w)],
          after: [cropGrey(frames[t].grey.data, grey.width, w)],
          windows: [w],
          greyWidth: grey.width,
          greyHeight: grey.height,
        });
        flux += cpuMs(() => addStepFlux(l.samples, { source, band: 40 }, f, frames[t - 1].density, frames[t].density, 0.1, l.net, l.mass));
      }
    }
  });
  const full = cpuMs(() => {
    for (let t = 1; t <= count; t++) denseFlow(frames[t - 1].grey.data, frames[t].grey.data, grey.width, grey.height);
  });
  const greyMs = cpuMs(() => {
    for (let t = 0; t < count; t++) greyFromInput(input, 0, 768, 576, { layout: 'NHWC' });
  });
  best = {
    grey: Math.min(best.grey, greyMs / count),
    flow: Math.min(best.flow, (flow - flux) / count),
    flux: Math.min(best.flux, flux / count),
    fullFrameFlow: Math.min(best.fullFrameFlow, full / count),
  };
}
console.log(
  `${count} frame pairs, ${lines.length} line(s), grey ${grey.width}x${grey.height}, windows ${lines.map((l) => `${l.window.width}x${l.window.height}`).join(', ')}`,
);
console.log(`grey copy (worker):          ${best.grey.toFixed(2)} ms CPU per frame`);
console.log(`flow over the line windows (with dominant motion): ${best.flow.toFixed(2)} ms CPU per frame`);
console.log(`flux accumulation:          ${best.flux.toFixed(3)} ms CPU per frame`);
console.log(`(flow over the whole grey frame, for comparison: ${best.fullFrameFlow.toFixed(2)} ms)`);
