/**
 * `crowdline demo` is the README's first command: on a machine without a
 * display it must start its own server, record the sample video and finish
 * by itself, saying where the output went.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { tempDir } from './helpers/server.js';

const haveModel = fs.existsSync(DEFAULT_MODEL_PATH) && fs.existsSync(DEFAULT_MODEL_PATH.replace(/\.onnx$/, '.json'));

/** What a failed run said, and what ended it (a signal leaves code null). */
function howItEnded(run: CliRun): string {
  return `exit code ${run.code}, signal ${run.signal}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
}

const TITLE = 'demo without a display records the sample video and finishes by itself';
const declare = haveModel ? test : test.skip;

declare(haveModel ? TITLE : `${TITLE} (skipped: the default model ${DEFAULT_MODEL_PATH} and its .json are not there yet)`, async (t) => {
  const cwd = tempDir('crowdline-demo-');
  const state = tempDir('crowdline-demo-state-');
  const run = await runCli(['demo', '--max-frames', '6', '--no-console'], { cwd, timeoutMs: 100_000, env: { XDG_STATE_HOME: state } });
  t.is(run.code, 0, howItEnded(run));
  // History is on, in the demo's own folder under the state directory, so the console's charts have the run.
  const db = path.join(state, 'crowdline', 'demo-history', 'history.db');
  t.true(run.stderr.includes(`history in ${db}`), run.stderr);
  const history = new Database(db, { readonly: true });
  t.teardown(() => history.close());
  t.deepEqual(
    history.prepare('SELECT s.camera, s.zone, sum(f.frames) AS frames FROM fine f JOIN series s ON s.id = f.series GROUP BY s.id ORDER BY s.zone').all(),
    [
      { camera: 'vtest', zone: 'crossing', frames: 6 },
      { camera: 'vtest', zone: 'west-path', frames: 6 },
    ],
  );
  const out = path.join(cwd, 'crowdline-demo');
  t.true(run.stderr.includes(`recording to ${out}`), run.stderr);
  const csv = path.join(out, 'vtest.csv');
  t.true(run.stdout.includes(`wrote ${csv}`), run.stdout);
  t.true(run.stdout.includes(`wrote ${path.join(out, 'vtest.avi')}`), run.stdout);
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1);
  t.deepEqual(
    rows.map((r) => r.split(',')[1]),
    ['0', '1', '2', '3', '4', '5'],
  );
  for (const row of rows) {
    const [camera, , , , count, , status] = row.split(',');
    t.is(camera, 'vtest');
    t.is(status, 'ok');
    t.true(Number(count) >= 0, row);
  }
});

// The zones themselves are computed by the server (src/zones, issue 12 server side); until a build has it, this test waits for it.
const haveServerZones = fs.existsSync(path.join(path.dirname(DEFAULT_MODEL_PATH), '..', 'dist', 'src', 'zones', 'site-file.js'));
const ZONES_TITLE = 'demo with the sample site: the crossing zone goes to alarm when the group walks past, recorded in vtest.zones.csv';
const declareZones = haveModel && haveServerZones ? test : test.skip;

declareZones(
  haveModel && haveServerZones ? ZONES_TITLE : `${ZONES_TITLE} (skipped: needs the default model and the server's zones, dist/src/zones)`,
  async (t) => {
    const cwd = tempDir('crowdline-demo-zones-');
    const run = await runCli(['demo', '--max-frames', '110', '--no-console'], { cwd, timeoutMs: 110_000 });
    t.is(run.code, 0, howItEnded(run));
    const rows = fs
      .readFileSync(path.join(cwd, 'crowdline-demo', 'vtest.zones.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    t.deepEqual([...new Set(rows.map((r) => r[5]))], ['crossing', 'west-path']);
    const alarm = rows.find((r) => r[5] === 'crossing' && r[10] === 'alarm');
    t.truthy(alarm, 'the crossing zone reached alarm');
    // The group enters the zone at about frame 45; at 10 fps the alarm follows at about frame 71-73, on a machine too
    // slow for 10 fps earlier in frames (the smoothing and hold times are in seconds): docs/zones-client.md.
    const frame = Number(alarm![1]);
    t.true(frame >= 40 && frame <= 100, `first alarm at frame ${frame}: not before the group arrives, not long after`);
  },
);
