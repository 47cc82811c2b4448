/**
 * Counting lines in the history store and API on a controlled clock: per
 * second sums of people in and out, rollup to minutes and retention, the cap
 * (a camera with only lines is trimmed too), /api/v1/lines with the same
 * ranges, steps, CSV and limits as /api/v1/history (checked against
 * docs/openapi.yaml), and the lines listed by /api/v1/cameras.
 */
import test from 'ava';
import { HistoryApi, type ApiLimits, type ApiResponse } from '../src/history/api.js';
import { HistoryStore } from '../src/history/store.js';
import type { HistoryCounters, HistoryLimits } from '../src/history/types.js';
import type { LineReading } from '../src/lines/line-tracker.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { openApiChecker } from './helpers/openapi.js';
import { tempDir } from './helpers/server.js';

const S0 = 1_800_000_000 - (1_800_000_000 % 3600);
const SITE = parseSiteFile(`
cameras:
  gate:
    width: 768
    height: 576
    zones:
      - { name: hall, polygon: [[0, 0], [768, 0], [768, 300], [0, 300]] }
    lines:
      - { name: door, points: [[0, 300], [768, 300]], in: left, band_px: 40 }
      - { name: side, points: [[600, 0], [600, 300]], in: right }
`);
const check = openApiChecker();

class TestClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

function open(clock: TestClock, limits: Partial<HistoryLimits> = {}, counters?: HistoryCounters): HistoryStore {
  return HistoryStore.open({
    dir: tempDir(),
    clock,
    limits: { fineHours: 48, days: 30, maxBytes: 1 << 30, maxSkewMs: 300_000, ...limits },
    log: () => undefined,
    counters,
  });
}

const reading = (line: string, timeMs: number, stepIn: number, stepOut: number): LineReading => ({
  camera: 'gate',
  line,
  lineId: line === 'door' ? 0 : 1,
  timeMs,
  in: 0,
  out: 0,
  stepIn,
  stepOut,
});

/** Ten minutes: "door" gets 0.5 in and 0.25 out at .2 s and .7 s of every second, "side" 1 out every 10 s. */
function tenMinutes(store: HistoryStore, clock: TestClock): void {
  for (let s = 0; s < 600; s++) {
    clock.ms = (S0 + s) * 1000;
    store.lineRecorder.reading(reading('door', clock.ms + 200, 0.5, 0.25));
    store.lineRecorder.reading(reading('door', clock.ms + 700, 0.5, 0.25));
    if (s % 10 === 0) store.lineRecorder.reading(reading('side', clock.ms + 100, 0, 1));
    if (s % 60 === 59) store.flush();
  }
}

function get(api: HistoryApi, url: string, accept?: string): ApiResponse & { json: () => any } {
  const u = new URL(url, 'http://console');
  const res = api.handle({ path: u.pathname, query: u.searchParams, accept });
  if (!res) throw new Error(`no route for ${url}`);
  return { ...res, json: () => JSON.parse(res.body) };
}

function setUp(limits: Partial<ApiLimits> = {}): { api: HistoryApi; store: HistoryStore; clock: TestClock } {
  const clock = new TestClock(S0 * 1000);
  const store = open(clock);
  tenMinutes(store, clock);
  store.flush();
  clock.ms = (S0 + 600) * 1000;
  const api = new HistoryApi({ site: () => SITE, store, clock, limits: { maxRangeS: 31 * 86_400, maxPoints: 50_000, maxAlerts: 5_000, ...limits } });
  return { api, store, clock };
}

test('one row per line and second with crossings: sums of in and out; a window that counted nothing writes no row', (t) => {
  const clock = new TestClock(S0 * 1000);
  const written: Array<[string, number]> = [];
  const dropped: string[] = [];
  const store = open(
    clock,
    {},
    {
      written: (kind, n) => written.push([kind, n]),
      dropped: (kind, reason) => dropped.push(`${kind}/${reason}`),
      writeFailed: () => undefined,
      skewed: () => undefined,
      capped: () => undefined,
    },
  );
  t.teardown(() => store.close());
  store.lineRecorder.reading(reading('door', S0 * 1000 + 100, 1, 0));
  store.lineRecorder.reading(reading('door', S0 * 1000 + 900, 0.5, 2));
  store.lineRecorder.reading(reading('door', S0 * 1000 + 1100, 0, 0));
  store.lineRecorder.reading(reading('door', S0 * 1000 + 1200, Number.NaN, 1));
  store.lineRecorder.reading(reading('side', S0 * 1000 + 2500, 0, 3));
  store.flush();
  // A late window of a second already written adds to its row.
  store.lineRecorder.reading(reading('door', S0 * 1000 + 300, 0.25, 0));
  store.flush();
  const [door, side] = store.queries.lines({ camera: 'gate', fromS: S0, toS: S0 + 10, stepS: 1 });
  t.deepEqual(door, { camera: 'gate', line: 'door', time: [S0], in: [1.75], out: [2] });
  t.deepEqual(side, { camera: 'gate', line: 'side', time: [S0 + 2], in: [0], out: [3] });
  t.deepEqual(dropped, ['line/not-finite']);
  t.deepEqual(
    written.filter(([kind]) => kind === 'line'),
    [
      ['line', 2],
      ['line', 1],
    ],
  );
});

test('rollup: line seconds older than --history-fine-hours become minutes with the same sums; retention deletes them in time', (t) => {
  const clock = new TestClock(S0 * 1000);
  const store = open(clock, { fineHours: 1, days: 1 });
  t.teardown(() => store.close());
  for (let s = 0; s < 3 * 3600; s += 2) {
    clock.ms = (S0 + s) * 1000;
    store.lineRecorder.reading(reading('door', clock.ms, 1, 0.5));
    if (s % 600 === 0) store.flush();
  }
  store.flush();
  clock.ms = (S0 + 3 * 3600) * 1000;
  store.maintain();
  const early = store.queries.lines({ camera: 'gate', line: 'door', fromS: S0, toS: S0 + 7200, stepS: 1 })[0];
  t.is(early.time.length, 120, 'minutes only before the fine window');
  t.true(early.in.every((v) => v === 30) && early.out.every((v) => v === 15));
  const recent = store.queries.lines({ camera: 'gate', line: 'door', fromS: S0 + 7200, toS: S0 + 10800, stepS: 1 })[0];
  t.is(recent.time.length, 1800, 'every other second stays a second');
  const hours = store.queries.lines({ camera: 'gate', line: 'door', fromS: S0, toS: S0 + 10800, stepS: 3600 })[0];
  t.deepEqual(hours.in, [1800, 1800, 1800], 'nothing lost in the rollup');
  t.deepEqual(hours.out, [900, 900, 900]);
  clock.ms = (S0 + 86_400 + 5400) * 1000;
  store.maintain();
  const kept = store.queries.lines({ camera: 'gate', line: 'door', fromS: 0, toS: S0 + 10800, stepS: 60 })[0];
  t.is(kept.time[0], S0 + 5400);
  clock.ms = (S0 + 2 * 86_400) * 1000;
  store.maintain();
  t.deepEqual(store.queries.lines({ camera: 'gate', line: 'door', fromS: 0, toS: S0 + 10800, stepS: 60 })[0].time, []);
});

test('--history-max-mb: a camera with only lines is trimmed too, oldest first', (t) => {
  const clock = new TestClock(S0 * 1000);
  const store = open(clock, { maxBytes: 2 * 1024 * 1024 });
  t.teardown(() => store.close());
  // About 130,000 rows of ~28 bytes with their index (64,800 of them made 1.8 MB): well over 2 MiB.
  for (let s = 0; s < 6 * 3600; s++) {
    clock.ms = (S0 + s) * 1000;
    for (let l = 0; l < 6; l++) store.lineRecorder.reading({ ...reading(`l${l}`, clock.ms, 1, 1), line: `line-${l}` });
    if (s % 600 === 599) store.flush();
  }
  store.flush();
  store.maintain();
  t.true(store.diskBytes() <= 2 * 1024 * 1024, `${store.diskBytes()} bytes`);
  const [first] = store.queries.lines({ camera: 'gate', line: 'line-0', fromS: 0, toS: S0 + 6 * 3600, stepS: 1 });
  t.true(first.time[0] > S0, 'the oldest seconds went');
  t.is(first.time[first.time.length - 1], S0 + 6 * 3600 - 1, 'the newest second stayed');
});

test('/api/v1/lines: a range in 60 s steps, both lines without line=, the net; checked against the OpenAPI file', (t) => {
  const { api } = setUp();
  const res = get(api, `/api/v1/lines?camera=gate&line=door&from=${S0}&to=${S0 + 600}&step=60`);
  t.is(res.status, 200);
  check(t, '/api/v1/lines', res);
  const body = res.json();
  t.is(body.step, 60);
  const [door] = body.series;
  t.deepEqual(
    door.time,
    Array.from({ length: 10 }, (_, i) => S0 + i * 60),
  );
  t.true(door.in.every((v: number) => v === 60));
  t.true(door.out.every((v: number) => v === 30));
  t.true(door.net.every((v: number) => v === 30));
  const both = get(api, `/api/v1/lines?camera=gate&from=${S0}&to=${S0 + 600}&step=600`).json();
  t.deepEqual(
    both.series.map((s: { line: string; in: number[]; out: number[] }) => [s.line, s.in, s.out]),
    [
      ['door', [600], [300]],
      ['side', [0], [60]],
    ],
  );
  // Only buckets with crossings appear: "side" counts every 10 s.
  t.is(get(api, `/api/v1/lines?camera=gate&line=side&from=${S0}&to=${S0 + 60}&step=1`).json().series[0].time.length, 6);
  // Without step: the history API's rule (at most 1000 buckets); without from/to: the last hour.
  t.is(get(api, `/api/v1/lines?camera=gate&line=door&from=${S0}&to=${S0 + 86_400}`).json().step, 300);
  t.is(
    get(api, '/api/v1/lines?camera=gate&line=door')
      .json()
      .series[0].in.reduce((a: number, b: number) => a + b, 0),
    600,
  );
  t.deepEqual(get(api, `/api/v1/lines?camera=elsewhere&from=${S0}&to=${S0 + 600}`).json().series, []);
});

test('/api/v1/lines as CSV, by Accept or format=csv', (t) => {
  const { api } = setUp();
  const byAccept = get(api, `/api/v1/lines?camera=gate&from=${S0}&to=${S0 + 120}&step=60`, 'text/csv');
  const byFormat = get(api, `/api/v1/lines?camera=gate&from=${S0}&to=${S0 + 120}&step=60&format=csv`);
  t.is(byAccept.body, byFormat.body);
  t.is(byAccept.contentType, 'text/csv; charset=utf-8');
  t.is(
    byAccept.body,
    [
      'camera,line,time,epoch_s,in,out,net',
      `gate,door,${new Date(S0 * 1000).toISOString()},${S0},60,30,30`,
      `gate,door,${new Date((S0 + 60) * 1000).toISOString()},${S0 + 60},60,30,30`,
      `gate,side,${new Date(S0 * 1000).toISOString()},${S0},0,6,-6`,
      `gate,side,${new Date((S0 + 60) * 1000).toISOString()},${S0 + 60},0,6,-6`,
      '',
    ].join('\n'),
  );
  t.is(byAccept.filename, 'crowdline-gate-lines.csv');
});

test('/api/v1/lines limits: range and points (buckets x lines), each a 400 that names the option', (t) => {
  const { api } = setUp({ maxRangeS: 86_400, maxPoints: 100 });
  const tooLong = get(api, `/api/v1/lines?camera=gate&line=door&from=${S0}&to=${S0 + 2 * 86_400}&step=3600`);
  t.is(tooLong.status, 400);
  t.regex(tooLong.json().error, /over the limit of 1 days \(--api-max-range-days\)/);
  const tooMany = get(api, `/api/v1/lines?camera=gate&from=${S0}&to=${S0 + 600}&step=10`);
  t.is(tooMany.status, 400);
  t.is(tooMany.json().error, '120 points (60 steps x 2 line(s)) is over the limit of 100 per request (--api-max-points): use step >= 12 or a shorter range');
  t.is(get(api, `/api/v1/lines?camera=gate&from=${S0}&to=${S0 + 600}&step=12`).status, 200);
  t.is(get(api, `/api/v1/lines?camera=gate&line=door&from=${S0}&to=${S0 + 600}&step=10`).status, 200);
});

const BAD: Array<[string, RegExp]> = [
  ['/api/v1/lines?line=door', /^camera: Required$/],
  ['/api/v1/lines?camera=gate&line=a%2Fb', /^line must be a line name as in the site file/],
  ['/api/v1/lines?camera=gate&zone=hall', /^unknown parameter "zone"$/],
  ['/api/v1/lines?camera=gate&step=0', /^step must be at least 1 second$/],
  ['/api/v1/lines?camera=gate&from=noon', /^from must be an ISO 8601 time/],
  [`/api/v1/lines?camera=gate&from=${S0 + 10}&to=${S0}`, /^from must be before to$/],
  ['/api/v1/lines?camera=gate&line=door&line=side', /^line is given more than once$/],
];

for (const [url, reason] of BAD) {
  test(`/api/v1/lines 400 with a reason: ${url}`, (t) => {
    const { api } = setUp();
    const res = get(api, url);
    t.is(res.status, 400);
    check(t, '/api/v1/lines', res);
    t.regex(res.json().error, reason);
  });
}

test("/api/v1/cameras lists each camera's lines; with history off, /api/v1/lines says so", (t) => {
  const { api } = setUp();
  const res = get(api, '/api/v1/cameras');
  check(t, '/api/v1/cameras', res);
  t.deepEqual(res.json().cameras[0].lines, [
    {
      name: 'door',
      id: 0,
      points: [
        [0, 300],
        [768, 300],
      ],
      in: 'left',
      band_px: 40,
    },
    {
      name: 'side',
      id: 1,
      points: [
        [600, 0],
        [600, 300],
      ],
      in: 'right',
      band_px: null,
    },
  ]);
  const off = new HistoryApi({ site: () => SITE, clock: new TestClock(S0 * 1000), limits: { maxRangeS: 86_400, maxPoints: 100, maxAlerts: 1 } });
  const res2 = get(off, '/api/v1/lines?camera=gate');
  t.is(res2.status, 400);
  t.regex(res2.json().error, /history is off/);
});
