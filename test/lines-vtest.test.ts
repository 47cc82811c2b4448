/**
 * Line crossings on real footage against people counted by hand
 * (test/fixtures/vtest-lines.json, method in vtest-lines.md): the sample
 * video's three lines, at its native 10 fps and at half of it, with the
 * server's more accurate CPU model (crowdline-v2) and the flow that runs
 * in the workers. The target (15 % or 2 crossings per direction,
 * whichever is larger, on every line) is not met on every line yet: that
 * assertion is kept as a known failure (test.failing) so it turns into an
 * error the day it passes. The regression guard below holds every
 * line-direction to what the method measured with the shipped model
 * (test/fixtures/vtest-lines-baseline.json, recorded by
 * bench/line-accuracy.ts; docs/zones.md has the table): its error may not
 * grow by more than half a crossing. The baseline names the model file's
 * SHA-256: new weights mean measuring and recording it again, on purpose.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { modelPath } from '../src/app/paths.js';
import { LineTracker } from '../src/lines/line-tracker.js';
import { runMotionJob } from '../src/lines/motion-job.js';
import { vtestCamera, vtestFrames, vtestGroundTruth } from './helpers/vtest-lines.js';

const MODEL = 'crowdline-v2';

/** What the method measured with the shipped model, per rate, line and direction (estimated crossings). */
interface Baseline {
  model: string;
  modelSha256: string;
  measured: string;
  rates: Record<string, Record<string, { in: number; out: number }>>;
}
const baseline = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/fixtures/vtest-lines-baseline.json', import.meta.url)), 'utf8')) as Baseline;
/** How much a line-direction's error may grow against the baseline before it counts as a regression. */
const SLACK = 0.5;

interface Estimate {
  line: string;
  direction: 'in' | 'out';
  truth: number;
  estimate: number;
}

async function estimate(step: number): Promise<Estimate[]> {
  const frames = await vtestFrames(MODEL);
  const camera = vtestCamera();
  const tracker = new LineTracker([camera], async (job) => runMotionJob(job));
  for (let t = 0; t < frames.length; t += step) {
    tracker.observe(camera.name, 1, 1_000_000 + t * 100, frames[t].density, frames[t].grey, { width: 768, height: 576 });
    await tracker.settled();
  }
  tracker.flush(1_000_000 + frames.length * 100);
  const totals = tracker.totals(camera.name) ?? [];
  return vtestGroundTruth().lines.flatMap((l) => {
    const got = totals.find((x) => x.name === l.name);
    if (!got) throw new Error(`no totals for line ${l.name}`);
    return [
      { line: l.name, direction: 'in' as const, truth: l.counts.in, estimate: got.in },
      { line: l.name, direction: 'out' as const, truth: l.counts.out, estimate: got.out },
    ];
  });
}

const tolerance = (truth: number, fraction: number, floor: number): number => Math.max(floor, fraction * truth);
const table = (rows: Estimate[]): string => rows.map((r) => `${r.line} ${r.direction}: ${r.estimate.toFixed(1)} of ${r.truth}`).join('; ');

for (const [label, step] of [
  ['10 fps', 1],
  ['5 fps', 2],
] as const) {
  test.serial(`vtest at ${label}: no line-direction's error grows by more than ${SLACK} crossing against the shipped model's baseline`, async (t) => {
    // The first test decodes the clip and runs the model on all 795 frames (cached for the rest): minutes on a busy CPU.
    t.timeout(20 * 60_000);
    const sha = createHash('sha256')
      .update(readFileSync(modelPath(MODEL)))
      .digest('hex');
    if (sha !== baseline.modelSha256) {
      t.fail(`${MODEL}.onnx is not the model the baseline was measured with: run bench/line-accuracy.ts and record it`);
      return;
    }
    const rows = await estimate(step);
    t.log(table(rows));
    const base = baseline.rates[label];
    t.truthy(base, `no baseline at ${label}`);
    for (const r of rows) {
      const was = base[r.line]?.[r.direction];
      t.not(was, undefined, `no baseline for ${r.line} ${r.direction}`);
      const allowed = Math.abs((was ?? Number.NaN) - r.truth) + SLACK;
      t.true(Math.abs(r.estimate - r.truth) <= allowed, `${r.line} ${r.direction}: ${r.estimate.toFixed(2)} vs ${r.truth} (baseline ${was})`);
    }
    // Nothing is wildly off in the other direction either: the total is not inflated by noise.
    const total = rows.reduce((n, r) => n + r.estimate, 0);
    const truth = rows.reduce((n, r) => n + r.truth, 0);
    t.true(total <= truth * 1.1, `total ${total.toFixed(1)} vs ${truth}`);
  });

  test.serial.failing(`vtest at ${label}: every line and direction within 15 % or 2 crossings (the issue's target, not met yet)`, async (t) => {
    t.timeout(20 * 60_000);
    const rows = await estimate(step);
    for (const r of rows)
      t.true(Math.abs(r.estimate - r.truth) <= tolerance(r.truth, 0.15, 2), `${r.line} ${r.direction}: ${r.estimate.toFixed(2)} vs ${r.truth}`);
  });
}
