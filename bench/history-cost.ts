/**
 * What the history store costs (docs/performance.md, "History"):
 *  1. main-thread time per frame and per zone: the recorder's bucket update
 *     in the frame path, and the once-a-second write, at a given frame rate;
 *  2. disk bytes per camera-zone-day, per-second rows (the first 48 h) and
 *     per-minute rows (the rest of the 30 days), measured on a real file;
 *  3. API latency for a 30-day chart: /api/v1/history of one zone and of
 *     every zone of a 100-zone camera over 30 days of per-minute rows.
 * The store runs on a simulated clock, so a day is written in seconds.
 *
 *   node dist/bench/history-cost.js [--zones 16] [--fps 10] [--seconds 600] [--api-zones 100] [--api-rounds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HistoryApi, DEFAULT_API_LIMITS } from '../src/history/api.js';
import { HistoryStore } from '../src/history/store.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import type { ZoneReport } from '../src/zones/zone-tracker.js';

const argv = yargs(hideBin(process.argv))
  .option('zones', { type: 'number', default: 16, describe: 'zones written per second in the cost runs' })
  .option('fps', { type: 'number', default: 10, describe: 'frames per second per camera' })
  .option('seconds', { type: 'number', default: 600, describe: 'simulated seconds timed for the per-frame cost' })
  .option('api-zones', { type: 'number', default: 100, describe: 'zones of the camera in the API case' })
  .option('api-rounds', { type: 'number', default: 5, describe: 'requests timed per API case (the median is printed)' })
  .strict()
  .parseSync();

const T0 = Date.UTC(2026, 11, 1) / 1000;
const LIMITS = { fineHours: 48, days: 30, maxBytes: 64 * 1024 ** 3, maxSkewMs: 300_000 };

class SimClock {
  ms = T0 * 1000;
  now(): number {
    return this.ms;
  }
}

function store(dir: string, clock: SimClock): HistoryStore {
  return HistoryStore.open({ dir, clock, limits: LIMITS, log: () => undefined });
}

const report = (zone: number, timeMs: number, people: number): ZoneReport => ({
  camera: 'cam',
  zone: `z${zone}`,
  zoneId: zone,
  timeMs,
  people,
  smoothed: people,
  occupancy: people / 50,
  state: 0,
});

// 1. Per frame and per zone.
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crowdline-history-bench-'));
  const clock = new SimClock();
  const s = store(dir, clock);
  let recordNs = 0;
  let flushNs = 0;
  let frames = 0;
  for (let sec = 0; sec < argv.seconds; sec++) {
    for (let f = 0; f < argv.fps; f++) {
      clock.ms = (T0 + sec) * 1000 + Math.floor((f * 1000) / argv.fps);
      const t = performance.now();
      for (let z = 0; z < argv.zones; z++) s.recorder.reading(report(z, clock.ms, (sec + z + f) % 40));
      recordNs += (performance.now() - t) * 1e6;
      frames++;
    }
    const t = performance.now();
    s.flush();
    flushNs += (performance.now() - t) * 1e6;
  }
  s.close();
  rmSync(dir, { recursive: true, force: true });
  const perFrameUs = (recordNs + flushNs) / frames / 1000;
  console.log(`## Cost (${argv.zones} zones, ${argv.fps} fps, ${argv.seconds} s simulated)\n`);
  console.log('| part | per frame, us | per zone per frame, us |');
  console.log('| --- | --- | --- |');
  console.log(`| recorder (frame path) | ${(recordNs / frames / 1000).toFixed(2)} | ${(recordNs / frames / argv.zones / 1000).toFixed(3)} |`);
  console.log(`| write, once a second (timer) | ${(flushNs / frames / 1000).toFixed(2)} | ${(flushNs / frames / argv.zones / 1000).toFixed(3)} |`);
  console.log(`| total | ${perFrameUs.toFixed(2)} | ${(perFrameUs / argv.zones).toFixed(3)} |`);
  console.log(`\none write of ${argv.zones} rows: ${(flushNs / argv.seconds / 1e6).toFixed(3)} ms (main thread, once a second)\n`);
}

// 2. Disk bytes per camera-zone-day: a day of seconds, then the same day rolled up into minutes.
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crowdline-history-bench-'));
  const clock = new SimClock();
  const s = store(dir, clock);
  const zones = 8;
  const emptyBytes = s.diskBytes();
  for (let sec = 0; sec < 86_400; sec++) {
    clock.ms = (T0 + sec) * 1000;
    for (let z = 0; z < zones; z++) {
      s.recorder.reading(report(z, clock.ms, (sec * 7 + z) % 40));
      s.recorder.reading(report(z, clock.ms + 500, (sec * 3 + z) % 40));
    }
    if (sec % 60 === 59) s.flush();
  }
  s.flush();
  s.close(); // checkpoint: the WAL is folded in and truncated
  const fineBytes = fileBytes(dir);
  clock.ms = (T0 + 86_400 + 48 * 3600) * 1000;
  const again = store(dir, clock);
  again.maintain();
  again.close();
  const coarseBytes = fileBytes(dir);
  rmSync(dir, { recursive: true, force: true });
  console.log('## Disk per camera-zone-day\n');
  console.log('| rows | bytes per camera-zone-day |');
  console.log('| --- | --- |');
  console.log(`| per second (86,400 rows) | ${Math.round((fineBytes - emptyBytes) / zones).toLocaleString('en')} |`);
  console.log(`| per minute (1,440 rows) | ${Math.round((coarseBytes - emptyBytes) / zones).toLocaleString('en')} |`);
  const perZone = (2 * (fineBytes - emptyBytes) + 28 * (coarseBytes - emptyBytes)) / zones;
  console.log(`\na zone kept 48 h in seconds and 28 days more in minutes: ${(perZone / 1048576).toFixed(1)} MiB\n`);
}

// 3. API latency for a 30-day chart of a 100-zone camera (per-minute rows written straight into the file).
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crowdline-history-bench-'));
  const clock = new SimClock();
  clock.ms = (T0 + 30 * 86_400) * 1000;
  store(dir, clock).close();
  const db = new Database(path.join(dir, 'history.db'));
  const zones = argv['api-zones'];
  db.transaction(() => {
    const addSeries = db.prepare('INSERT INTO series (camera, zone) VALUES (?, ?)');
    for (let z = 0; z < zones; z++) addSeries.run('cam', `z${z}`);
    db.prepare(
      `WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 30 * 1440 - 1)
       INSERT INTO coarse (series, t, frames, people_mean, people_max, smoothed, state)
       SELECT s.id, ? + m.i * 60, 600, (m.i * 7 + s.id) % 40, (m.i * 7 + s.id) % 40 + 3, (m.i * 7 + s.id) % 40, 0 FROM series s, m`,
    ).run(T0);
    // The per-hour rows the store keeps current as it writes.
    db.exec(`INSERT INTO hourly (series, t, frames, people_mean, people_max, smoothed, state)
      SELECT series, t - t % 3600, sum(frames), sum(people_mean * frames) / sum(frames), max(people_max), sum(smoothed * frames) / sum(frames), max(state)
      FROM coarse WHERE true GROUP BY series, t - t % 3600`);
  })();
  db.close();
  const s = store(dir, clock);
  const zoneLines = Array.from({ length: zones }, (_, z) => `      - { name: z${z}, polygon: [[0, 0], [1, 0], [1, 1]] }`).join('\n');
  const api = new HistoryApi({
    site: () => parseSiteFile(`cameras:\n  cam:\n    zones:\n${zoneLines}\n`),
    store: s,
    clock,
    limits: { ...DEFAULT_API_LIMITS, maxPoints: 1_000_000 },
  });
  const time = (query: string): { ms: number; bytes: number } => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < argv['api-rounds']; i++) {
      const t = performance.now();
      const res = api.handle({ path: '/api/v1/history', query: new URLSearchParams(query) });
      times.push(performance.now() - t);
      if (res?.status !== 200) throw new Error(`${query}: ${res?.body}`);
      bytes = res.body.length;
    }
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(times.length / 2)], bytes };
  };
  const from = T0;
  const to = T0 + 30 * 86_400;
  console.log(`## API: a 30-day chart (${zones} zones x 43,200 per-minute rows; median of ${argv['api-rounds']})\n`);
  console.log('| request | step | ms | answer bytes |');
  console.log('| --- | --- | --- | --- |');
  for (const [what, query] of [
    ['one zone', `camera=cam&zone=z0&from=${from}&to=${to}`],
    [`all ${zones} zones`, `camera=cam&from=${from}&to=${to}&step=3600`],
    [`all ${zones} zones, CSV`, `camera=cam&from=${from}&to=${to}&step=3600&format=csv`],
  ] as const) {
    const r = time(query);
    console.log(`| ${what} | ${new URLSearchParams(query).get('step') ?? '3600 (default)'} | ${r.ms.toFixed(1)} | ${r.bytes.toLocaleString('en')} |`);
  }
  s.close();
  rmSync(dir, { recursive: true, force: true });
}

function fileBytes(dir: string): number {
  const db = new Database(path.join(dir, 'history.db'), { readonly: true });
  const pages = Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }));
  const size = pages * Number(db.pragma('page_size', { simple: true }));
  db.close();
  return size;
}
