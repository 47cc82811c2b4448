/**
 * What fair queueing costs the main thread per frame: push + take + the
 * charge of its real cost, with every flow backlogged (the pick scans the
 * backlogged flows, so this is the worst case), against the FIFO it
 * replaced (push + shift).
 *
 *   node dist/bench/fair-queue-cost.js [--frames 2000000]
 */
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CostModel, FlowCost } from '../src/batcher/cost-model.js';
import { FairQueue } from '../src/batcher/fair-queue.js';

const argv = yargs(hideBin(process.argv)).option('frames', { type: 'number', default: 2_000_000, describe: 'frames per measurement' }).strict().parseSync();

/** `senders`: the connections are spread over this many senders (fair-queue groups); default one each. */
function fairNsPerFrame(flows: number, frames: number, senders = flows): number {
  const q = new FairQueue<number>();
  const model = new CostModel();
  const handles = Array.from({ length: flows }, (_, i) => ({
    flow: q.openFlow({ weight: 1 + ((i % senders) % 3), priority: 0, group: `s${i % senders}` }),
    cost: new FlowCost(),
  }));
  // Every flow backlogged with 4 frames (a window), as under overload.
  for (const h of handles) for (let k = 0; k < 4; k++) q.push(h.flow, k, model.estimate(h.cost, 442_368));
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const [item] = q.take(1);
    const h = handles[(item.flow.id - 1) % flows];
    const actual = 20_000 + (i % 7) * 1000;
    q.charge(item.flow, actual - item.cost);
    model.learn(h.cost, 442_368, actual - 20_000, 20_000);
    q.push(item.flow, item.value, model.estimate(h.cost, 442_368));
    sink += item.value;
  }
  const ns = ((performance.now() - t0) * 1e6) / frames;
  if (sink < 0) console.log(sink);
  return ns;
}

function fifoNsPerFrame(frames: number): number {
  const q: number[] = [];
  for (let k = 0; k < 256; k++) q.push(k);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const v = q.shift() as number;
    q.push(v);
    sink += v;
  }
  const ns = ((performance.now() - t0) * 1e6) / frames;
  if (sink < 0) console.log(sink);
  return ns;
}

// Warm-up, discarded: the first measurement would otherwise pay for the JIT.
fairNsPerFrame(64, Math.floor(argv.frames / 5), 8);
console.log('| scheduler | backlogged connections | senders | ns per frame (push + take + charge + learn) |');
console.log('| --- | --- | --- | --- |');
console.log(`| FIFO (before) | any | any | ${fifoNsPerFrame(argv.frames).toFixed(0)} |`);
for (const [flows, senders] of [
  [1, 1],
  [8, 8],
  [8, 1],
  [64, 64],
  [64, 8],
  [1024, 1024],
  [1024, 64],
]) {
  const frames = flows >= 1024 ? Math.floor(argv.frames / 20) : argv.frames;
  console.log(`| fair queue | ${flows} | ${senders} | ${fairNsPerFrame(flows, frames, senders).toFixed(0)} |`);
}
