/**
 * Added cost per frame of zone computation on the server's main thread:
 * masked sums over the f32 density map, smoothing, alert rules and listener
 * fan-out (ZoneTracker.observe), per map size and number of zones; plus the
 * one-off cost of building the coverage masks for a new (map, frame) size.
 * Zones are quadrilaterals of about 1/6 of the frame each at varied places
 * and angles (cells cut by edges are clipped exactly).
 *
 *   node dist/bench/zone-cost.js [--frames 4000]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneTracker } from '../src/zones/zone-tracker.js';

const argv = yargs(hideBin(process.argv))
  .option('frames', { type: 'number', default: 4000, describe: 'frames timed per case, over all rounds (after a warm-up)' })
  .strict()
  .parseSync();

const FRAME = { width: 1280, height: 720 };
const MAPS = [
  { width: 96, height: 72 },
  { width: 240, height: 135 },
];
const ZONES = [1, 4, 16];

/** Zone i: a tilted quadrilateral, ~1/6 of the frame, placed on a 4x4 grid of positions. */
function siteYaml(zones: number): string {
  const lines = ['cameras:', '  cam:', `    width: ${FRAME.width}`, `    height: ${FRAME.height}`, '    zones:'];
  for (let i = 0; i < zones; i++) {
    const cx = FRAME.width * (0.2 + 0.2 * (i % 4)) + 7.3;
    const cy = FRAME.height * (0.2 + 0.2 * Math.floor(i / 4)) + 3.1;
    const w = FRAME.width * 0.2;
    const h = FRAME.height * 0.4;
    const poly = [
      [cx - w, cy - h * 0.8],
      [cx + w * 0.9, cy - h],
      [cx + w, cy + h * 0.7],
      [cx - w * 0.8, cy + h],
    ].map(([x, y]) => `[${x.toFixed(1)}, ${y.toFixed(1)}]`);
    lines.push(
      `      - name: z${i}`,
      `        polygon: [${poly.join(', ')}]`,
      '        capacity: 50',
      '        alerts:',
      '          - { level: warning, above: 20, for_s: 10, clear_below: 15 }',
      '          - { level: alarm, metric: occupancy, above: 0.9, for_s: 30, clear_below: 0.7 }',
    );
  }
  return lines.join('\n') + '\n';
}

function randomMap(size: { width: number; height: number }): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: size.width * size.height }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 0.02);
}

const ROUNDS = 5;
const rows: string[] = [];
rows.push(`| map | zones | mask build (first frame), ms | per frame, us | per zone per frame, us |`);
rows.push('| --- | --- | --- | --- | --- |');
for (const map of MAPS) {
  const density = { ...map, values: randomMap(map) };
  for (const zones of ZONES) {
    const site = siteYaml(zones);
    let sink = 0;
    // The machine may be shared: of ROUNDS rounds, the fastest is the cost of the work itself.
    let buildMs = Infinity;
    let perFrameUs = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      const tracker = new ZoneTracker(parseSiteFile(site));
      tracker.addListener({ reading: (r) => (sink += r.people) });
      const t0 = performance.now();
      tracker.observe('cam', 0, density, FRAME);
      buildMs = Math.min(buildMs, performance.now() - t0);
      for (let i = 1; i <= 200; i++) tracker.observe('cam', i * 40, density, FRAME);
      const t1 = performance.now();
      const n = Math.ceil(argv.frames / ROUNDS);
      for (let i = 0; i < n; i++) tracker.observe('cam', 20_000 + i * 40, density, FRAME);
      perFrameUs = Math.min(perFrameUs, ((performance.now() - t1) * 1000) / n);
    }
    rows.push(`| ${map.width}x${map.height} | ${zones} | ${buildMs.toFixed(2)} | ${perFrameUs.toFixed(1)} | ${(perFrameUs / zones).toFixed(1)} |`);
    if (!Number.isFinite(sink)) throw new Error('non-finite zone sum');
  }
}
process.stdout.write(
  `zone cost on ${os.cpus()[0]?.model ?? process.arch} x${os.availableParallelism()}, Node ${process.version}, frame ${FRAME.width}x${FRAME.height}, ` +
    `each zone ~1/6 of the frame, fastest of ${ROUNDS} rounds, load average ${os.loadavg()[0].toFixed(1)}\n${rows.join('\n')}\n`,
);
