/**
 * Where the line-crossing error on the sample video comes from: the density
 * (the model does not put a whole person on someone who crosses) or the
 * flow (the motion is under-estimated), measured per line and direction
 * against the hand count (test/fixtures/vtest-lines.json).
 *
 * - Density on the crossers: for each hand-counted crossing, the model's
 *   people within 48 px either side of the line, on the 56 px stretch of
 *   the line where the map holds the most people at the crossing frame,
 *   averaged over the 17 frames (1.7 s) around it and capped at 1 (the
 *   stretch may hold someone else too). What a perfect flow could carry
 *   across: the estimate's ceiling for that crossing.
 * - Flux at the crossers / elsewhere: what the tracker (its defaults, the
 *   server's code) counted in that direction in the 1 s windows closed
 *   within 1.5 s of a hand-counted crossing, and away from all of them.
 * - Flow against tracked motion: for crossers the model sees well (0.4-1.6
 *   people on the stretch, steady over +-0.4 s), their speed across the
 *   line from the density's centroid 8 frames apart, against the flow the
 *   tracker uses (the dominant motion of its window) averaged under the
 *   crosser's density: 1 when the flow follows people at their speed.
 *
 *   node dist/bench/line-error-sources.js [--model crowdline-v2]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { bandSamples, flowWindow } from '../src/lines/band.js';
import { DEFAULT_FLOW_OPTIONS, cropGrey, type FlowField } from '../src/lines/flow.js';
import { DEFAULT_BAND_FRACTION, LineTracker, type LineReading } from '../src/lines/line-tracker.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { type GroundTruthLine, type VtestFrame, VTEST_HEIGHT, VTEST_WIDTH, vtestCamera, vtestFrames, vtestGroundTruth } from '../test/helpers/vtest-lines.js';

const { model } = yargs(hideBin(process.argv))
  .option('model', { type: 'string', default: 'crowdline-v2', describe: 'model name or path' })
  .strict()
  .parseSync();
const frames = await vtestFrames(model);
const truth = vtestGroundTruth().lines;
const camera = vtestCamera();
const ACROSS_PX = 48;
const STRETCH_PX = 56;
const HALF_SPAN = 8;

/** A line's single straight segment as along/across coordinates (the sample lines are straight). */
function frameOf(line: GroundTruthLine): { along: (x: number, y: number) => number; across: (x: number, y: number) => number; length: number } {
  const [[x0, y0], [x1, y1]] = [line.points[0], line.points[line.points.length - 1]];
  const length = Math.hypot(x1 - x0, y1 - y0);
  const dx = (x1 - x0) / length;
  const dy = (y1 - y0) / length;
  // Towards the "in" side (band.ts: the right of the direction of travel is (-dy, dx) on the image).
  const sign = line.in === 'right' ? 1 : -1;
  return { along: (x, y) => (x - x0) * dx + (y - y0) * dy, across: (x, y) => sign * ((x - x0) * -dy + (y - y0) * dx), length };
}

interface Cell {
  i: number;
  along: number;
  across: number;
  x: number;
  y: number;
}

/** Density cells near the line (within ACROSS_PX, on its length). */
function cellsNear(line: GroundTruthLine, map: VtestFrame['density']): Cell[] {
  const f = frameOf(line);
  const cw = VTEST_WIDTH / map.width;
  const ch = VTEST_HEIGHT / map.height;
  const cells: Cell[] = [];
  for (let cy = 0; cy < map.height; cy++)
    for (let cx = 0; cx < map.width; cx++) {
      const x = (cx + 0.5) * cw;
      const y = (cy + 0.5) * ch;
      const along = f.along(x, y);
      const across = f.across(x, y);
      if (Math.abs(across) <= ACROSS_PX && along >= 0 && along <= f.length) cells.push({ i: cy * map.width + cx, along, across, x, y });
    }
  return cells;
}

/** The stretch [s, s + STRETCH_PX) with the most people at frame t. */
function crosserStretch(cells: Cell[], map: VtestFrame['density']): number {
  let best = 0;
  let bestMass = -1;
  for (let s = 0; s < Math.max(...cells.map((c) => c.along)); s += 8) {
    let m = 0;
    for (const c of cells) if (c.along >= s && c.along < s + STRETCH_PX) m += map.values[c.i];
    if (m > bestMass) {
      bestMass = m;
      best = s;
    }
  }
  return best;
}

function massAndCentroid(cells: Cell[], map: VtestFrame['density'], s: number): { mass: number; across: number } {
  let m = 0;
  let a = 0;
  for (const c of cells)
    if (c.along >= s && c.along < s + STRETCH_PX) {
      m += map.values[c.i];
      a += map.values[c.i] * c.across;
    }
  return { mass: m, across: m > 0 ? a / m : 0 };
}

async function readings(step: number): Promise<LineReading[]> {
  const tracker = new LineTracker([camera], async (job) => runMotionJob(job));
  const out: LineReading[] = [];
  tracker.addListener({ reading: (r) => out.push(r) });
  for (let t = 0; t < frames.length; t += step) {
    tracker.observe(camera.name, 1, t * 100, frames[t].density, frames[t].grey, { width: VTEST_WIDTH, height: VTEST_HEIGHT });
    await tracker.settled();
  }
  tracker.flush(frames.length * 100);
  return out;
}

/** The tracker's flow for a line between frames a and b (its window, its options). */
function lineFlow(line: GroundTruthLine, a: number, b: number): FlowField {
  const grey = frames[a].grey;
  const source = { width: VTEST_WIDTH, height: VTEST_HEIGHT };
  const samples = bandSamples(line.points, line.in, DEFAULT_BAND_FRACTION * VTEST_HEIGHT, VTEST_WIDTH / grey.width);
  const margin = DEFAULT_FLOW_OPTIONS.radius * 2 ** (DEFAULT_FLOW_OPTIONS.levels - 1) + 4;
  const w = flowWindow(samples, source, grey, margin);
  if (!w) throw new Error(`line ${line.name} is off the image`);
  const [flow] = runMotionJob({
    before: [cropGrey(grey.data, grey.width, w)],
    after: [cropGrey(frames[b].grey.data, grey.width, w)],
    windows: [w],
    greyWidth: grey.width,
    greyHeight: grey.height,
  });
  return flow;
}

/** Flow across the line (source px per step), averaged under the density on the crosser's stretch at frame t. */
function flowAcross(line: GroundTruthLine, cells: Cell[], t: number, s: number, flow: FlowField): number {
  const map = frames[t].density;
  const [[x0, y0], [x1, y1]] = [line.points[0], line.points[line.points.length - 1]];
  const len = Math.hypot(x1 - x0, y1 - y0);
  const sign = line.in === 'right' ? 1 : -1;
  const nx = (sign * -(y1 - y0)) / len;
  const ny = (sign * (x1 - x0)) / len;
  const fx = flow.fullWidth / VTEST_WIDTH;
  const fy = flow.fullHeight / VTEST_HEIGHT;
  let m = 0;
  let sum = 0;
  for (const c of cells) {
    if (c.along < s || c.along >= s + STRETCH_PX) continue;
    const gx = Math.floor(c.x * fx) - flow.x0;
    const gy = Math.floor(c.y * fy) - flow.y0;
    if (gx < 0 || gy < 0 || gx >= flow.width || gy >= flow.height) continue;
    const d = map.values[c.i];
    m += d;
    sum += d * ((flow.u[gy * flow.width + gx] / fx) * nx + (flow.v[gy * flow.width + gx] / fy) * ny);
  }
  return m > 0 ? sum / m : 0;
}

const quartiles = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): string => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2) : '-');
  return `${q(0.5)} (${q(0.25)}-${q(0.75)}, n ${s.length})`;
};

console.log(`model ${model}\n`);
console.log(
  '| line | direction | hand count | density on the crossers | flux at the crossers, 10 fps | flux elsewhere, 10 fps | flux at the crossers, 5 fps | flux elsewhere, 5 fps |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const runs = [await readings(1), await readings(2)];
const ratios: number[][] = [[], []];
for (const line of truth) {
  const cells = cellsNear(line, frames[0].density);
  const crossers = line.crossings.map((c) => {
    const s = crosserStretch(cells, frames[c.frame].density);
    let sum = 0;
    let n = 0;
    for (let t = Math.max(0, c.frame - HALF_SPAN); t <= Math.min(frames.length - 1, c.frame + HALF_SPAN); t++, n++)
      sum += massAndCentroid(cells, frames[t].density, s).mass;
    return { ...c, stretch: s, mass: Math.min(1, sum / n) };
  });
  // Flow against tracked motion, for crossers the model sees steadily.
  for (const c of crossers) {
    const a = c.frame - 4;
    const b = c.frame + 4;
    if (a < 0 || b + 2 >= frames.length) continue;
    const ma = massAndCentroid(cells, frames[a].density, c.stretch);
    const mb = massAndCentroid(cells, frames[b].density, c.stretch);
    if (ma.mass < 0.4 || mb.mass < 0.4 || ma.mass > 1.6 || mb.mass > 1.6 || Math.abs(ma.mass - mb.mass) > 0.3) continue;
    const tracked = (mb.across - ma.across) / 8;
    if (Math.abs(tracked) < 1.5) continue; // under 1.5 px a frame the centroid's noise dominates
    for (const [k, step] of [
      [0, 1],
      [1, 2],
    ] as const)
      ratios[k].push(flowAcross(line, cells, c.frame, c.stretch, lineFlow(line, c.frame, c.frame + step)) / (tracked * step));
  }
  for (const direction of ['in', 'out'] as const) {
    const mine = crossers.filter((c) => c.direction === direction);
    const density = mine.reduce((n, c) => n + c.mass, 0);
    const cells2 = runs.map((rows) => {
      let near = 0;
      let elsewhere = 0;
      for (const r of rows) {
        if (r.line !== line.name) continue;
        const v = direction === 'in' ? r.stepIn : r.stepOut;
        // The window ends at r.timeMs and is about 1 s long: its middle is 0.5 s earlier.
        const middle = r.timeMs / 100 - 5;
        if (mine.some((c) => Math.abs(c.frame - middle) <= 15)) near += v;
        else elsewhere += v;
      }
      return `${near.toFixed(2)} | ${elsewhere.toFixed(2)}`;
    });
    console.log(`| ${line.name} | ${direction} | ${mine.length} | ${density.toFixed(2)} | ${cells2.join(' | ')} |`);
  }
}
console.log(`\nFlow across the line / tracked speed of the crosser (median, quartiles): 10 fps ${quartiles(ratios[0])}; 5 fps ${quartiles(ratios[1])}`);
