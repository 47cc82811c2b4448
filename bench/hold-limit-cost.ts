/**
 * What the hold limit costs the main thread per arriving frame in its worst
 * state: a worker free (kept for a camera that streams), and every waiting
 * frame long and of a sender that holds its share, so each arrival runs the
 * batcher's pump through every waiting connection of that sender, and each
 * check walks the senders the limit tracks (and, when the sender may
 * start, its tier of connections). Against the
 * same arrivals with every worker busy (the pump returns at once).
 *
 *   node dist/bench/hold-limit-cost.js [--frames 3200] [--greedy 16]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Batcher } from '../src/batcher/batcher.js';
import type { BatchRunner } from '../src/batcher/types.js';
import type { BatchResult } from '../src/workers/types.js';

const argv = yargs(hideBin(process.argv))
  .option('frames', { type: 'number', default: 3200, describe: 'arrivals measured per row' })
  .option('greedy', { type: 'number', default: 16, describe: "connections of the held sender (one address's limit)" })
  .strict()
  .parseSync();

/** Decode work that the cost model puts far over --long-frame-ms (the costliest legal JPEG). */
const LONG_WORK = 100_000_000;

/** Two workers whose batches finish when told. */
class HeldRunner implements BatchRunner {
  readonly size = 2;
  readonly pending: Array<() => void> = [];
  runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    return new Promise((resolve) =>
      this.pending.push(() =>
        resolve({
          outcomes: jpegs.map((_, i) => ({ ok: true, count: 0, decodeUs: 1_000_000, height: 1, width: 1, densityOffset: i })),
          densities: new Float32Array(jpegs.length),
          inferUs: 0,
          startedAtMs: 0,
          batchSize: jpegs.length,
        }),
      ),
    );
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const frame = new Uint8Array(1);

/** Microseconds of CPU per arrival of the held sender's frames, with `others` other senders tracked (a connection each). */
async function usPerArrival(others: number, busy: boolean): Promise<number> {
  const runner = new HeldRunner();
  const clock = { ms: 1_000_000 };
  const batcher = new Batcher(runner, { maxBatch: 1, maxDelayMs: 0, now: () => clock.ms });
  const finishAll = async (): Promise<void> => {
    while (runner.pending.length > 0) {
      runner.pending.shift()?.();
      await settle();
    }
  };
  // Other senders (a connection each) that have sent a frame: the limit tracks them.
  for (let i = 0; i < others; i++) {
    const flow = batcher.openFlow({ label: `o${i}`, group: `other-${i}`, weight: 1, priority: 0 });
    batcher.submit({ jpeg: frame, receivedAtMs: clock.ms }, flow, 0);
    await settle();
    await finishAll();
  }
  // A camera streaming at 10 fps: expected, so a worker is kept for it.
  const camera = batcher.openFlow({ label: 'camera', group: 'camera', weight: 1, priority: 0 });
  for (let i = 0; i < 3; i++) {
    batcher.submit({ jpeg: frame, receivedAtMs: clock.ms }, camera, 0);
    await settle();
    await finishAll();
    clock.ms += 100;
  }
  const greedy = Array.from({ length: argv.greedy }, (_, i) => batcher.openFlow({ label: `g${i}`, group: 'greedy', weight: 1, priority: 0 }));
  // Busy: a second long frame of another sender fills the worker kept for the camera, so no pump goes past its first test.
  if (busy) batcher.submit({ jpeg: frame, receivedAtMs: clock.ms }, batcher.openFlow({ label: 'filler', group: 'filler', weight: 1, priority: 0 }), LONG_WORK);
  batcher.submit({ jpeg: frame, receivedAtMs: clock.ms }, greedy[0], LONG_WORK);
  const start = process.cpuUsage();
  for (let n = 0; n < argv.frames; n++) batcher.submit({ jpeg: frame, receivedAtMs: clock.ms }, greedy[n % greedy.length], LONG_WORK);
  const used = process.cpuUsage(start);
  if (runner.pending.length !== (busy ? 2 : 1)) throw new Error(`expected ${busy ? 2 : 1} frames running, found ${runner.pending.length}`);
  return (used.user + used.system) / argv.frames;
}

// Warm-up: the first rounds pay for compiling the batcher.
for (let i = 0; i < 3; i++) await usPerArrival(64, i % 2 === 0);
console.log(
  `| other senders tracked (a connection each) besides the held one of ${argv.greedy} connections | us CPU per arrival, a worker kept free (held) | every worker busy |`,
);
console.log('| --- | --- | --- |');
for (const others of [0, 64, 256, 1024]) {
  // The better of two rounds of each.
  const held = Math.min(await usPerArrival(others, false), await usPerArrival(others, false));
  const busy = Math.min(await usPerArrival(others, true), await usPerArrival(others, true));
  console.log(`| ${others} | ${held.toFixed(1)} | ${busy.toFixed(1)} |`);
}
