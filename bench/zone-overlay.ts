/**
 * Client cost of drawing zones (client/display/zone-overlay.ts) on one picture: the
 * sample site's zones (or N copies of them) on a recorded frame (768x576)
 * and on a window tile (the mosaic's 620x464 for one camera), main thread.
 *   node dist/bench/zone-overlay.js [--zones 2,8,32] [--runs 300]
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadOpenCV } from '../client/opencv.js';
import { drawZones, type ZoneView } from '../client/display/zone-overlay.js';
import { SAMPLE_SITE } from '../src/app/paths.js';
import type { ZoneDescription } from '../src/framing/index.js';
import { summarize } from './stats.js';

const argv = yargs(hideBin(process.argv))
  .option('zones', { type: 'string', default: '2,8,32', describe: 'comma-separated zone counts (the sample zones repeated)' })
  .option('runs', { type: 'number', default: 300 })
  .strict()
  .parseSync();

const cv = await loadOpenCV();
const site = parseYaml(fs.readFileSync(SAMPLE_SITE, 'utf8')) as {
  cameras: { vtest: { zones: Array<{ name: string; polygon: Array<[number, number]>; capacity?: number }> } };
};
const sample = site.cameras.vtest.zones;
const frame = new cv.Mat(576, 768, cv.CV_8UC3, [90, 110, 130]);
const sizes = [
  { what: 'recorded frame 768x576', width: 768, height: 576 },
  { what: 'window tile 620x464', width: 620, height: 464 },
];
console.log('| zones | picture | mean ms | p50 | p90 | p99 |');
console.log('|---|---|---|---|---|---|');
for (const n of argv.zones.split(',').map(Number)) {
  const zones: ZoneDescription[] = Array.from({ length: n }, (_, id) => ({
    id,
    ...sample[id % sample.length],
    name: `${sample[id % sample.length].name}-${id}`,
  }));
  const view: ZoneView = {
    zones: { type: 'zones', camera: 'vtest', width: 768, height: 576, zones },
    readings: zones.map((z) => ({ id: z.id, state: (z.id % 3) as 0 | 1 | 2, people: 3.2, smoothed: 3.1, occupancy: 0.5 })),
  };
  for (const size of sizes) {
    const picture = size.width === 768 ? frame : frame.resize(size.height, size.width);
    const times: number[] = [];
    for (let i = 0; i < argv.runs + 20; i++) {
      const target = picture.copy(); // drawing is in place; the copy is outside the timing
      const t0 = performance.now();
      drawZones(cv, target, view, { width: 768, height: 576 });
      if (i >= 20) times.push(performance.now() - t0);
    }
    const s = summarize(times);
    console.log(`| ${n} | ${size.what} | ${s.mean} | ${s.p50} | ${s.p90} | ${s.p99} |`);
  }
}
