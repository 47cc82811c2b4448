/**
 * The history store on a clock the test controls: per-second rows, rollup to
 * minutes, retention, the disk cap, files that are not ours moved aside, and
 * forward migration.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { HistoryRecorder } from '../src/history/recorder.js';
import { HistoryStore } from '../src/history/store.js';
import { migrate, MIGRATIONS, schemaVersion } from '../src/history/schema.js';
import { openHistoryDb } from '../src/history/open-db.js';
import type { HistoryCounters, HistoryLimits } from '../src/history/types.js';
import type { ZoneReport } from '../src/zones/zone-tracker.js';
import { tempDir } from './helpers/server.js';

/** 2027-01-15T08:00:00Z: a whole hour, so minutes and seconds line up with the arithmetic below. */
const S0 = 1_800_000_000 - (1_800_000_000 % 3600);

class TestClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

function counting(): HistoryCounters & { capped_: number; failures: string[] } {
  return {
    capped_: 0,
    failures: [],
    written: () => undefined,
    dropped: () => undefined,
    writeFailed(reason) {
      this.failures.push(reason);
    },
    skewed: () => undefined,
    capped(rows) {
      this.capped_ += rows;
    },
  };
}

function open(dir: string, clock: TestClock, limits: Partial<HistoryLimits> = {}, extra: { counters?: HistoryCounters; log?: string[] } = {}): HistoryStore {
  return HistoryStore.open({
    dir,
    clock,
    limits: { fineHours: 48, days: 30, maxBytes: 1 << 30, maxSkewMs: 300_000, ...limits },
    log: (line) => extra.log?.push(line),
    counters: extra.counters,
  });
}

const reading = (over: Partial<ZoneReport>): ZoneReport => ({
  camera: 'hall',
  zone: 'entry',
  zoneId: 0,
  timeMs: S0 * 1000,
  people: 0,
  smoothed: 0,
  occupancy: Number.NaN,
  state: 0,
  ...over,
});

test('one row per camera, zone and second: frames, mean and max people, the last smoothed value, the highest state', (t) => {
  const clock = new TestClock(S0 * 1000);
  const store = open(tempDir(), clock);
  t.teardown(() => store.close());
  const r = store.recorder;
  r.reading(reading({ timeMs: S0 * 1000, people: 1, smoothed: 1, state: 0 }));
  r.reading(reading({ timeMs: S0 * 1000 + 250, people: 2, smoothed: 1.5, state: 0 }));
  r.reading(reading({ timeMs: S0 * 1000 + 500, people: 3, smoothed: 2, state: 2 }));
  r.reading(reading({ timeMs: S0 * 1000 + 750, people: 6, smoothed: 3, state: 1 }));
  r.reading(reading({ zone: 'exit', timeMs: S0 * 1000 + 999, people: 5, smoothed: 4 }));
  r.reading(reading({ timeMs: S0 * 1000 + 1000, people: 7, smoothed: 3.5 }));
  store.flush();
  const [entry] = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 10, stepS: 1 });
  t.deepEqual(entry, {
    camera: 'hall',
    zone: 'entry',
    time: [S0, S0 + 1],
    frames: [4, 1],
    people_mean: [3, 7],
    people_max: [6, 7],
    smoothed: [3, 3.5],
    state: [2, 0],
  });
  // A late frame of a second already written is merged into that second's row.
  r.reading(reading({ timeMs: S0 * 1000 + 100, people: 8, smoothed: 2.5, state: 0 }));
  store.flush();
  const [merged] = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 1, stepS: 1 });
  t.deepEqual([merged.frames, merged.people_mean, merged.people_max, merged.smoothed, merged.state], [[5], [4], [8], [2.5], [2]]);
  const all = store.queries.history({ camera: 'hall', fromS: S0, toS: S0 + 10, stepS: 1 });
  t.deepEqual(
    all.map((s) => s.zone),
    ['entry', 'exit'],
  );
});

test('a capture time far from the server clock is recorded at the server clock; a broken count is not recorded', (t) => {
  const clock = new TestClock(S0 * 1000);
  const store = open(tempDir(), clock, { maxSkewMs: 60_000 });
  t.teardown(() => store.close());
  store.recorder.reading(reading({ timeMs: 4_102_444_800_000, people: 1 })); // 2100
  store.recorder.reading(reading({ timeMs: 1000, people: 2 })); // 1970
  store.recorder.reading(reading({ timeMs: S0 * 1000 + 59_000, people: 3 })); // within the skew: kept
  store.recorder.reading(reading({ timeMs: S0 * 1000, people: Number.NaN }));
  store.flush();
  const [s] = store.queries.history({ camera: 'hall', zone: 'entry', fromS: 0, toS: 5_000_000_000, stepS: 1 });
  t.deepEqual(s.time, [S0, S0 + 59]);
  t.deepEqual(s.frames, [2, 1]);
});

/** Three hours of one zone, two frames a second (people p and p + 1, p = second of the minute), written as a live server would. */
function threeHours(store: HistoryStore, clock: TestClock): void {
  for (let s = 0; s < 3 * 3600; s++) {
    clock.ms = (S0 + s) * 1000;
    const p = s % 60;
    store.recorder.reading(reading({ timeMs: clock.ms, people: p, smoothed: p }));
    store.recorder.reading(reading({ timeMs: clock.ms + 500, people: p + 1, smoothed: p + 1 }));
    if (s % 600 === 599) store.flush();
  }
}

test('rollup: seconds older than --history-fine-hours become minutes with the same frames, mean and max', (t) => {
  const clock = new TestClock(S0 * 1000);
  const store = open(tempDir(), clock, { fineHours: 1, days: 1 });
  t.teardown(() => store.close());
  threeHours(store, clock);
  // Alerts as they happened (the recorder stamps times far from its clock with the clock).
  clock.ms = (S0 + 100) * 1000;
  store.recorder.alert({ camera: 'hall', zone: 'entry', timeMs: clock.ms, state: 2, previous: 0, rule: 'r', value: 45, metric: 'people', clock: 'capture' });
  clock.ms = (S0 + 7200) * 1000;
  store.recorder.alert({ camera: 'hall', zone: 'entry', timeMs: clock.ms, state: 0, previous: 2, rule: 'r', value: 3, metric: 'people', clock: 'capture' });
  store.flush();
  clock.ms = (S0 + 3 * 3600) * 1000;
  store.maintain();
  // One hour of seconds stays fine; the two hours before it are 120 minutes.
  const fine = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0 + 7200, toS: S0 + 10800, stepS: 1 })[0];
  t.is(fine.time.length, 3600);
  t.is(fine.time[0], S0 + 7200);
  const early = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 7200, stepS: 1 })[0];
  t.is(early.time.length, 120, 'per-minute rows only before the fine window');
  t.true(early.time.every((time) => time % 60 === 0));
  t.true(early.frames.every((f) => f === 120));
  t.true(
    early.people_mean.every((m) => Math.abs(m - 30) < 1e-9),
    'mean of 0..60 in pairs is 30',
  );
  t.true(early.people_max.every((m) => m === 60));
  t.true(
    early.smoothed.every((m) => m !== null && Math.abs(m - 30.5) < 1e-9),
    "the mean of each second's last smoothed value (p + 1)",
  );
  // Read in minutes, the three hours look alike whichever table a minute came from.
  const minutes = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 10800, stepS: 60 })[0];
  t.is(minutes.time.length, 180);
  t.true(minutes.frames.every((f) => f === 120));
  t.true(minutes.people_mean.every((m) => Math.abs(m - 30) < 1e-9));
  // Read in hours (the per-hour rows written as the seconds came): three hours of 7200 frames, mean 30.
  const hours = store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 10800, stepS: 3600 })[0];
  t.deepEqual(hours.time, [S0, S0 + 3600, S0 + 7200]);
  t.deepEqual(hours.frames, [7200, 7200, 7200]);
  t.true(hours.people_mean.every((m) => Math.abs(m - 30) < 1e-9));
  t.deepEqual(hours.people_max, [60, 60, 60]);
  t.is(
    minutes.frames.reduce((a, b) => a + b, 0),
    2 * 3 * 3600,
    'no frame lost in the rollup',
  );

  // Retention: a day after the first 90 minutes, those are gone (samples and alerts); the rest stays.
  clock.ms = (S0 + 86_400 + 5400) * 1000;
  store.maintain();
  const kept = store.queries.history({ camera: 'hall', zone: 'entry', fromS: 0, toS: S0 + 10800, stepS: 60 })[0];
  t.is(kept.time[0], S0 + 5400);
  t.is(kept.time.length, 90);
  t.deepEqual(
    store.queries.alerts({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, limit: 10 }).map((a) => a.timeMs),
    [(S0 + 7200) * 1000],
  );
  clock.ms = (S0 + 2 * 86_400) * 1000;
  store.maintain();
  t.deepEqual(store.queries.history({ camera: 'hall', zone: 'entry', fromS: 0, toS: S0 + 10800, stepS: 60 })[0].time, []);
  t.deepEqual(store.queries.alerts({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, limit: 10 }), []);
});

test('--history-max-mb: the database and its WAL stay under the cap; the oldest rows go first', (t) => {
  const clock = new TestClock(S0 * 1000);
  const counters = counting();
  const maxBytes = 512 * 1024;
  const store = open(tempDir(), clock, { maxBytes }, { counters });
  t.teardown(() => store.close());
  for (let s = 0; s < 1200; s++) {
    clock.ms = (S0 + s) * 1000;
    for (let z = 0; z < 20; z++) store.recorder.reading(reading({ zone: `z${z}`, timeMs: clock.ms, people: s, smoothed: s }));
    if (s % 10 === 9) {
      store.flush();
      t.true(store.diskBytes() <= maxBytes, `${store.diskBytes()} bytes after second ${s}`);
    }
  }
  t.true(counters.capped_ > 0, 'rows were deleted for the cap');
  t.deepEqual(counters.failures, [], 'no write failed');
  const [z0] = store.queries.history({ camera: 'hall', zone: 'z0', fromS: S0, toS: S0 + 1200, stepS: 1 });
  t.is(z0.time[z0.time.length - 1], S0 + 1199, 'the newest second is kept');
  t.true(z0.time[0] > S0, 'the oldest seconds are gone');
  // What is kept is one unbroken stretch up to now: deletion took the oldest first.
  t.is(z0.time.length, S0 + 1200 - z0.time[0]);
});

test('a file that is not a database is moved aside, never deleted, and a new one started', (t) => {
  const dir = tempDir();
  const garbage = Buffer.from('not a database\n'.repeat(1000));
  writeFileSync(path.join(dir, 'history.db'), garbage);
  const log: string[] = [];
  const store = open(dir, new TestClock(S0 * 1000), {}, { log });
  t.teardown(() => store.close());
  const aside = readdirSync(dir).find((f) => f.startsWith('history.db.corrupt-'));
  t.truthy(aside);
  t.true(readFileSync(path.join(dir, aside as string)).equals(garbage), 'the old bytes are kept as they were');
  t.regex(log.join('\n'), /history: .*history\.db was .*; moved aside to .*history\.db\.corrupt-\d{8}T\d{6}Z \(kept, not deleted\)/);
  store.recorder.reading(reading({ people: 4 }));
  store.flush();
  t.deepEqual(store.queries.history({ camera: 'hall', zone: 'entry', fromS: S0, toS: S0 + 1, stepS: 1 })[0].people_max, [4]);
});

test("another program's SQLite file and a newer crowdline's file are moved aside too", (t) => {
  const dir = tempDir();
  const foreign = new Database(path.join(dir, 'history.db'));
  foreign.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('kept')");
  foreign.close();
  const log: string[] = [];
  open(dir, new TestClock(S0 * 1000), {}, { log }).close();
  const aside = readdirSync(dir).find((f) => f.startsWith('history.db.foreign-')) as string;
  const check = new Database(path.join(dir, aside), { readonly: true });
  t.deepEqual(check.prepare('SELECT name FROM users').all(), [{ name: 'kept' }]);
  check.close();
  // A file whose schema is newer than this code knows.
  const newer = new Database(path.join(dir, 'history.db'));
  newer.prepare('INSERT INTO schema_version (version, applied_at_ms) VALUES (?, ?)').run(MIGRATIONS.length + 1, 0);
  newer.close();
  open(dir, new TestClock(S0 * 1000), {}, { log }).close();
  t.truthy(readdirSync(dir).find((f) => f.startsWith('history.db.newer-')));
  t.true(log.join('\n').includes(`written by a newer crowdline (schema ${MIGRATIONS.length + 1}; this one knows up to ${MIGRATIONS.length})`));
});

test('the schema migrates forward: a file at version 1 gets a later migration and keeps its rows', (t) => {
  const dir = tempDir();
  const clock = new TestClock(S0 * 1000);
  const store = open(dir, clock);
  store.recorder.reading(reading({ people: 9 }));
  store.close();
  const next = MIGRATIONS.length + 1;
  const later = [...MIGRATIONS, { version: next, description: 'test', sql: 'ALTER TABLE series ADD COLUMN note TEXT' }];
  const opened = openHistoryDb(dir, { nowMs: clock.ms, migrations: later });
  t.deepEqual(opened.migrated, { from: next - 1, to: next });
  t.is(schemaVersion(opened.db), next);
  t.deepEqual(
    opened.db.prepare('SELECT version FROM schema_version ORDER BY version').all(),
    later.map((m) => ({ version: m.version })),
  );
  t.deepEqual(opened.db.prepare('SELECT camera, zone, note FROM series').all(), [{ camera: 'hall', zone: 'entry', note: null }]);
  t.is((opened.db.prepare('SELECT people_max FROM fine').get() as { people_max: number }).people_max, 9);
  // Migrating again does nothing.
  t.deepEqual(migrate(opened.db, clock.ms, later), { from: next, to: next });
  opened.db.close();
});

test('between two writes the recorder holds a bounded number of buckets; the rest are dropped and counted', (t) => {
  const dropped: string[] = [];
  const counters: HistoryCounters = { ...counting(), dropped: (kind, reason, n = 1) => void dropped.push(`${kind}:${reason}:${n}`) };
  const clock = new TestClock(S0 * 1000);
  const recorder = new HistoryRecorder(clock, { maxSkewMs: 300_000, maxPendingSamples: 3, maxPendingAlerts: 2 }, counters);
  for (let z = 0; z < 5; z++) recorder.reading(reading({ zone: `z${z}`, people: z }));
  recorder.reading(reading({ zone: 'z0', people: 9 })); // an existing bucket still takes frames
  for (let i = 0; i < 3; i++)
    recorder.alert({
      camera: 'hall',
      zone: 'entry',
      timeMs: S0 * 1000 + i,
      state: 2,
      previous: 0,
      rule: `r${i}`,
      value: 1,
      metric: 'people',
      clock: 'capture',
    });
  const { samples, alerts } = recorder.take();
  t.deepEqual(
    samples.map((s) => [s.zone, s.frames]),
    [
      ['z0', 2],
      ['z1', 1],
      ['z2', 1],
    ],
  );
  t.deepEqual(
    alerts.map((a) => a.rule),
    ['r1', 'r2'],
    'the oldest alert went first',
  );
  t.deepEqual(dropped, ['sample:pending-full:1', 'sample:pending-full:1', 'alert:pending-full:1']);
  t.is(recorder.pending, 0);
});
