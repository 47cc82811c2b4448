/**
 * The history API's answers (src/history/api.ts) over a real store on a
 * controlled clock: ranges, steps, CSV, limits, and 400s that say why.
 * Every JSON answer is also checked against docs/openapi.yaml.
 */
import test from 'ava';
import { HistoryApi, type ApiLimits, type ApiResponse } from '../src/history/api.js';
import { HistoryStore } from '../src/history/store.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { tempDir } from './helpers/server.js';
import { openApiChecker } from './helpers/openapi.js';

const S0 = 1_800_000_000 - (1_800_000_000 % 3600);
const SITE = parseSiteFile(`
cameras:
  hall:
    zones:
      - { name: entry, polygon: [[0, 0], [1, 0], [1, 1]], capacity: 10, alerts: [{ level: alarm, above: 8, for_s: 2, clear_below: 5 }] }
      - { name: exit, polygon: [[0, 0], [1, 0], [1, 1]] }
`);

const check = openApiChecker();

function setUp(limits: Partial<ApiLimits> = {}): { api: HistoryApi; store: HistoryStore; clock: { ms: number; now(): number } } {
  const clock = {
    ms: S0 * 1000,
    now() {
      return this.ms;
    },
  };
  const store = HistoryStore.open({ dir: tempDir(), clock, limits: { fineHours: 48, days: 30, maxBytes: 1 << 30, maxSkewMs: 300_000 }, log: () => undefined });
  // Ten minutes: entry counts s % 10 twice a second, "exit" 1; an alarm from 120 s to 300 s.
  for (let s = 0; s < 600; s++) {
    clock.ms = (S0 + s) * 1000;
    for (const half of [0, 500]) {
      const state = s >= 120 && s < 300 ? 2 : 0;
      store.recorder.reading({ camera: 'hall', zone: 'entry', zoneId: 0, timeMs: clock.ms + half, people: s % 10, smoothed: 5, occupancy: 0.5, state });
      store.recorder.reading({ camera: 'hall', zone: 'exit', zoneId: 1, timeMs: clock.ms + half, people: 1, smoothed: 1, occupancy: Number.NaN, state: 0 });
    }
  }
  clock.ms = (S0 + 120) * 1000;
  store.recorder.alert({
    camera: 'hall',
    zone: 'entry',
    timeMs: (S0 + 120) * 1000,
    state: 2,
    previous: 0,
    rule: 'smoothed >= 8 for 2s (clear < 5 for 2s)',
    metric: 'smoothed',
    clock: 'capture',
    value: 8.5,
  });
  clock.ms = (S0 + 300) * 1000;
  store.recorder.alert({
    camera: 'hall',
    zone: 'entry',
    timeMs: (S0 + 300) * 1000,
    state: 0,
    previous: 2,
    rule: 'smoothed >= 8 for 2s (clear < 5 for 2s)',
    metric: 'smoothed',
    clock: 'capture',
    value: 4.9,
  });
  store.flush();
  clock.ms = (S0 + 599) * 1000;
  const api = new HistoryApi({ site: () => SITE, store, clock, limits: { maxRangeS: 31 * 86_400, maxPoints: 50_000, maxAlerts: 5_000, ...limits } });
  return { api, store, clock };
}

function get(api: HistoryApi, url: string, accept?: string): ApiResponse & { json: () => any } {
  const u = new URL(url, 'http://console');
  const res = api.handle({ path: u.pathname, query: u.searchParams, accept });
  if (!res) throw new Error(`no route for ${url}`);
  return { ...res, json: () => JSON.parse(res.body) };
}

test('history: a range in 60 s steps; means, maxima and states per bucket; both zones without zone=', (t) => {
  const { api } = setUp();
  const res = get(api, `/api/v1/history?camera=hall&zone=entry&from=${S0}&to=${S0 + 600}&step=60`);
  t.is(res.status, 200);
  check(t, '/api/v1/history', res);
  const body = res.json();
  t.is(body.step, 60);
  t.is(body.from, new Date(S0 * 1000).toISOString());
  const [entry] = body.series;
  t.deepEqual(
    entry.time,
    Array.from({ length: 10 }, (_, i) => S0 + i * 60),
  );
  t.true(entry.frames.every((f: number) => f === 120));
  t.true(entry.people_mean.every((m: number) => m === 4.5));
  t.true(entry.people_max.every((m: number) => m === 9));
  t.deepEqual(entry.state, [0, 0, 2, 2, 2, 0, 0, 0, 0, 0]);
  const both = get(api, `/api/v1/history?camera=hall&from=${new Date(S0 * 1000).toISOString()}&to=${S0 + 600}&step=600`).json();
  t.deepEqual(
    both.series.map((s: { zone: string; frames: number[] }) => [s.zone, s.frames]),
    [
      ['entry', [1200]],
      ['exit', [1200]],
    ],
  );
});

test('history: without step, the smallest step that gives at most 1000 points; without from/to, the last hour', (t) => {
  const { api } = setUp();
  t.is(get(api, `/api/v1/history?camera=hall&zone=entry&from=${S0}&to=${S0 + 600}`).json().step, 1);
  t.is(get(api, `/api/v1/history?camera=hall&zone=entry&from=${S0}&to=${S0 + 86_400}`).json().step, 300);
  t.is(get(api, `/api/v1/history?camera=hall&zone=entry&from=${S0}&to=${S0 + 30 * 86_400}`).json().step, 3600);
  const lastHour = get(api, '/api/v1/history?camera=hall&zone=entry').json();
  t.is(lastHour.step, 5);
  t.is(lastHour.to, new Date((S0 + 599) * 1000).toISOString());
  t.is(lastHour.from, new Date((S0 + 599 - 3600) * 1000).toISOString());
  // Seconds 0..598 (to is excluded: the second now in progress is not in the answer) in 5 s buckets.
  t.is(lastHour.series[0].time.length, 120);
  t.is(lastHour.series[0].frames[119], 8);
});

test('history as CSV, by Accept or format=csv', (t) => {
  const { api } = setUp();
  const byAccept = get(api, `/api/v1/history?camera=hall&from=${S0}&to=${S0 + 120}&step=60`, 'text/csv');
  const byFormat = get(api, `/api/v1/history?camera=hall&from=${S0}&to=${S0 + 120}&step=60&format=csv`);
  t.is(byAccept.contentType, 'text/csv; charset=utf-8');
  t.is(byAccept.body, byFormat.body);
  t.is(
    byAccept.body,
    [
      'camera,zone,time,epoch_s,frames,people_mean,people_max,smoothed,state',
      `hall,entry,${new Date(S0 * 1000).toISOString()},${S0},120,4.5,9,5,ok`,
      `hall,entry,${new Date((S0 + 60) * 1000).toISOString()},${S0 + 60},120,4.5,9,5,ok`,
      `hall,exit,${new Date(S0 * 1000).toISOString()},${S0},120,1,1,1,ok`,
      `hall,exit,${new Date((S0 + 60) * 1000).toISOString()},${S0 + 60},120,1,1,1,ok`,
      '',
    ].join('\n'),
  );
  t.is(byAccept.filename, 'crowdline-hall-history.csv');
});

test('alerts: newest first, filtered by state and zone, limited and marked truncated; CSV', (t) => {
  const { api } = setUp();
  const all = get(api, `/api/v1/alerts?from=${S0}&to=${S0 + 600}`);
  check(t, '/api/v1/alerts', all);
  t.deepEqual(
    all.json().alerts.map((a: { state: string; previous: string }) => `${a.previous}->${a.state}`),
    ['alarm->ok', 'ok->alarm'],
  );
  t.deepEqual(
    get(api, `/api/v1/alerts?camera=hall&zone=entry&state=alarm&from=${S0}&to=${S0 + 600}`)
      .json()
      .alerts.map((a: { time: string }) => a.time),
    [new Date((S0 + 120) * 1000).toISOString()],
  );
  const one = get(api, `/api/v1/alerts?from=${S0}&to=${S0 + 600}&limit=1`).json();
  t.is(one.alerts.length, 1);
  t.true(one.truncated);
  t.deepEqual(get(api, `/api/v1/alerts?camera=hall&zone=exit&from=${S0}&to=${S0 + 600}`).json().alerts, []);
  t.regex(
    get(api, `/api/v1/alerts?from=${S0}&to=${S0 + 600}&format=csv`).body,
    /^camera,zone,time,state,previous,rule,metric,value\nhall,entry,.*,ok,alarm,smoothed >= 8 for 2s \(clear < 5 for 2s\),smoothed,4\.9\n/,
  );
});

test('cameras: the site with thresholds, each zone now and its peak today', (t) => {
  const { api } = setUp();
  const res = get(api, '/api/v1/cameras');
  check(t, '/api/v1/cameras', res);
  const [hall] = res.json().cameras;
  t.is(hall.name, 'hall');
  const entry = hall.zones.find((z: { name: string }) => z.name === 'entry');
  t.deepEqual(entry.rules, [{ level: 'alarm', metric: 'smoothed', above: 8, for_s: 2, clear_below: 5, clear_for_s: 2 }]);
  t.is(entry.capacity, 10);
  t.deepEqual(entry.now, { time: new Date((S0 + 599) * 1000 + 500).toISOString(), people: 9, smoothed: 5, occupancy: 0.5, state: 'ok' });
  t.is(entry.peak_today.people, 9);
});

test('limits: range, points and alerts per request, each a 400 that names the option', (t) => {
  const { api } = setUp({ maxRangeS: 86_400, maxPoints: 100, maxAlerts: 1 });
  const tooLong = get(api, `/api/v1/history?camera=hall&zone=entry&from=${S0}&to=${S0 + 2 * 86_400}&step=3600`);
  t.is(tooLong.status, 400);
  t.regex(tooLong.json().error, /spans 2 days, over the limit of 1 days \(--api-max-range-days\)/);
  const tooMany = get(api, `/api/v1/history?camera=hall&from=${S0}&to=${S0 + 600}&step=10`);
  t.is(tooMany.status, 400);
  t.is(tooMany.json().error, '120 points (60 steps x 2 zone(s)) is over the limit of 100 per request (--api-max-points): use step >= 12 or a shorter range');
  t.is(get(api, `/api/v1/history?camera=hall&from=${S0}&to=${S0 + 600}&step=12`).status, 200);
  const alerts = get(api, `/api/v1/alerts?from=${S0}&to=${S0 + 600}&limit=2`);
  t.is(alerts.status, 400);
  t.is(alerts.json().error, 'limit must be 1..1 (--api-max-alerts), got 2');
});

const BAD: Array<[string, RegExp]> = [
  ['/api/v1/history?zone=entry', /^camera: Required$/],
  ['/api/v1/history?camera=hall&from=yesterday', /^from must be an ISO 8601 time with a zone/],
  ['/api/v1/history?camera=hall&from=2026-12-07T05:00:00', /^from must be an ISO 8601 time with a zone/],
  ['/api/v1/history?camera=hall&to=1e999', /^to must be an ISO 8601 time/],
  [`/api/v1/history?camera=hall&from=${S0 + 10}&to=${S0}`, /^from must be before to$/],
  ['/api/v1/history?camera=hall&step=0', /^step must be at least 1 second$/],
  ['/api/v1/history?camera=hall&step=1.5', /^step must be a whole number of seconds$/],
  ['/api/v1/history?camera=hall&camera=hall', /^camera is given more than once$/],
  ['/api/v1/history?camera=hall&zome=entry', /^unknown parameter "zome"$/],
  ['/api/v1/history?camera=a%2Fb', /^camera must be a camera or zone name/],
  ['/api/v1/history?camera=hall&format=xml', /^format: Invalid enum value/],
  ['/api/v1/alerts?state=panic', /^state must be ok, warning, alarm/],
  ['/api/v1/alerts?zone=entry', /^zone needs camera$/],
  ['/api/v1/alerts?limit=-1', /^limit must be a whole number$/],
  ['/api/v1/cameras?x=1', /^unknown parameter "x"/],
];

for (const [url, reason] of BAD) {
  test(`400 with a reason: ${url}`, (t) => {
    const { api } = setUp();
    const res = get(api, url);
    t.is(res.status, 400);
    check(t, new URL(url, 'http://x').pathname, res);
    t.regex(res.json().error, reason);
  });
}

test('history off: /api/v1/history and /api/v1/alerts say so; /api/v1/cameras still lists the site', (t) => {
  const clock = { now: () => S0 * 1000 };
  const api = new HistoryApi({ site: () => SITE, clock, limits: { maxRangeS: 86_400, maxPoints: 100, maxAlerts: 1 } });
  const res = get(api, '/api/v1/history?camera=hall');
  t.is(res.status, 400);
  t.regex(res.json().error, /history is off on this server/);
  const cameras = get(api, '/api/v1/cameras').json();
  t.false(cameras.history);
  t.is(cameras.cameras[0].zones[0].now, null);
  t.is(api.handle({ path: '/api/v1/elsewhere', query: new URLSearchParams() }), undefined);
});
