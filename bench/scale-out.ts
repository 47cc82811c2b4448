/**
 * Aggregate frames/s for 1, 2, 3... crowdline servers behind HAProxy, in one
 * run on one machine: each point starts N servers (deploy/haproxy's config in
 * front), loads HAProxy's port with closed-loop cameras, and reads each
 * server's answered frames from its metrics. docs/deploy.md has the figures.
 *   node dist/bench/scale-out.js --servers 1 2 3 --cameras 8 --input-size 128x96
 */
import os from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_MODEL_PATH, SAMPLE_VIDEO } from '../src/app/paths.js';
import { framesOk, startFleet } from './fleet.js';
import { loadFrames } from './frames.js';
import { runLoad } from './load.js';

const argv = yargs(hideBin(process.argv))
  .option('servers', { type: 'number', array: true, default: [1, 2, 3], describe: 'fleet sizes to measure, in order' })
  .option('cameras', { type: 'number', default: 8 })
  .option('window', { type: 'number', default: 4, describe: 'frames in flight per camera (closed loop)' })
  .option('duration-s', { type: 'number', default: 10 })
  .option('warmup-s', { type: 'number', default: 2 })
  .option('model', { type: 'string', default: DEFAULT_MODEL_PATH })
  .option('device', { type: 'string', default: 'cpu' })
  .option('workers', { type: 'number', default: 1, describe: 'per server' })
  .option('input-size', { type: 'string', default: '128x96' })
  .option('source', { type: 'string', default: SAMPLE_VIDEO, describe: 'video, folder of .jpg, or one .jpg' })
  .option('frames', { type: 'number', default: 50 })
  .option('rounds', {
    type: 'number',
    default: 1,
    describe: "repeat the whole 1..N sequence, interleaved, and report each point's median (other load on a shared machine comes and goes)",
  })
  .strict()
  .parseSync();

interface Point {
  servers: number;
  framesPerS: number;
  perServer: number[];
  unanswered: number;
  duplicates: number;
  /** The whole machine's CPU busy over the load, in percent of all cores (other users' work included). */
  cpuBusy: number;
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const sum = times.user + times.nice + times.sys + times.irq + times.idle;
    total += sum;
    busy += sum - times.idle;
  }
  return { busy, total };
}

async function measure(servers: number, jpegs: Uint8Array[]): Promise<Point> {
  const fleet = await startFleet(servers, {
    model: argv.model,
    device: argv.device,
    workers: argv.workers,
    intraOpThreads: 1,
    inputSize: argv['input-size'],
    maxBatch: 1,
    maxBatchDelayMs: 0,
    overload: 'queue',
    window: argv.window,
  });
  try {
    const before = await Promise.all(fleet.servers.map(framesOk));
    const cpuBefore = cpuTimes();
    const load = await runLoad({
      host: '127.0.0.1',
      port: fleet.port,
      mode: 'closed',
      cameras: argv.cameras,
      window: argv.window,
      jpegs,
      warmupS: argv['warmup-s'],
      durationS: argv['duration-s'],
      cameraPrefix: `n${servers}-`,
    });
    const after = await Promise.all(fleet.servers.map(framesOk));
    const cpuAfter = cpuTimes();
    return {
      servers,
      framesPerS: Math.round((load.okInWindow / load.windowS) * 10) / 10,
      // Whole run (warm-up included): how HAProxy spread the cameras' work.
      perServer: after.map((n, i) => (n ?? 0) - (before[i] ?? 0)),
      unanswered: load.unanswered,
      duplicates: load.duplicates,
      cpuBusy: Math.round((100 * (cpuAfter.busy - cpuBefore.busy)) / (cpuAfter.total - cpuBefore.total)),
    };
  } finally {
    await fleet.stop();
  }
}

const frames = await loadFrames(argv.source, argv.frames);
process.stderr.write(
  `scale-out: ${argv.cameras} cameras (window ${argv.window}) through HAProxy; servers of ${argv.workers} worker(s), input ${argv['input-size']}; ` +
    `${frames.jpegs.length} frames ${frames.width}x${frames.height}; ${os.availableParallelism()} cores, shared by every server, HAProxy and the cameras\n`,
);
const rounds: Point[][] = argv.servers.map(() => []);
for (let round = 1; round <= argv.rounds; round++) {
  for (const [i, n] of argv.servers.entries()) {
    const point = await measure(n, frames.jpegs);
    process.stderr.write(`round ${round}: ${n} server(s): ${point.framesPerS} frames/s, CPU ${point.cpuBusy}%\n`);
    rounds[i].push(point);
  }
}
/** Each fleet size's median round by frames/s (the figures of one real run, not a blend). */
const points = rounds.map((runs) => [...runs].sort((a, b) => a.framesPerS - b.framesPerS)[Math.floor((runs.length - 1) / 2)]);
const base = points[0]?.framesPerS ?? 0;
process.stdout.write(
  '| servers | frames/s (median of rounds) | every round | vs first | frames answered per server | machine CPU busy | unanswered | duplicates |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n',
);
for (const [i, p] of points.entries()) {
  const all = rounds[i].map((r) => r.framesPerS).join(', ');
  process.stdout.write(
    `| ${p.servers} | ${p.framesPerS} | ${all} | ${base ? (p.framesPerS / base).toFixed(2) : '-'}x | ${p.perServer.join(' / ')} | ${p.cpuBusy}% | ${p.unanswered} | ${p.duplicates} |\n`,
  );
}
