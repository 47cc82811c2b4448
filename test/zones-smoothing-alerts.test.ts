/** Time-based smoothing and alert hysteresis on scripted sequences. */
import test from 'ava';
import { ZoneAlertState } from '../src/framing/index.js';
import { alertPayload, ZoneEventFanout, type AlertPayload, type EventSink } from '../src/events/zone-events.js';
import { ZoneTracker } from '../src/zones/zone-tracker.js';
import { ZoneAlerts } from '../src/zones/alerts.js';
import { MaskCache } from '../src/zones/coverage.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadSiteFile, parseSiteFile, SITE_LIMITS, type AlertRule } from '../src/zones/site-file.js';
import { tempDir } from './helpers/server.js';
import { TimeEma } from '../src/zones/smoothing.js';

test('EMA: a step gives the same curve in time at 2 fps, 25 fps and with jittered frame times', (t) => {
  const tauS = 5;
  const curve = (times: number[]): Map<number, number> => {
    const ema = new TimeEma(tauS * 1000);
    ema.update(0, 0);
    const out = new Map<number, number>();
    for (const ms of times) out.set(ms, ema.update(10, ms));
    return out;
  };
  const at = (fps: number): number[] => Array.from({ length: 20 * fps }, (_, i) => Math.round(((i + 1) * 1000) / fps));
  const slow = curve(at(2));
  const fast = curve(at(25));
  let x = 0;
  const jitter: number[] = [];
  for (let i = 0; x < 20_000; i++) jitter.push((x += 1000 / 25 + (i % 7) * 37));
  const jittered = curve([...jitter.filter((ms) => ms % 1000 !== 0), 1000, 2000, 5000, 10000, 15000].sort((a, b) => a - b));
  for (const s of [1, 2, 5, 10, 15]) {
    const expected = 10 * (1 - Math.exp(-s / tauS));
    t.true(Math.abs((slow.get(s * 1000) as number) - expected) < 1e-9, `2 fps at ${s}s`);
    t.true(Math.abs((fast.get(s * 1000) as number) - expected) < 1e-9, `25 fps at ${s}s`);
    t.true(Math.abs((jittered.get(s * 1000) as number) - expected) < 1e-9, `jittered at ${s}s`);
  }
  // After tau seconds, 63 % of the step.
  t.true(Math.abs((slow.get(5000) as number) - 6.3212) < 1e-3);
});

test('EMA: a repeated or earlier timestamp moves nothing', (t) => {
  const ema = new TimeEma(1000);
  ema.update(0, 1000);
  t.is(ema.update(100, 1000), 0);
  t.is(ema.update(100, 500), 0);
  t.true(ema.update(100, 2000) > 0);
});

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({
  level: ZoneAlertState.Alarm,
  metric: 'smoothed',
  above: 10,
  forMs: 5000,
  clearBelow: 8,
  clearForMs: 3000,
  text: 'test',
  ...over,
});

/** Feeds [timeS, value] pairs; returns the times of transitions and the states entered. */
function run(alerts: ZoneAlerts, seq: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, v] of seq) {
    const tr = alerts.update({ people: v, smoothed: v, occupancy: v / 100 }, s * 1000);
    if (tr) out.push([s, tr.state]);
  }
  return out;
}

test('alerts: a value hovering around the threshold never raises (each dip restarts the hold)', (t) => {
  const alerts = new ZoneAlerts([rule()]);
  const seq: Array<[number, number]> = [];
  for (let s = 0; s < 60; s++) seq.push([s, s % 4 === 3 ? 9.9 : 10.5]);
  t.deepEqual(run(alerts, seq), []);
});

test('alerts: raised after exactly the hold time, held between the thresholds, cleared after the clear time', (t) => {
  const alerts = new ZoneAlerts([rule()]);
  const seq: Array<[number, number]> = [
    [0, 5],
    [1, 12], // above from 1 s
    [2, 12],
    [5, 12], // 4 s: not yet
    [6, 12], // 5 s: raised
    [7, 9], // between 8 and 10: stays raised
    [8, 7.9], // below 8 from 8 s
    [10, 7], // 2 s: not yet
    [10.5, 8.5], // a break: clock restarts
    [11, 7],
    [13.9, 7], // 2.9 s
    [14, 7], // 3 s: cleared
    [15, 9.9], // below above: stays ok
  ];
  t.deepEqual(run(alerts, seq), [
    [6, ZoneAlertState.Alarm],
    [14, ZoneAlertState.Ok],
  ]);
  t.is(alerts.state, ZoneAlertState.Ok);
});

test('alerts: a noisy count between the clear and raise thresholds does not flap', (t) => {
  const alerts = new ZoneAlerts([rule({ forMs: 0, clearForMs: 0 })]);
  const seq: Array<[number, number]> = [[0, 11]];
  for (let s = 1; s < 100; s++) seq.push([s, 8 + ((s * 7919) % 200) / 100]); // 8.00 .. 9.99
  t.deepEqual(run(alerts, seq), [[0, ZoneAlertState.Alarm]]);
});

test('alerts: warning and alarm levels report the state entered and the one left', (t) => {
  const alerts = new ZoneAlerts([
    rule({ level: ZoneAlertState.Warning, above: 30, clearBelow: 25, forMs: 2000, clearForMs: 2000, text: 'warn' }),
    rule({ level: ZoneAlertState.Alarm, above: 45, clearBelow: 40, forMs: 2000, clearForMs: 2000, text: 'alarm' }),
  ]);
  const transitions: Array<{ s: number; state: number; previous: number; rule: string }> = [];
  const feed = (s: number, v: number): void => {
    const tr = alerts.update({ people: v, smoothed: v, occupancy: Number.NaN }, s * 1000);
    if (tr) transitions.push({ s, state: tr.state, previous: tr.previous, rule: tr.rule });
  };
  [0, 1, 2, 3, 4, 5, 6].forEach((s) => feed(s, 50));
  [7, 8, 9].forEach((s) => feed(s, 35));
  [10, 11, 12, 13].forEach((s) => feed(s, 10));
  t.deepEqual(transitions, [
    { s: 2, state: ZoneAlertState.Alarm, previous: ZoneAlertState.Ok, rule: 'alarm' },
    { s: 9, state: ZoneAlertState.Warning, previous: ZoneAlertState.Alarm, rule: 'alarm' },
    { s: 12, state: ZoneAlertState.Ok, previous: ZoneAlertState.Warning, rule: 'warn' },
  ]);
});

test('alerts: reset returns a raised zone to ok once', (t) => {
  const alerts = new ZoneAlerts([rule({ forMs: 0 })]);
  run(alerts, [[0, 20]]);
  t.is(alerts.reset()?.previous, ZoneAlertState.Alarm);
  t.is(alerts.reset(), undefined);
});

const SITE = `
cameras:
  walkway:
    width: 768
    height: 576
    zones:
      - name: left
        polygon: [[10, 300], [380, 300], [380, 560], [10, 560]]
        capacity: 20
        smoothing_s: 3
        alerts:
          - { level: warning, metric: occupancy, above: 0.8, for_s: 10, clear_below: 0.6 }
          - { level: alarm, above: 40, for_s: 60, clear_below: 30, clear_for_s: 30 }
`;

test('site file: a good file gives zones, rules with defaults, and the reference size', (t) => {
  const site = parseSiteFile(SITE, 'site.yaml');
  const cam = site.cameras.get('walkway');
  t.deepEqual(cam?.reference, { width: 768, height: 576 });
  const zone = cam?.zones[0];
  t.is(zone?.smoothingS, 3);
  t.deepEqual(
    zone?.rules.map((r) => [r.level, r.metric, r.above, r.forMs, r.clearBelow, r.clearForMs]),
    [
      [ZoneAlertState.Warning, 'occupancy', 0.8, 10_000, 0.6, 10_000],
      [ZoneAlertState.Alarm, 'smoothed', 40, 60_000, 30, 30_000],
    ],
  );
  t.is(site.resetAfterMs, 60_000);
});

test('site file: errors name the file, camera, zone and field', (t) => {
  const bad = (text: string): string => t.throws(() => parseSiteFile(text, 'site.yaml'))?.message ?? '';
  t.regex(bad(SITE.replace('capacity: 20', 'capacity: -1')), /site\.yaml: camera "walkway", zone "left", field capacity/);
  t.regex(bad(SITE.replace('        capacity: 20\n', '')), /zone "left": alerts\[0\] uses occupancy but the zone has no capacity/);
  t.regex(bad(SITE.replace('[380, 300], [380, 560]', '[380, 560], [380, 300]')), /zone "left": polygon edges \d+ and \d+ cross/);
  t.regex(bad(SITE.replace('clear_below: 30', 'clear_below: 50')), /field clear_below: clear_below must not exceed above/);
  t.regex(bad(SITE.replace('width: 768', 'widht: 768')), /camera "walkway"/);
  t.regex(bad(SITE.replace('name: left', 'name: a/b')), /zone "a\/b", field name/);
  t.regex(bad('cameras: [oops'), /site\.yaml: not valid YAML/);
  const many = `cameras:\n  c:\n    zones:\n${Array.from({ length: 257 }, (_, i) => `      - { name: z${i}, polygon: [[0,0],[1,0],[0,1]] }`).join('\n')}\n`;
  t.regex(bad(many), /camera "c", field zones/);
});

test('site file: a file over the size limit is refused before it is parsed', async (t) => {
  const file = path.join(tempDir(), 'huge.yaml');
  writeFileSync(file, `# ${'x'.repeat(SITE_LIMITS.fileBytes)}\ncameras: {}\n`);
  const err = await t.throwsAsync(loadSiteFile(file));
  t.regex(err?.message ?? '', /huge\.yaml: \d+ bytes is over the 1048576-byte limit/);
});

test('events: a zone count goes out at most once per interval (server clock); every alert goes out', (t) => {
  let now = 0;
  const counts: number[] = [];
  const alerts: string[] = [];
  const sink: EventSink = {
    name: 'test',
    count: (p) => counts.push(p.people),
    alert: (p) => alerts.push(`${p.previous}->${p.state}`),
    close: async () => undefined,
  };
  const fanout = new ZoneEventFanout([sink], 1000, () => now);
  const report = (people: number, zone = 'a') => ({
    camera: 'c',
    zone,
    zoneId: 0,
    timeMs: now,
    people,
    smoothed: people,
    occupancy: Number.NaN,
    state: ZoneAlertState.Ok,
  });
  for (let i = 0; i < 30; i++) {
    fanout.reading(report(i));
    now += 100; // 10 fps for 3 s
  }
  t.deepEqual(counts, [0, 10, 20]);
  fanout.reading(report(99, 'b'));
  t.deepEqual(counts, [0, 10, 20, 99], 'each zone has its own interval');
  fanout.alert({
    camera: 'c',
    zone: 'a',
    timeMs: 0,
    state: ZoneAlertState.Alarm,
    previous: ZoneAlertState.Ok,
    rule: 'r',
    value: 1,
    metric: 'smoothed',
    clock: 'capture',
  });
  fanout.alert({
    camera: 'c',
    zone: 'a',
    timeMs: 1,
    state: ZoneAlertState.Ok,
    previous: ZoneAlertState.Alarm,
    rule: 'r',
    value: 0,
    metric: 'smoothed',
    clock: 'capture',
  });
  t.deepEqual(alerts, ['ok->alarm', 'alarm->ok']);
});

test('masks: a client cycling frame sizes cannot grow the cache past its bound', (t) => {
  const cache = new MaskCache(
    [
      [0, 0],
      [10, 0],
      [10, 10],
    ],
    8,
  );
  const first = cache.get({ width: 10, height: 10 }, { width: 5, height: 5 });
  for (let w = 11; w < 100; w++) cache.get({ width: w, height: 10 }, { width: 5, height: 5 });
  t.is(cache.size, 8);
  t.not(cache.get({ width: 10, height: 10 }, { width: 5, height: 5 }), first, 'the oldest entry was evicted');
});

test('zone events say what happened: a gap, capture time going back, a reload on the server clock', (t) => {
  const site = (zone: string): string =>
    `reset_after_s: 20\ncameras:\n  cam:\n    zones:\n      - name: ${zone}\n        polygon: [[0, 0], [4, 0], [4, 4], [0, 4]]\n        alerts: [{ level: alarm, metric: people, above: 5 }]\n`;
  const tracker = new ZoneTracker(parseSiteFile(site('door'), 'site.yaml'));
  const events: AlertPayload[] = [];
  tracker.addListener({ alert: (e) => events.push(alertPayload(e)) });
  // 16 people on a 4x4 map, all inside the zone: the alarm (people >= 5, no hold) is raised at once.
  const crowd = { width: 4, height: 4, values: new Float32Array(16).fill(1) };
  const t0 = Date.parse('2026-12-07T05:00:00.000Z');
  tracker.observe('cam', t0, crowd, undefined);
  t.like(events.at(-1), { state: 'alarm', previous: 'ok', clock: 'capture', time: '2026-12-07T05:00:00.000Z' });
  // The camera's clock steps back 35 s (more than reset_after_s): said as such, not as a gap.
  tracker.observe('cam', t0 - 35_000, crowd, undefined);
  t.like(
    events.find((e) => e.rule.startsWith('reset: capture time went back')),
    {
      state: 'ok',
      previous: 'alarm',
      rule: 'reset: capture time went back 35.0s (more than reset_after_s 20)',
      clock: 'capture',
      time: '2026-12-07T04:59:25.000Z',
    },
  );
  t.false(
    events.some((e) => e.rule.startsWith('reset: no frame')),
    'a step back is not a gap',
  );
  // Then frames stop for 42.5 s (and come back stamped after the last one).
  tracker.observe('cam', t0 - 34_000, crowd, undefined);
  tracker.observe('cam', t0 + 8_500, crowd, undefined);
  t.like(
    events.find((e) => e.rule.startsWith('reset: no frame')),
    { state: 'ok', previous: 'alarm', rule: 'reset: no frame for 42.5s (reset_after_s 20)', clock: 'capture', time: '2026-12-07T05:00:08.500Z' },
  );
  // A reload that removes the alerting zone: no frame caused it, so its time is the server's clock, and it says so.
  const before = Date.now();
  tracker.replaceSite(parseSiteFile(site('exit'), 'site.yaml'), Date.now());
  const reload = events.at(-1)!;
  t.like(reload, { state: 'ok', previous: 'alarm', rule: 'site reloaded', clock: 'server' });
  t.true(Date.parse(reload.time) >= before);
});

test('site file: a camera may set its input policy, with or without zones; an unknown policy names the camera', (t) => {
  const site = parseSiteFile(
    ['cameras:', '  stand:', '    input_policy: tiled', '  gate:', '    input_policy: native', '    zones: []', '  walkway:', '    zones: []'].join('\n'),
    'site.yaml',
  );
  t.is(site.cameras.get('stand')?.inputPolicy, 'tiled');
  t.deepEqual(site.cameras.get('stand')?.zones, []);
  t.is(site.cameras.get('gate')?.inputPolicy, 'native');
  t.is(site.cameras.get('walkway')?.inputPolicy, undefined);
  const err = t.throws(() => parseSiteFile('cameras:\n  stand:\n    input_policy: huge\n', 'site.yaml'));
  t.regex(err?.message ?? '', /camera "stand".*input_policy/);
});
