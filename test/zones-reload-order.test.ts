/**
 * Zone state across a site reload is matched by camera and zone name, not by
 * position; a frame stamped at or before the previous one runs no alert rules
 * (docs/zones.md: it updates nothing). Each density map is 1x1 holding the
 * count, and every polygon covers it, so a zone's people is the number fed.
 */
import test from 'ava';
import { ZoneAlertState } from '../src/framing/index.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneTracker, type ZoneAlertEvent } from '../src/zones/zone-tracker.js';

const WHOLE = '[[0, 0], [1, 0], [1, 1], [0, 1]]';
const ALARM = '{ level: alarm, above: 40, for_s: 2, clear_below: 20, clear_for_s: 0 }';
/** The same rule on the raw count of each frame, which a late frame would otherwise feed straight into the rule. */
const RAW_ALARM = '{ level: alarm, metric: people, above: 40, for_s: 2, clear_below: 20, clear_for_s: 0 }';

/** A site with the named zones in this order; every zone covers the map, smooths over 2 s and alarms at 40 held 2 s. */
const site = (...zones: string[]): string => siteWith(ALARM, ...zones);
const siteWith = (rule: string, ...zones: string[]): string =>
  `cameras:\n  cam:\n    zones:\n${zones.map((name) => `      - { name: ${name}, polygon: ${WHOLE}, smoothing_s: 2, alerts: [${rule}] }\n`).join('')}`;

function feed(tracker: ZoneTracker, value: number, timeMs: number): ReturnType<ZoneTracker['observe']> {
  return tracker.observe('cam', timeMs, { width: 1, height: 1, values: Float32Array.of(value) }, { width: 1, height: 1 });
}

/** Drives every zone into alarm: 45 people from 1 s to 4 s (raised at 3 s). */
function alarmed(text: string): { tracker: ZoneTracker; events: ZoneAlertEvent[] } {
  const tracker = new ZoneTracker(parseSiteFile(text));
  const events: ZoneAlertEvent[] = [];
  tracker.addListener({ alert: (e) => events.push(e) });
  for (const s of [1, 2, 3, 4]) feed(tracker, 45, s * 1000);
  return { tracker, events };
}

const byName = (tracker: ZoneTracker, readings: ReturnType<ZoneTracker['observe']>, name: string) => {
  const zone = tracker.camera('cam')?.zones.find((z) => z.name === name);
  return readings?.find((r) => r.id === zone?.id);
};

test('reload: reordered unchanged zones keep their smoothed value and alert state, under their new ids', (t) => {
  const { tracker, events } = alarmed(site('a', 'b', 'c'));
  t.is(events.filter((e) => e.state === ZoneAlertState.Alarm).length, 3);
  tracker.replaceSite(parseSiteFile(site('c', 'a', 'b')), 4500);
  t.deepEqual(
    events.filter((e) => e.rule === 'site reloaded'),
    [],
    'no zone was reset',
  );
  const next = feed(tracker, 45, 5000);
  for (const name of ['a', 'b', 'c']) {
    const r = byName(tracker, next, name);
    t.is(r?.state, ZoneAlertState.Alarm, `${name} is still in alarm`);
    // Smoothing carried on: 45 all along stays 45 (a restart would also give 45), so check with a drop below.
  }
  const drop = feed(tracker, 25, 6000);
  const expected = 45 + (1 - Math.exp(-1000 / 2000)) * (25 - 45);
  for (const name of ['a', 'b', 'c']) t.true(Math.abs((byName(tracker, drop, name)?.smoothed ?? 0) - expected) < 1e-4, `${name} smoothed from its history`);
  t.deepEqual(
    next?.map((r) => r.id),
    [0, 1, 2],
    'readings follow the new order',
  );
});

test('reload: removing the first zone keeps the state of the ones after it', (t) => {
  const { tracker, events } = alarmed(site('gone', 'stays'));
  tracker.replaceSite(parseSiteFile(site('stays')), 4500);
  const reset = events.filter((e) => e.rule === 'site reloaded');
  t.deepEqual(
    reset.map((e) => e.zone),
    ['gone'],
    'only the removed zone is returned to ok',
  );
  const [stays] = feed(tracker, 45, 5000) ?? [];
  t.is(stays.id, 0);
  t.is(stays.state, ZoneAlertState.Alarm);
});

test('reload: a zone whose definition changed starts afresh even when its position did not', (t) => {
  const { tracker, events } = alarmed(site('a', 'b'));
  tracker.replaceSite(parseSiteFile(site('a', 'b').replace(/(name: b, polygon: )\[\[0, 0\]/, '$1[[0, 0.5]')), 4500);
  t.deepEqual(
    events.filter((e) => e.rule === 'site reloaded').map((e) => e.zone),
    ['b'],
  );
  const next = feed(tracker, 45, 5000);
  t.is(byName(tracker, next, 'a')?.state, ZoneAlertState.Alarm);
  t.is(byName(tracker, next, 'b')?.state, ZoneAlertState.Ok);
});

test('a frame stamped before the previous one does not restart a hold clock', (t) => {
  const tracker = new ZoneTracker(parseSiteFile(siteWith(RAW_ALARM, 'a')));
  const events: ZoneAlertEvent[] = [];
  tracker.addListener({ alert: (e) => events.push(e) });
  feed(tracker, 45, 1000); // above from 1 s: raised at 3 s
  feed(tracker, 45, 2000);
  feed(tracker, 0, 1500); // late and low: today it broke the hold
  feed(tracker, 45, 3000);
  t.deepEqual(
    events.map((e) => [e.state, e.timeMs]),
    [[ZoneAlertState.Alarm, 3000]],
  );
});

test('a frame stamped at or before the previous one writes no alert event, so event times never go backwards', (t) => {
  const tracker = new ZoneTracker(parseSiteFile(siteWith(RAW_ALARM, 'a')));
  const events: ZoneAlertEvent[] = [];
  tracker.addListener({ alert: (e) => events.push(e) });
  for (const s of [1, 2, 3, 4]) feed(tracker, 45, s * 1000); // alarm at 3 s
  // A second connection of the same camera, 2 s behind, sees nobody: its frames must not clear the alarm in the past.
  const late = feed(tracker, 0, 2500);
  feed(tracker, 0, 4000); // same stamp as the previous frame
  t.is(late?.[0].state, ZoneAlertState.Alarm);
  t.is(late?.[0].people, 0, 'the late frame still reports its own count');
  feed(tracker, 0, 5000); // in order and low: cleared now (clear_for_s 0)
  t.deepEqual(
    events.map((e) => [e.state, e.timeMs]),
    [
      [ZoneAlertState.Alarm, 3000],
      [ZoneAlertState.Ok, 5000],
    ],
  );
});
