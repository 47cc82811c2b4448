/**
 * The console's history pages in a real browser (Debian's Chromium through
 * playwright-core), signed in as a viewer: a scripted run of known
 * per-second values and alert changes is written into the server's history
 * store through its recorder (the path a frame's zone readings take), then
 * the chart's plotted points, its shaded alarm periods and raise lines, the
 * site view, the alert history's filters and the CSV links are checked
 * against that script and against the API's answers for the same query.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { startServer } from '../src/app/start-server.js';
import { addClient } from '../src/auth/edit-credentials.js';
import type { HistoryStore } from '../src/history/store.js';
import type { ZoneAlertStateCode } from '../src/framing/index.js';
import { consoleSettings, eventually, haveChromium, launchChromium, openPage, startConsoleServer } from './helpers/console.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const declare = haveChromium ? test : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed; scripts/setup.sh installs it)';

const SITE = `cameras:
  hall:
    zones:
      - name: entry
        polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]
        capacity: 20
        alerts:
          - { level: warning, metric: smoothed, above: 11, for_s: 5, clear_below: 9, clear_for_s: 5 }
          - { level: alarm, metric: occupancy, above: 0.75, for_s: 5, clear_below: 0.5, clear_for_s: 5 }
      - name: stairs
        polygon: [[10, 0], [20, 0], [20, 10], [10, 10]]
  gate:
    zones:
      - name: queue
        polygon: [[0, 0], [10, 0], [10, 10], [0, 10]]
        alerts:
          - { level: alarm, metric: people, above: 12, for_s: 0 }
`;

/** Seconds the script covers, ending a second before "now". */
const SPAN_S = 2 * 3600;
/** A stretch with no samples (the camera was off): the chart must break its line there. */
const GAP = { from: 200, to: 170 };

/** Deterministic noise in [-1, 1] for second t. */
const noise = (t: number): number => ((Math.imul(t, 2654435761) >>> 0) % 2001) / 1000 - 1;
/** 0 outside [start - ramp, end + ramp], 1 within [start, end], straight ramps between: a crowd arriving and leaving. */
const surge = (t: number, start: number, end: number, ramp: number): number => Math.max(0, Math.min(1, (t - start + ramp) / ramp, (end + ramp - t) / ramp));
const round2 = (v: number): number => Math.round(Math.max(0, v) * 100) / 100;

/**
 * The scripted people count of a zone at second t (2 decimals, so the API's 3-decimal rounding keeps it exact):
 * a slow swell, a faster ripple and noise, with surges where the script's alert changes say the zone crowded.
 */
function peopleAt(camera: string, t: number, now: number): number {
  const wave = 2.5 * Math.sin((2 * Math.PI * t) / 1800) + 1.2 * Math.sin((2 * Math.PI * t) / 130) + 0.8 * noise(t);
  if (camera === 'hall') return round2(6 + wave + 10 * surge(t, now - 1500, now - 1200, 90) + 6 * surge(t, now - 400, now - 300, 40));
  return round2(5 + wave + 9 * surge(t, now - 5000, now - 4000, 120) + 9 * surge(t, now - 900, now + 100, 120));
}

interface Change {
  camera: string;
  zone: string;
  ago: number;
  state: ZoneAlertStateCode;
  previous: ZoneAlertStateCode;
  rule: string;
  metric: 'people' | 'smoothed' | 'occupancy';
  value: number;
}

const CHANGES: Change[] = [
  { camera: 'hall', zone: 'entry', ago: 1500, state: 2, previous: 0, rule: 'occupancy >= 0.75 for 5s (clear < 0.5 for 5s)', metric: 'occupancy', value: 0.8 },
  { camera: 'hall', zone: 'entry', ago: 1200, state: 0, previous: 2, rule: 'occupancy >= 0.75 for 5s (clear < 0.5 for 5s)', metric: 'occupancy', value: 0.45 },
  { camera: 'hall', zone: 'entry', ago: 400, state: 1, previous: 0, rule: 'smoothed >= 11 for 5s (clear < 9 for 5s)', metric: 'smoothed', value: 11.2 },
  { camera: 'hall', zone: 'entry', ago: 300, state: 0, previous: 1, rule: 'smoothed >= 11 for 5s (clear < 9 for 5s)', metric: 'smoothed', value: 8.9 },
  { camera: 'gate', zone: 'queue', ago: 5000, state: 2, previous: 0, rule: 'people >= 12 for 0s (clear < 12 for 0s)', metric: 'people', value: 13 },
  { camera: 'gate', zone: 'queue', ago: 4000, state: 0, previous: 2, rule: 'people >= 12 for 0s (clear < 12 for 0s)', metric: 'people', value: 11 },
  { camera: 'gate', zone: 'queue', ago: 900, state: 2, previous: 0, rule: 'people >= 12 for 0s (clear < 12 for 0s)', metric: 'people', value: 14.5 },
];

/** The alert state the script's changes put a zone in at second t. */
function stateAt(camera: string, zone: string, t: number, now: number): ZoneAlertStateCode {
  let state: ZoneAlertStateCode = 0;
  for (const c of CHANGES.filter((x) => x.camera === camera && x.zone === zone).sort((a, b) => b.ago - a.ago)) if (now - c.ago <= t) state = c.state;
  return state;
}

interface Scripted {
  now: number;
  /** hall/entry and gate/queue: epoch second -> people. */
  values: Map<string, Map<number, number>>;
  /** The same for the smoothed value (5 s exponential smoothing of people, as the zone tracker does). */
  smoothed: Map<string, Map<number, number>>;
}

/** A server with history on and the console behind --auth; the script is written into its store. */
async function startScripted(t: ExecutionContext): Promise<{ url: string; viewer: string; script: Scripted; store: HistoryStore }> {
  const dir = tempDir('crowdline-console-history-');
  const sitePath = path.join(dir, 'site.yaml');
  fs.writeFileSync(sitePath, SITE);
  const authFile = path.join(dir, 'credentials.yaml');
  const viewer = await addClient(authFile, 'control-room', undefined, 'viewer');
  // The store's clock follows the script while it is written (the recorder stamps readings far from its clock at the clock).
  let scriptedNow: number | undefined;
  const running = await startServer({
    modelPath: knownAnswerModel().onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 0,
    server: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    sitePath,
    security: { authFile },
    console: { settings: consoleSettings() },
    history: { dir: path.join(dir, 'history'), clock: { now: () => scriptedNow ?? Date.now() } },
  });
  t.teardown(() => running.close());
  const store = running.history;
  if (!store || !running.console) throw new Error('history or the console did not start');
  const now = Math.floor(Date.now() / 1000);
  const values = new Map<string, Map<number, number>>([
    ['hall/entry', new Map()],
    ['gate/queue', new Map()],
  ]);
  const smoothed = new Map<string, Map<number, number>>([
    ['hall/entry', new Map()],
    ['gate/queue', new Map()],
  ]);
  const ema = new Map<string, number>();
  for (let t = now - SPAN_S; t < now; t++) {
    if (t >= now - GAP.from && t < now - GAP.to) continue;
    scriptedNow = t * 1000 + 500;
    for (const [key, series] of values) {
      const [camera, zone] = key.split('/');
      const people = peopleAt(camera, t, now);
      const previous = ema.get(key) ?? people;
      const smooth = round2(previous + (people - previous) * (1 - Math.exp(-1 / 5)));
      ema.set(key, smooth);
      series.set(t, people);
      smoothed.get(key)!.set(t, smooth);
      store.recorder.reading({
        camera,
        zone,
        zoneId: 0,
        timeMs: t * 1000 + 500,
        people,
        smoothed: smooth,
        occupancy: camera === 'hall' ? smooth / 20 : Number.NaN,
        state: stateAt(camera, zone, t, now),
      });
    }
  }
  for (const c of CHANGES) {
    scriptedNow = (now - c.ago) * 1000;
    store.recorder.alert({ ...c, timeMs: (now - c.ago) * 1000, clock: 'capture' });
  }
  scriptedNow = undefined;
  store.flush();
  return { url: running.console.url, viewer, script: { now, values, smoothed }, store };
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.locator('form input#token').waitFor();
  await page.fill('input#token', token);
  await page.click('button[type=submit]');
  await page.locator('.user').filter({ hasText: 'control-room (viewer)' }).waitFor();
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.CROWDLINE_SCREENSHOTS ?? tempDir('crowdline-history-shots-');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(dir, name), fullPage: false });
}

interface Plotted {
  from: number;
  to: number;
  step: number;
  data: Array<Array<number | null>>;
  periods: Array<{ from: number; to: number; level: string }>;
  thresholds: Array<{ level: string; value: number; label: string }>;
  csv: string;
  rows: number;
}

/** The part of the uPlot instance the page keeps on the chart's element (web/console/history-chart.tsx) that the test reads. */
type ChartElement = HTMLElement & {
  uplot?: {
    data: Array<ArrayLike<number | null>>;
    width: number;
    ctx: CanvasRenderingContext2D;
    bbox: { left: number; top: number; width: number; height: number };
    valToPos(value: number, scale: string, canvasPixels?: boolean): number;
  };
};

/** What the chart on the page plots right now: uPlot's own data, the range and step, the shading and lines. */
function readChart(page: Page): Promise<Plotted | undefined> {
  return page.evaluate(() => {
    const element = document.querySelector<ChartElement>('.zone-chart');
    const chart = element?.uplot;
    if (!element || !chart) return undefined;
    return {
      from: Number(element.dataset.from),
      to: Number(element.dataset.to),
      step: Number(document.querySelector<HTMLElement>('.chart-foot .step')?.dataset.step),
      data: chart.data.map((column) => Array.from(column)),
      periods: JSON.parse(element.dataset.periods ?? '[]') as Array<{ from: number; to: number; level: string }>,
      thresholds: JSON.parse(element.dataset.thresholds ?? '[]') as Array<{ level: string; value: number; label: string }>,
      csv: document.querySelector<HTMLAnchorElement>('.chart-foot a.csv')?.href ?? '',
      rows: chart.data[0].length,
    };
  });
}

/** The time axis's labels as uPlot drew them, and each pair of neighbours whose text boxes (the widest line, centred on the tick) overlap. */
function xLabels(page: Page): Promise<{ labels: string[]; overlaps: string[] }> {
  return page.evaluate(() => {
    const chart = document.querySelector<ChartElement>('.zone-chart')!.uplot! as unknown as {
      axes: Array<{ _values: string[]; _splits: number[]; font: [string, number] }>;
      valToPos(value: number, scale: string, canvasPixels?: boolean): number;
      ctx: CanvasRenderingContext2D;
    };
    const axis = chart.axes[0];
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = axis.font[0];
    const boxes = axis._values.map((text, i) => {
      const x = chart.valToPos(axis._splits[i], 'x', true);
      const w = Math.max(
        ...String(text)
          .split('\n')
          .map((line) => ctx.measureText(line).width),
      );
      return { text: String(text), left: x - w / 2, right: x + w / 2 };
    });
    ctx.restore();
    const overlaps: string[] = [];
    for (let i = 1; i < boxes.length; i++)
      if (boxes[i].left < boxes[i - 1].right) overlaps.push(`${JSON.stringify(boxes[i - 1].text)} runs into ${JSON.stringify(boxes[i].text)}`);
    return { labels: boxes.map((b) => b.text), overlaps };
  });
}

/** The page's own fetch (its session cookie): status and body text. */
function fetchInPage(page: Page, url: string): Promise<{ status: number; type: string; text: string }> {
  return page.evaluate(
    (u) => fetch(u, { credentials: 'same-origin' }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() })),
    url,
  );
}

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...lines] = text.trim().split('\n');
  const names = head.split(',');
  // The test's fields hold no quoted commas except the rule, which is last-but-two in alerts: split with quotes in mind.
  return lines.map((line) => {
    const fields: string[] = [];
    const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
    for (let m = re.exec(line); m && m.index < line.length; m = re.exec(line)) {
      fields.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]);
      if (m[2] === '') break;
    }
    return Object.fromEntries(names.map((n, i) => [n, fields[i] ?? '']));
  });
}

declare(`a zone's chart plots the scripted seconds, shades the alarm periods, draws the raise lines, and its CSV holds the same rows${why}`, async (t) => {
  const { url, viewer, script } = await startScripted(t);
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, url, { width: 1920, height: 1080 });
  await signIn(page, url, viewer);

  // 10 minutes: one point per second, each the value written for that second; a break where nothing was.
  await page.goto(`${url}#/chart/hall/entry/10m`);
  const short = await eventually('the 10-minute chart', () => readChart(page));
  t.is(short.step, 1);
  t.is(short.to - short.from, 600);
  const written = script.values.get('hall/entry')!;
  const [times, mean, smoothed] = short.data;
  const plotted = times.map((x, i) => [x, mean[i]] as const).filter(([, v]) => v !== null);
  const expected = [...written].filter(([s]) => s >= short.from && s < short.to);
  t.deepEqual(plotted, expected, 'every plotted point is the value written for its second, and nothing else');
  t.true(expected.length > 500);
  // The same chart lives on while the page re-renders (every second) and refreshes (every 10 s): its data is set, it is not rebuilt.
  await page.evaluate(() => Object.assign(document.querySelector<ChartElement>('.zone-chart')!.uplot!, { keptBy: 'the test' }));
  const writtenSmoothed = script.smoothed.get('hall/entry')!;
  t.deepEqual(
    times.map((x, i) => [x, smoothed[i]]).filter(([, v]) => v !== null),
    expected.map(([x]) => [x, writtenSmoothed.get(x)]),
    'every plotted smoothed value is the one written for its second',
  );
  const breaks = times.filter((_, i) => mean[i] === null);
  t.deepEqual(breaks, [script.now - GAP.from], 'the line breaks once, where the script sent nothing');
  // The warning of 400..300 s ago is shaded; the raise lines are the rules' (occupancy 0.75 of 20 = 15 people).
  t.deepEqual(short.periods, [{ from: script.now - 400, to: script.now - 300, level: 'warning' }]);
  t.deepEqual(
    short.thresholds.map((l) => [l.level, l.value]),
    [
      ['warning', 11],
      ['alarm', 15],
    ],
  );
  // The shading is drawn: the canvas is redder inside the period than outside it (the median of a column of pixels, so a line crossing it does not count).
  const tint = await page.evaluate(
    ({ inside, outside }) => {
      const chart = document.querySelector<ChartElement>('.zone-chart')!.uplot!;
      const red = (x: number): number => {
        const px = Math.round(chart.valToPos(x, 'x', true));
        const column = chart.ctx.getImageData(px, Math.round(chart.bbox.top), 1, Math.round(chart.bbox.height)).data;
        const reds = Array.from(column).filter((_, i) => i % 4 === 0);
        return reds.sort((a, b) => a - b)[reds.length >> 1];
      };
      return { inside: red(inside), outside: red(outside) };
    },
    { inside: script.now - 350, outside: script.now - 500 },
  );
  t.true(tint.inside > tint.outside + 10, `warning shade drawn (median red inside ${tint.inside}, outside ${tint.outside})`);
  // The time axis's labels (drawn on the canvas) never run into each other, the first (which carries the date) included: on a wall and on a phone.
  await screenshot(page, 'console-chart-10m.png');
  const wall = await xLabels(page);
  t.true(wall.labels.length >= 4, JSON.stringify(wall));
  t.regex(wall.labels[0], /\n/, 'the first label carries the date');
  t.deepEqual(wall.overlaps, [], JSON.stringify(wall));
  await page.setViewportSize({ width: 390, height: 844 });
  await eventually(
    'the chart at phone width',
    async () => ((await page.evaluate(() => document.querySelector<ChartElement>('.zone-chart')?.uplot?.width)) ?? 999) < 390 || undefined,
  );
  await screenshot(page, 'console-chart-10m-phone.png');
  const phone = await xLabels(page);
  t.true(phone.labels.length >= 2, JSON.stringify(phone));
  t.deepEqual(phone.overlaps, [], JSON.stringify(phone));
  await page.setViewportSize({ width: 1920, height: 1080 });
  await eventually(
    'the chart at wall width',
    async () => ((await page.evaluate(() => document.querySelector<ChartElement>('.zone-chart')?.uplot?.width)) ?? 0) > 1000 || undefined,
  );

  await page.waitForTimeout(11_000);
  t.is(await page.evaluate(() => (document.querySelector<ChartElement>('.zone-chart')!.uplot as unknown as { keptBy?: string }).keptBy), 'the test');
  // The CSV link is the API's CSV of the same range and step: the same rows as the points.
  const csv = await fetchInPage(page, short.csv);
  t.is(csv.status, 200);
  t.regex(csv.type, /^text\/csv/);
  const rows = parseCsv(csv.text);
  t.deepEqual(
    rows.map((r) => [Number(r.epoch_s), Number(r.people_mean)]),
    plotted.map(([x, v]) => [x, v]),
  );

  // 6 hours: 30-second steps (720 buckets, under the 1000-point limit); the points are the API's for that query and the script's means.
  await page.click('.ranges a[data-range="6h"]');
  const long = await eventually('the 6-hour chart', async () => {
    const c = await readChart(page);
    return c && c.step !== 1 ? c : undefined;
  });
  t.is(long.step, 30);
  t.is(long.to - long.from, 6 * 3600);
  const api = JSON.parse((await fetchInPage(page, `/api/v1/history?camera=hall&zone=entry&from=${long.from}&to=${long.to}&step=${long.step}`)).text) as {
    series: Array<{ time: number[]; people_mean: number[]; smoothed: number[] }>;
  };
  const points = long.data[0].map((x, i) => [x, long.data[1][i]] as const).filter(([, v]) => v !== null);
  t.deepEqual(
    points,
    api.series[0].time.map((x, i) => [x, api.series[0].people_mean[i]] as const),
  );
  for (const [x, v] of points) {
    const inBucket = [...written].filter(([s]) => s >= x! && s < x! + 30).map(([, p]) => p);
    t.true(Math.abs(v! - inBucket.reduce((a, b) => a + b, 0) / inBucket.length) < 0.0006, `mean of bucket ${x}`);
  }
  t.deepEqual(long.periods, [
    { from: script.now - 1500, to: script.now - 1200, level: 'alarm' },
    { from: script.now - 400, to: script.now - 300, level: 'warning' },
  ]);
  t.is(await page.locator('.chart-alerts tr.change').count(), 4, "the zone's four changes are listed under the chart");
  // 30 days: hour-wide steps (720), read from the per-hour rows; still the API's points for that query.
  await page.click('.ranges a[data-range="30d"]');
  const month = await eventually('the 30-day chart', async () => {
    const c = await readChart(page);
    return c?.step === 3600 ? c : undefined;
  });
  t.is(month.to - month.from, 720 * 3600);
  const monthApi = JSON.parse((await fetchInPage(page, `/api/v1/history?camera=hall&zone=entry&from=${month.from}&to=${month.to}&step=3600`)).text) as {
    series: Array<{ time: number[]; people_mean: number[] }>;
  };
  t.deepEqual(
    month.data[0].map((x, i) => [x, month.data[1][i]]).filter(([, v]) => v !== null),
    monthApi.series[0].time.map((x, i) => [x, monthApi.series[0].people_mean[i]]),
  );
  t.true(month.data[0].length >= 2);

  // The pictures for docs/console.md: the last hour (5-second steps) on a wall and on a phone.
  await page.click('.ranges a[data-range="1h"]');
  await eventually('the 1-hour chart', async () => ((await readChart(page))?.step === 5 ? true : undefined));
  await screenshot(page, 'console-chart.png');
  await page.setViewportSize({ width: 390, height: 844 });
  await eventually('the chart at phone width', async () => {
    const w = await page.evaluate(() => document.querySelector<ChartElement>('.zone-chart')?.uplot?.width);
    return w !== undefined && w < 390 ? true : undefined;
  });
  await screenshot(page, 'console-chart-phone.png');
  t.deepEqual(
    errors.filter((e) => !/status of 401/.test(e)),
    [],
    'no page errors (the 401 is the session check before signing in)',
  );
});

declare(
  `the site view shows every zone's reading now and its peak today; the alert history filters by camera, zone, state and time, and its CSV is the rows shown${why}`,
  async (t) => {
    const { url, viewer, script, store } = await startScripted(t);
    const browser = await launchChromium(t);
    const { page, errors } = await openPage(browser, url, { width: 1920, height: 1080 });
    await signIn(page, url, viewer);

    // Site view: a reading this second is "now"; the peak is the highest second since the server's midnight.
    const fresh: Record<string, number> = { 'hall/entry': 7.4, 'gate/queue': 13.6 };
    for (const [key, people] of Object.entries(fresh)) {
      const [camera, zone] = key.split('/');
      const state = camera === 'gate' ? 2 : 0;
      store.recorder.reading({
        camera,
        zone,
        zoneId: 0,
        timeMs: Date.now(),
        people,
        smoothed: people,
        occupancy: camera === 'hall' ? people / 20 : Number.NaN,
        state,
      });
      script.values.get(key)!.set(Math.floor(Date.now() / 1000), people);
    }
    store.flush();
    await page.click('nav a[href="#/site"]');
    await page.locator('.zone-card[data-zone="entry"] .people').filter({ hasText: /\d/ }).waitFor();
    const site = JSON.parse((await fetchInPage(page, '/api/v1/cameras')).text) as { day_start: string };
    const dayStart = Date.parse(site.day_start) / 1000;
    for (const [camera, zone] of [
      ['hall', 'entry'],
      ['gate', 'queue'],
    ]) {
      const card = page.locator(`.site-camera[data-camera="${camera}"] .zone-card[data-zone="${zone}"]`);
      const series = script.values.get(`${camera}/${zone}`)!;
      t.is(await card.locator('.people').textContent(), fresh[`${camera}/${zone}`].toFixed(1), `${camera}/${zone} now`);
      const today = [...series].filter(([s]) => s >= dayStart).map(([, v]) => v);
      t.regex((await card.locator('.peak').textContent()) ?? '', new RegExp(`peak today ${Math.max(...today).toFixed(1)} at`), `${camera}/${zone} peak`);
    }
    t.is(await page.locator('.zone-card[data-zone="stairs"] .people').textContent(), '–', 'a zone with no reading says so');
    t.is(await page.locator('.zone-card').count(), 3);
    t.is(await page.locator('.zone-card[data-zone="queue"] .level').textContent(), 'alarm');
    t.is(await page.locator('.zone-card[data-zone="entry"] .age').textContent(), 'live');
    await screenshot(page, 'console-site.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'console-site-phone.png');
    await page.setViewportSize({ width: 1920, height: 1080 });

    // Alert history: the last 24 h holds all seven changes, newest first.
    // Reached from the live alerts page's link (and the History entry of the menu).
    await page.click('nav a[href="#/alerts"]');
    await page.click('.alerts-panel .more a[href="#/history"]');
    t.is(await page.locator('nav a.current').textContent(), 'History');
    const shown = async (): Promise<Array<[string, string, string, number]>> =>
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('.alert-results tr.change')].map(
          (r) => [r.dataset.camera!, r.dataset.zone!, r.dataset.state!, Date.parse(r.dataset.time!) / 1000] as [string, string, string, number],
        ),
      );
    const expect = (keep: (c: Change) => boolean): Array<[string, string, string, number]> =>
      CHANGES.filter(keep)
        .sort((a, b) => a.ago - b.ago)
        .map((c) => [c.camera, c.zone, ['ok', 'warning', 'alarm'][c.state], script.now - c.ago]);
    const until = async (want: Array<[string, string, string, number]>): Promise<void> => {
      await eventually(`rows ${JSON.stringify(want)}`, async () => (JSON.stringify(await shown()) === JSON.stringify(want) ? true : undefined));
    };
    await until(expect(() => true));
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'console-alert-history-phone.png');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await screenshot(page, 'console-alert-history.png');

    await page.selectOption('select[name=camera]', 'gate');
    await until(expect((c) => c.camera === 'gate'));
    await page.uncheck('input[name=state][value=ok]');
    await until(expect((c) => c.camera === 'gate' && c.state !== 0));
    await page.selectOption('select[name=camera]', 'hall');
    await page.selectOption('select[name=zone]', 'entry');
    await until(expect((c) => c.camera === 'hall' && c.state !== 0));
    await page.uncheck('input[name=state][value=alarm]');
    await until(expect((c) => c.camera === 'hall' && c.state === 1));
    await page.check('input[name=state][value=alarm]');
    await page.check('input[name=state][value=ok]');
    // A custom range: only what happened from 1600 to 1000 s ago.
    await page.selectOption('select[name=period]', 'custom');
    const local = (s: number): string => {
      const d = new Date(s * 1000);
      const pad = (n: number): string => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    // datetime-local has minute precision: whole minutes around the alarm (1500..1200 s ago), clear of the warning (400 s ago).
    await page.fill('input[name=from]', local(script.now - 1620));
    await page.fill('input[name=to]', local(script.now - 1080));
    await until(expect((c) => c.camera === 'hall' && c.ago <= 1500 && c.ago >= 1200));

    // Following a row to its chart and coming back keeps the filters.
    const custom = await shown();
    await page.click('.alert-results tr.change .where a >> nth=0');
    await page.locator('.chart-page[data-zone="entry"] .zone-chart').waitFor();
    await page.goBack();
    await until(custom);
    t.is(await page.inputValue('select[name=period]'), 'custom');

    // The CSV link holds the rows shown, in the same order.
    const href = await page.locator('.alert-results a.csv').getAttribute('href');
    const csv = await fetchInPage(page, href!);
    t.is(csv.status, 200);
    t.deepEqual(
      parseCsv(csv.text).map((r) => [r.camera, r.zone, r.state, Date.parse(r.time) / 1000]),
      await shown(),
    );
    t.deepEqual(
      errors.filter((e) => !/status of 401/.test(e)),
      [],
      'no page errors (the 401 is the session check before signing in)',
    );
  },
);

declare(
  `the chart's arithmetic as the browser runs it: steps per range, gaps, alarm periods from changes and from bucket states; a server with fewer --api-max-points gets the coarser step it asks for${why}`,
  async (t) => {
    const running = await startConsoleServer(t, { modelPath: knownAnswerModel().onnxPath });
    const browser = await launchChromium(t);
    const { page, errors } = await openPage(browser, running.console.url);
    // The shipped modules themselves (dist/web/console, served under /app/), imported in the page.
    const results = await page.evaluate(async () => {
      const api = (await import(String('/app/history-api.js'))) as { stepFor(seconds: number): number; RANGES: Array<{ seconds: number }> };
      const series = (await import(String('/app/history-series.js'))) as {
        alertPeriods(rows: unknown[], from: number, end: number, stateAtFrom: string): unknown[];
        bucketPeriods(s: unknown, step: number): unknown[];
        chartColumns(s: unknown, step: number): unknown[];
      };
      const change = (t: number, previous: string, state: string): unknown => ({ time: new Date(t * 1000).toISOString(), previous, state });
      const buckets = {
        time: [0, 10, 20, 40, 50, 60],
        people_mean: [1, 2, 3, 4, 5, 6],
        smoothed: [1, 2, 3, 4, 5, null],
        people_max: [1, 2, 3, 4, 5, 6],
        state: [2, 2, 1, 1, 0, 2],
      };
      return {
        steps: api.RANGES.map((r) => [r.seconds, api.stepFor(r.seconds)]),
        // An alarm already on at the range's start ends at its change; one still on at the end ends there; changes out of order are sorted.
        periods: series.alertPeriods([change(500, 'warning', 'alarm'), change(300, 'alarm', 'ok'), change(400, 'ok', 'warning')], 100, 900, 'ok'),
        // No change in the range: the state the buckets say holds throughout.
        steady: series.alertPeriods([], 100, 900, 'alarm'),
        fromBuckets: series.bucketPeriods(buckets, 10),
        columns: series.chartColumns(buckets, 10),
      };
    });
    t.deepEqual(results.steps, [
      [600, 1],
      [3600, 5],
      [21_600, 30],
      [86_400, 120],
      [604_800, 900],
      [2_592_000, 3600],
    ]);
    for (const [seconds, step] of results.steps) t.true(Math.ceil(seconds / step) <= 1000, `${seconds} s in ${step} s steps`);
    t.deepEqual(results.periods, [
      { from: 100, to: 300, level: 'alarm' },
      { from: 400, to: 500, level: 'warning' },
      { from: 500, to: 900, level: 'alarm' },
    ]);
    t.deepEqual(results.steady, [{ from: 100, to: 900, level: 'alarm' }]);
    t.deepEqual(results.fromBuckets, [
      { from: 0, to: 20, level: 'alarm' },
      { from: 20, to: 30, level: 'warning' },
      { from: 40, to: 50, level: 'warning' },
      { from: 60, to: 70, level: 'alarm' },
    ]);
    t.deepEqual(results.columns, [
      [0, 10, 20, 30, 40, 50, 60],
      [1, 2, 3, null, 4, 5, 6],
      [1, 2, 3, null, 4, 5, null],
      [1, 2, 3, null, 4, 5, 6],
    ]);

    // A server whose --api-max-points is under the chart's 720 points for an hour refuses 5-second steps, saying the least
    // step that fits (8 s): the page asks again with the next step of its ladder (10 s) and plots that answer.
    const asked: string[] = [];
    await page.route('**/api/v1/**', async (route) => {
      const url = new URL(route.request().url());
      const json = (status: number, body: unknown): Promise<void> => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
      if (url.pathname === '/api/v1/cameras') {
        const zone = { name: 'entry', in_site: true, id: 0, capacity: null, smoothing_s: 5, rules: [], now: null, peak_today: null };
        return json(200, {
          time: new Date().toISOString(),
          day_start: new Date().toISOString(),
          history: true,
          cameras: [{ name: 'hall', in_site: true, zones: [zone] }],
        });
      }
      if (url.pathname === '/api/v1/alerts') return json(200, { from: '', to: '', limit: 500, truncated: false, alerts: [] });
      const step = url.searchParams.get('step') ?? '';
      asked.push(step);
      if (step === '5') {
        return json(400, {
          error: '720 points (720 steps x 1 zone(s)) is over the limit of 500 per request (--api-max-points): use step >= 8 or a shorter range',
        });
      }
      const from = Number(url.searchParams.get('from'));
      return json(200, {
        from: '',
        to: '',
        step: Number(step),
        series: [
          {
            camera: 'hall',
            zone: 'entry',
            time: [from, from + 10],
            frames: [9, 10],
            people_mean: [3, 4],
            people_max: [5, 6],
            smoothed: [3.5, 3.75],
            state: [0, 0],
          },
        ],
      });
    });
    await page.goto(`${running.console.url}#/chart/hall/entry/1h`);
    const refused = await eventually('the chart at the coarser step', () => readChart(page));
    t.is(refused.step, 10);
    t.deepEqual(asked.slice(0, 2), ['5', '10']);
    t.deepEqual(refused.data.slice(1), [
      [3, 4],
      [3.5, 3.75],
      [5, 6],
    ]);
    t.regex(refused.csv, /step=10&format=csv$/, 'the CSV is the query that was plotted');
    t.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
      'no page errors (the 400 is the scripted refusal)',
    );
  },
);
