/**
 * Line crossings on the sample video against the hand count
 * (test/fixtures/vtest-lines.json): the error per line and direction at the
 * native 10 fps, at 5 and 3.3 fps, and with frames dropped at random, for a
 * model. Prints a Markdown table (docs/zones.md quotes it).
 *
 *   node dist/bench/line-accuracy.js [--model crowdline-v2]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { LineTracker } from '../src/lines/line-tracker.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { vtestCamera, vtestFrames, vtestGroundTruth } from '../test/helpers/vtest-lines.js';

const { model } = yargs(hideBin(process.argv))
  .option('model', { type: 'string', default: 'crowdline-v2', describe: 'model name or path' })
  .strict()
  .parseSync();

const frames = await vtestFrames(model);
const truth = vtestGroundTruth().lines;
const camera = vtestCamera();

/** Deterministic drops (the same frames every run). */
function dropper(fraction: number): (t: number) => boolean {
  let seed = 12345;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 >= fraction;
  };
}

const runs: Array<[string, (t: number) => boolean]> = [
  ['10 fps (native)', () => true],
  ['5 fps', (t) => t % 2 === 0],
  ['3.3 fps', (t) => t % 3 === 0],
  ['10 fps, 20 % dropped', dropper(0.2)],
  ['10 fps, 40 % dropped', dropper(0.4)],
];

console.log(`model ${model}; truth: ${truth.map((l) => `${l.name} ${l.counts.in} in / ${l.counts.out} out`).join(', ')}\n`);
console.log(`| frames | ${truth.map((l) => `${l.name} in | ${l.name} out`).join(' | ')} | within target |`);
console.log(`| --- | ${truth.map(() => '--- | ---').join(' | ')} | --- |`);
for (const [label, keep] of runs) {
  const tracker = new LineTracker([camera], async (job) => runMotionJob(job));
  for (let t = 0; t < frames.length; t++) {
    if (!keep(t)) continue;
    tracker.observe(camera.name, 1, 1_000_000 + t * 100, frames[t].density, frames[t].grey, { width: 768, height: 576 });
    await tracker.settled();
  }
  tracker.flush(1_000_000 + frames.length * 100);
  const totals = tracker.totals(camera.name) ?? [];
  let within = 0;
  const cells = truth.flatMap((l) => {
    const got = totals.find((x) => x.name === l.name) ?? { in: Number.NaN, out: Number.NaN };
    return (['in', 'out'] as const).map((d) => {
      const err = got[d] - l.counts[d];
      if (Math.abs(err) <= Math.max(2, 0.15 * l.counts[d])) within++;
      return `${got[d].toFixed(1)} (${err >= 0 ? '+' : ''}${err.toFixed(1)})`;
    });
  });
  console.log(`| ${label} | ${cells.join(' | ')} | ${within} of ${cells.length} |`);
}
