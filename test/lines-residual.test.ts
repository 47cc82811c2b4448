/**
 * The consistency residual (src/lines/zone-residual.ts): which zones count
 * as closed by lines, and, on a synthetic scene with known truth (a
 * textured person with a density blob walking into a zone across the line
 * around it), that the zone's change minus the lines' net inflow is ~0
 * while the flow works and ~1 person when the flow misses the motion.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from 'prom-client';
import { setUpHistory } from '../src/app/history-setup.js';
import { setUpZones } from '../src/app/zones-setup.js';
import type { GreyImage } from '../src/lines/grey.js';
import { LineTracker, type MotionJob } from '../src/lines/line-tracker.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { closedZones, ZoneResidual } from '../src/lines/zone-residual.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneTracker } from '../src/zones/zone-tracker.js';
import { tempDir } from './helpers/server.js';

const W = 768;
const H = 576;
const GW = 192;
const GH = 144;
const MW = 96;
const MH = 72;

const site = (lines: string): ReturnType<typeof parseSiteFile> =>
  parseSiteFile(`
cameras:
  cam:
    width: ${W}
    height: ${H}
    zones:
      - { name: room, polygon: [[300, 150], [600, 150], [600, 450], [300, 450]] }
      - { name: elsewhere, polygon: [[10, 10], [100, 10], [100, 100]] }
    lines:
${lines}
`);

const RING = '      - { name: ring, points: [[300, 150], [600, 150], [600, 450], [300, 450], [300, 150]], in: right, band_px: 40 }';

test('a zone is closed when lines lying on its boundary cover all of it; each line is signed by where its "in" side is', (t) => {
  t.deepEqual(closedZones(site(RING).cameras.get('cam')!), [{ zone: 'room', lines: [{ line: 'ring', sign: 1 }] }]);
  t.deepEqual(closedZones(site(RING.replace('in: right', 'in: left')).cameras.get('cam')!), [{ zone: 'room', lines: [{ line: 'ring', sign: -1 }] }]);
  // Two lines, drawn by hand a pixel off: the door (walked upwards, its right is the room's inside) and the walls (their right is inside, "in" is left).
  const two = site(`      - { name: door, points: [[301, 450], [299, 150]], in: right }
      - { name: walls, points: [[300, 150], [600, 151], [600, 450], [300, 450]], in: left }`);
  t.deepEqual(closedZones(two.cameras.get('cam')!), [
    {
      zone: 'room',
      lines: [
        { line: 'door', sign: 1 },
        { line: 'walls', sign: -1 },
      ],
    },
  ]);
  // Only part of the boundary covered: not closed.
  t.deepEqual(closedZones(site('      - { name: door, points: [[300, 150], [300, 450]], in: right }').cameras.get('cam')!), []);
  // A line running past the zone counts crossings outside it: it closes nothing.
  const past = site(`      - { name: long, points: [[200, 150], [700, 150]], in: right }
      - { name: rest, points: [[600, 150], [600, 450], [300, 450], [300, 150]], in: left }`);
  t.deepEqual(closedZones(past.cameras.get('cam')!), []);
});

/** Deterministic texture that survives a 4x downscale (as test/lines-motion.test.ts). */
function texture(x: number, y: number, seed: number): number {
  const h = (a: number, b: number): number => {
    let n = (a * 374761393 + b * 668265263 + seed * 982451653) | 0;
    n = (n ^ (n >>> 13)) * 1274126177;
    return ((n ^ (n >>> 16)) >>> 0) / 4294967296;
  };
  return 60 + 140 * h(Math.floor(x / 2), Math.floor(y / 2));
}

/** The grey frame with a textured person at (x, y) (source pixels). */
function grey(x: number, y: number): GreyImage {
  const data = new Uint8Array(GW * GH).fill(120);
  const gx = x / 4;
  const gy = y / 4;
  for (let j = Math.floor(gy - 3); j < gy + 9; j++)
    for (let i = Math.floor(gx - 3); i < gx + 3; i++)
      if (i >= 0 && j >= 0 && i < GW && j < GH) data[j * GW + i] = Math.round(texture(i - gx + 100, j - gy + 100, 7));
  return { width: GW, height: GH, data };
}

/** The density map: one person, a Gaussian blob (sigma one cell) at (x, y). */
function density(x: number, y: number): { width: number; height: number; values: Float32Array } {
  const values = new Float32Array(MW * MH);
  const mx = x / 8;
  const my = y / 8;
  let sum = 0;
  const cells: Array<[number, number]> = [];
  for (let j = Math.floor(my - 3); j <= my + 3; j++)
    for (let i = Math.floor(mx - 3); i <= mx + 3; i++) {
      const w = Math.exp(-((i + 0.5 - mx) ** 2 + (j + 0.5 - my) ** 2) / 2);
      cells.push([j * MW + i, w]);
      sum += w;
    }
  for (const [k, w] of cells) values[k] += w / sum;
  return { width: MW, height: MH, values };
}

/** Stands outside for 3 s, walks into the room (150 px/s, crossing its left side), stands inside; 10 fps for 12 s. */
async function walkIn(flowSees: 'motion' | 'nothing'): Promise<{ residuals: number[]; closed: number; zone: number }> {
  const config = site(RING);
  const zones = new ZoneTracker(config);
  const lines = new LineTracker(config.cameras.values(), async (job: MotionJob) => runMotionJob(job));
  const residuals: number[] = [];
  const residual = new ZoneResidual(config, { residual: (_c, zone, v) => zone === 'room' && residuals.push(v) }, { windowS: 8, lagS: 2 });
  zones.addListener(residual.zones);
  lines.addListener(residual.lines);
  const T0 = 1_800_000_000_000;
  let last = 0;
  for (let k = 0; k <= 120; k++) {
    const t = k / 10;
    const x = t < 3 ? 150 : t < 5 ? 150 + 150 * (t - 3) : 450;
    const map = density(x, 300);
    zones.observe('cam', T0 + k * 100, map, { width: W, height: H });
    // "nothing": the picture never changes (a frozen feed, a flow that sees no motion) while the density moves.
    lines.observe('cam', 1, T0 + k * 100, map, flowSees === 'motion' ? grey(x, 300) : grey(150, 300), { width: W, height: H });
    await lines.settled();
    last = zones.observe('cam', T0 + k * 100 + 1, map, { width: W, height: H })?.[0]?.people ?? last;
  }
  return { residuals, closed: lines.totals('cam')?.[0].in ?? Number.NaN, zone: last };
}

test('a person walking into a zone closed by a line: residual ~0 while the flow sees the motion', async (t) => {
  const { residuals, closed, zone } = await walkIn('motion');
  t.true(Math.abs(zone - 1) < 0.01, `the room holds one person at the end (${zone})`);
  t.true(Math.abs(closed - 1) < 0.2, `the line counted one in (${closed})`);
  const final = residuals[residuals.length - 1];
  t.true(Math.abs(final) < 0.25, `residual ${final}`);
});

test('the same density with a picture that does not move: the lines miss the person and the residual is ~1', async (t) => {
  const { residuals, closed } = await walkIn('nothing');
  t.true(closed < 0.05, `the line counted nothing (${closed})`);
  const final = residuals[residuals.length - 1];
  t.true(Math.abs(final - 1) < 0.1, `residual ${final}`);
});

test('no residual for a window with a second without frames; a reload that opens the zone removes its series', (t) => {
  const config = site(RING);
  const values: Array<[string, number]> = [];
  const removed: string[] = [];
  const residual = new ZoneResidual(
    config,
    { residual: (_c, z, v) => values.push([z, v]), residualRemoved: (_c, z) => removed.push(z) },
    { windowS: 4, lagS: 1 },
  );
  const reading = (s: number, people: number) =>
    residual.zones.reading?.({ camera: 'cam', zone: 'room', zoneId: 0, timeMs: s * 1000 + 200, people, smoothed: people, occupancy: Number.NaN, state: 0 });
  for (const s of [100, 101, 102, 103, 104, 105, 106]) reading(s, s >= 103 ? 3 : 1);
  // Newest 106: window 101..105, counts 1 -> 3, no line windows: residual 2.
  t.deepEqual(values, [
    ['room', 2],
    ['room', 2],
  ]);
  residual.lines.reading?.({ camera: 'cam', line: 'ring', lineId: 0, timeMs: 103_000, in: 2, out: 0, stepIn: 2, stepOut: 0 });
  reading(107, 3);
  // Window 102..106: counts 1 -> 3, the line brought 2 in: residual 0.
  t.deepEqual(values[values.length - 1], ['room', 0]);
  // A gap: seconds 108-111 have no frames; at 113 the window 108..112 has no start second.
  reading(113, 3);
  t.is(values.length, 3);
  residual.replaceSite(site('      - { name: door, points: [[300, 150], [300, 450]], in: right }'));
  t.deepEqual(removed, ['room']);
  t.deepEqual(residual.closed(), []);
});

test('the server wiring: a site file with a zone closed by a line exports crowdline_line_zone_residual for it, and history records the lines', async (t) => {
  const dir = tempDir('crowdline-residual-');
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `cameras:\n  cam:\n    width: ${W}\n    height: ${H}\n    zones:\n      - { name: room, polygon: [[300, 150], [600, 150], [600, 450], [300, 450]] }\n    lines:\n${RING}\n`,
  );
  const registry = new Registry();
  const setup = await setUpZones(file, {}, { log: () => undefined, registry });
  t.teardown(() => setup.close());
  const attached: unknown[] = [];
  const add = setup.lines.addListener.bind(setup.lines);
  setup.lines.addListener = (l) => {
    attached.push(l);
    add(l);
  };
  const store = setUpHistory({ dir: join(dir, 'history') }, { tracker: setup.tracker, lines: setup.lines, log: () => undefined });
  t.teardown(() => store?.close());
  t.true(store !== undefined && attached.includes(store.lineRecorder), 'the history store hears the lines');
  // One frame a second for 70 s: a person in the room from 20 s on, and no motion measured (no grey copies): the lines count nothing.
  const T0 = 1_800_000_000_000;
  for (let s = 0; s < 70; s++) setup.tracker.observe('cam', T0 + s * 1000, density(s < 20 ? 150 : 450, 300), { width: W, height: H });
  const text = await registry.getSingleMetricAsString('crowdline_line_zone_residual');
  const value = /crowdline_line_zone_residual\{camera="cam",zone="room"\} (\S+)/.exec(text)?.[1];
  t.truthy(value, text);
  t.true(Math.abs(Number(value) - 1) < 0.01, `residual ${value}: the room gained one person the lines did not see`);
});
