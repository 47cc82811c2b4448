/**
 * A scripted run through the accept layer (fake runner: each frame's density
 * map is 1x1 holding its number) into the history store: the rows per second
 * are exactly the zone blocks the camera got back, and the alert rows are the
 * tracker's transitions.
 */
import test from 'ava';
import { CrowdServer } from '../src/accept/server.js';
import { HistoryStore } from '../src/history/store.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneTracker, type ZoneAlertEvent } from '../src/zones/zone-tracker.js';
import { FakeRunner } from './helpers/fake-runner.js';
import { numberCamera } from './helpers/history-server.js';
import { tempDir } from './helpers/server.js';

const SITE = `
cameras:
  cam:
    zones:
      - name: all
        polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
        smoothing_s: 1
        alerts: [{ level: warning, metric: people, above: 15, for_s: 1, clear_below: 10, clear_for_s: 1 }]
      - name: left
        polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
`;

test('rows per second from a scripted run match the zone blocks sent, and alert rows the transitions', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile(SITE));
  const store = HistoryStore.open({ dir: tempDir(), limits: { fineHours: 48, days: 30, maxBytes: 1 << 30, maxSkewMs: 300_000 }, log: () => undefined });
  t.teardown(() => store.close());
  tracker.addListener(store.recorder);
  const transitions: ZoneAlertEvent[] = [];
  tracker.addListener({ alert: (e) => transitions.push(e) });
  const server = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    zones: tracker,
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  // 12 s of frames, four a second (jittered inside the second), counts that rise over 15 and fall back.
  const base = Math.floor(Date.now() / 1000) * 1000 - 30_000;
  const values = Array.from({ length: 48 }, (_, i) => (i < 12 ? 3 + (i % 5) : i < 30 ? 18 + (i % 7) : 2 + (i % 3)));
  const camera = numberCamera(port, {
    camera: 'cam',
    intervalMs: 0,
    count: values.length,
    frame: (i) => ({ value: values[i], captureTimeMs: base + i * 250 + ((i * 37) % 200) }),
  });
  await camera.done;
  await camera.stop();
  store.flush();

  // Expected rows, from the RESULT zone blocks alone.
  for (const [zoneId, zone] of ['all', 'left'].entries()) {
    const bySecond = new Map<number, { people: number[]; smoothed: number; state: number }>();
    for (const a of camera.answered) {
      const block = a.zones.find((z) => z.id === zoneId);
      if (!block) throw new Error('a RESULT without its zone block');
      const s = Math.floor(a.captureTimeMs / 1000);
      const row = bySecond.get(s) ?? { people: [], smoothed: 0, state: 0 };
      row.people.push(block.people);
      row.smoothed = block.smoothed;
      row.state = Math.max(row.state, block.state);
      bySecond.set(s, row);
    }
    const [series] = store.queries.history({ camera: 'cam', zone, fromS: base / 1000 - 5, toS: base / 1000 + 60, stepS: 1 });
    t.deepEqual(series.time, [...bySecond.keys()], `${zone}: one row per second that had frames`);
    series.time.forEach((s, i) => {
      const row = bySecond.get(s)!;
      t.is(series.frames[i], row.people.length);
      t.true(Math.abs(series.people_mean[i] - row.people.reduce((a, b) => a + b, 0) / row.people.length) < 1e-4, `${zone} ${s}: mean`);
      t.true(Math.abs(series.people_max[i] - Math.max(...row.people)) < 1e-4, `${zone} ${s}: max`);
      t.true(Math.abs((series.smoothed[i] ?? Number.NaN) - row.smoothed) < 1e-3, `${zone} ${s}: smoothed`);
      t.is(series.state[i], row.state, `${zone} ${s}: state`);
    });
  }
  t.true(transitions.length >= 2, 'the script raised and cleared a warning');
  t.deepEqual(
    store.queries
      .alerts({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, limit: 100 })
      .reverse()
      .map((a) => [a.zone, a.timeMs, a.state, a.previous, a.rule]),
    transitions.map((e) => [e.zone, Math.round(e.timeMs), e.state, e.previous, e.rule]),
  );
});
