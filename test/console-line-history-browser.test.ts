/**
 * Counting lines over time in the console, in real Chromium. A camera
 * streams the sample video (crowdline-v1, real flow) to a server whose site
 * file has the sample video's three counting lines and whose history store
 * is on; the crossings it counted are the ones its RESULTs carry. The camera
 * page's last hour and today must be the history API's answer for the same
 * query, and the API's must be those crossings; crossings added later show
 * on the next refresh. Screenshots at phone and wall sizes
 * (docs/images/console-line-*.jpg with CROWDLINE_SCREENSHOTS=DIR).
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { consoleSettings, eventually, FileCamera, haveChromium, launchChromium, openPage, sampleFrames, startConsoleServer } from './helpers/console.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';
import { vtestLinesSite } from './helpers/vtest-site.js';

const declare = haveChromium ? test : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)';

const NAMES = ['west', 'centre', 'east'];

async function screenshot(t: ExecutionContext, page: Page, name: string): Promise<void> {
  const dir = process.env.CROWDLINE_SCREENSHOTS ?? tempDir('crowdline-line-history-shots-');
  await page.waitForTimeout(300);
  const file = path.join(dir, name);
  await page.screenshot({ path: file, type: 'jpeg', quality: 82 });
  t.log(file);
}

interface Crossed {
  in: number;
  out: number;
}

/** /api/v1/lines for a window, summed per line (what the page must show). */
async function apiSums(base: string, camera: string, w: { from: number; to: number; step: number }): Promise<Map<string, Crossed>> {
  const q = new URLSearchParams({ camera, from: String(w.from), to: String(w.to), step: String(w.step) });
  const res = await fetch(`${base}api/v1/lines?${q.toString()}`);
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  const body = (await res.json()) as { step: number; series: Array<{ line: string; in: number[]; out: number[] }> };
  const sums = new Map<string, Crossed>();
  for (const s of body.series) sums.set(s.line, { in: s.in.reduce((a, b) => a + b, 0), out: s.out.reduce((a, b) => a + b, 0) });
  return sums;
}

/** The server's midnight (epoch seconds), from /api/v1/cameras' day_start: where the pages' "today" must begin. */
async function dayStartS(base: string): Promise<number> {
  const res = await fetch(`${base}api/v1/cameras`);
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return Math.floor(Date.parse(((await res.json()) as { day_start: string }).day_start) / 1000);
}

const text = (v: number): string => v.toFixed(1);
const signed = (v: number): string => (text(Math.abs(v)) === text(0) ? text(0) : `${v > 0 ? '+' : '-'}${text(Math.abs(v))}`);

interface TableRead {
  windows: { hour: { from: number; to: number }; today: { from: number; to: number } };
  rows: Record<string, Record<string, [string, string, string]>>;
  hrefs: Record<string, string>;
}

function readTable(page: Page): Promise<TableRead> {
  return page.evaluate(() => {
    const table = document.querySelector<HTMLElement>('.line-table')!;
    const rows: Record<string, Record<string, [string, string, string]>> = {};
    const hrefs: Record<string, string> = {};
    for (const body of table.querySelectorAll<HTMLElement>('tbody')) {
      const line = body.dataset.line ?? '';
      hrefs[line] = body.querySelector<HTMLAnchorElement>('a.line-history')?.getAttribute('href') ?? '';
      rows[line] = {};
      for (const row of body.querySelectorAll<HTMLElement>('tr[data-period]')) {
        const cell = (c: string): string => row.querySelector(`td.${c}`)?.textContent ?? '';
        rows[line][row.dataset.period ?? ''] = [cell('in'), cell('out'), cell('net')];
      }
    }
    const n = (k: string): number => Number(table.dataset[k]);
    return { windows: { hour: { from: n('hourFrom'), to: n('hourTo') }, today: { from: n('todayFrom'), to: n('todayTo') } }, rows, hrefs };
  });
}

declare(`camera page: each line's last hour and today are the history API's answer, and the API's are the crossings the RESULTs counted${why}`, async (t) => {
  const startedS = Date.now() / 1000;
  const dir = tempDir('crowdline-line-history-');
  const sitePath = path.join(dir, 'site.yaml');
  fs.writeFileSync(sitePath, vtestLinesSite('walk'));
  const running = await startConsoleServer(t, {
    modelPath: DEFAULT_MODEL_PATH,
    sitePath,
    console: consoleSettings({ fps: 5 }),
    history: { dir: path.join(dir, 'history'), flushIntervalMs: 200 },
  });
  const store = running.history;
  if (!store) throw new Error('history did not start');
  // The video's first 80 frames (people cross the centre and east lines in them), then the last one held still:
  // the still frames close every open counting window and count nothing, so the last RESULT holds every crossing.
  const video = sampleFrames(300).slice(0, 80);
  const still = Array.from({ length: 200 }, () => video[video.length - 1]);
  const camera = new FileCamera('walk', [...video, ...still], { fps: 5, start: 0 });
  await camera.connect(running.address.port);
  // The pages watch from the start: the console sends a viewer the frames it is there for.
  const browser = await launchChromium(t);
  const phone = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 390, height: 844 });
  const wall = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 1920, height: 1080 });
  camera.start();
  t.teardown(() => camera.close());
  await eventually('the video and 15 still frames answered', async () => (camera.answered >= video.length + 15 ? true : undefined), 300_000);
  camera.stop();
  await eventually('the last frame answered', async () => (camera.results.size === camera.sent.length ? true : undefined), 30_000);
  const last = camera.results.get(camera.sent.length);
  t.truthy(last?.lines, 'the last RESULT has a line block');
  const fed = new Map(NAMES.map((name, id) => [name, last!.lines!.find((l) => l.id === id)!]));
  t.true(
    [...fed.values()].some((c) => c.in + c.out > 0.5),
    `people were counted: ${JSON.stringify([...fed])}`,
  );
  // The store has every counting window: the API's last hour is the RESULTs' totals (its buckets are rounded to 0.001).
  const base = running.console.url.endsWith('/') ? running.console.url : `${running.console.url}/`;
  await eventually('the history API has every crossing', async () => {
    const to = Math.ceil(Date.now() / 1000);
    const sums = await apiSums(base, 'walk', { from: to - 3600, to, step: 3600 });
    const off = NAMES.filter((n) => Math.abs((sums.get(n)?.in ?? 0) - fed.get(n)!.in) > 0.005 || Math.abs((sums.get(n)?.out ?? 0) - fed.get(n)!.out) > 0.005);
    return off.length === 0 ? true : undefined;
  });
  // The pages show what they fetched after that (they fetch again every 10 s): a window ending past this second began after it.
  const completeS = Math.ceil(Date.now() / 1000);

  // `since`: both windows end past this second (today's is asked again every 60 s, the last hour's every 10 s).
  const check = async (page: Page, size: string, extra = new Map<string, Crossed>(), since = completeS): Promise<TableRead> => {
    await page.locator('.line-table tr[data-period="hour"] td.in').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
    await page.locator('.line-table tr[data-period="start"] td.in').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      (s) => {
        const d = document.querySelector<HTMLElement>('.line-table')?.dataset;
        return Number(d?.hourTo) > s && Number(d?.todayTo) > s;
      },
      since,
      { timeout: 90_000 },
    );
    const shown = await readTable(page);
    t.deepEqual(Object.keys(shown.rows), NAMES, `${size}: a group of rows per line, in the site file's order`);
    const hour = await apiSums(base, 'walk', { ...shown.windows.hour, step: 3600 });
    const today = await apiSums(base, 'walk', { ...shown.windows.today, step: 86_400 });
    t.is(shown.windows.hour.to - shown.windows.hour.from, 3600, `${size}: the last hour is an hour`);
    const midnight = await dayStartS(base);
    t.is(shown.windows.today.from, midnight, `${size}: today begins at the server's midnight`);
    t.true(shown.windows.today.to <= shown.windows.hour.to, `${size}: today ends by now`);
    for (const name of NAMES) {
      const c = fed.get(name)!;
      const all = { in: c.in + (extra.get(name)?.in ?? 0), out: c.out + (extra.get(name)?.out ?? 0) };
      const [startIn, startOut, startNet] = shown.rows[name].start;
      t.deepEqual([startIn, startOut, startNet], [text(c.in), text(c.out), signed(c.in - c.out)], `${size}: ${name} since start is the last RESULT's`);
      for (const [period, sums] of [
        ['hour', hour],
        ['today', today],
      ] as const) {
        const s = sums.get(name) ?? { in: 0, out: 0 };
        t.deepEqual(shown.rows[name][period], [text(s.in), text(s.out), signed(s.in - s.out)], `${size}: ${name} ${period} is the API's answer`);
      }
      const h = hour.get(name) ?? { in: 0, out: 0 };
      t.true(
        Math.abs(h.in - all.in) <= 0.005 && Math.abs(h.out - all.out) <= 0.005,
        `${name}: the last hour's ${JSON.stringify(h)} is every crossing ${JSON.stringify(all)}`,
      );
      // Unless the test ran over the server's midnight, today holds every crossing too.
      if (midnight <= startedS) {
        const d = today.get(name) ?? { in: 0, out: 0 };
        t.true(Math.abs(d.in - all.in) <= 0.005 && Math.abs(d.out - all.out) <= 0.005, `${name}: today's ${JSON.stringify(d)} is every crossing`);
      }
      t.is(shown.hrefs[name], `#/line/walk/${name}`, `${size}: ${name} links to its chart`);
    }
    return shown;
  };

  const before = await check(phone.page, 'phone');
  // Crossings recorded later (the path a counting window takes to the store) show on the page's next refresh.
  const added = { in: 2.5, out: 1.25 };
  // What the page must show once refreshed: the API's sums for the window it showed (asked before the crossings are
  // added, so they are not in it), and the added crossings.
  const was = (await apiSums(base, 'walk', { ...before.windows.hour, step: 3600 })).get('west') ?? { in: 0, out: 0 };
  store.lineRecorder.reading({ camera: 'walk', line: 'west', lineId: 0, timeMs: Date.now(), in: 0, out: 0, stepIn: added.in, stepOut: added.out });
  store.flush();
  const addedS = Math.ceil(Date.now() / 1000);
  const expect = [text(was.in + added.in), text(was.out + added.out)];
  await eventually(
    'the page refreshed',
    async () => {
      const now = await readTable(phone.page);
      return now.rows.west.hour[0] === expect[0] ? now : undefined;
    },
    40_000,
  );
  const after = await readTable(phone.page);
  t.deepEqual(after.rows.west.hour.slice(0, 2), expect, 'the added crossings are in the last hour');
  const hourNow = await apiSums(base, 'walk', { ...after.windows.hour, step: 3600 });
  t.is(after.rows.west.hour[2], signed(hourNow.get('west')!.in - hourNow.get('west')!.out), 'and the net is the API’s');
  t.deepEqual(after.rows.west.start, before.rows.west.start, 'since start is the camera’s RESULT, which did not change');
  await phone.page.locator('.line-table').scrollIntoViewIfNeeded();
  await screenshot(t, phone.page, 'console-line-table-phone.jpg');

  await check(wall.page, 'wall', new Map([['west', added]]), addedS);
  await screenshot(t, wall.page, 'console-line-table-wall.jpg');
  // A line's name opens its chart: the last hour's bars hold every crossing of the line.
  await wall.page.click('.line-table tbody[data-line="centre"] a.line-history');
  const chart = await eventually('the centre line chart', () => readLineChart(wall.page));
  t.deepEqual(chart.labels, ['in', 'out', 'net since start']);
  t.is(await wall.page.evaluate(() => location.hash), '#/line/walk/centre');
  const plotted = { in: chart.data[1].reduce((a, b) => a + b, 0), out: -chart.data[2].reduce((a, b) => a + b, 0) };
  const c = fed.get('centre')!;
  t.true(
    Math.abs(plotted.in - c.in) < 0.01 && Math.abs(plotted.out - c.out) < 0.01,
    `centre: plotted ${JSON.stringify(plotted)}, counted ${JSON.stringify(c)}`,
  );
  t.true(Math.abs(chart.data[3][chart.data[3].length - 1] - (c.in - c.out)) < 0.01, 'the net line ends at in - out');
  // The live arrays: errors of every page the test opened, the chart page's included.
  t.deepEqual([...phone.errors, ...wall.errors], []);
});

const GATE_SITE = `cameras:
  gate:
    width: 768
    height: 576
    lines:
      - { name: door, points: [[0, 300], [768, 300]], in: left }
      - { name: side, points: [[600, 0], [600, 300]], in: right }
`;

/** Deterministic numbers in [0, 1) for second t (murmur3's finaliser: no pattern over neighbouring seconds). */
function hash(t: number, salt: number): number {
  let h = (t ^ Math.imul(salt, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4_294_967_296;
}
/** 1 at `center` seconds ago, falling to 0 at `width` either side. */
const bump = (ago: number, center: number, width: number): number => Math.max(0, 1 - Math.abs(ago - center) / width);

/**
 * A day at a door, as a counting window reports it (about once a second, only when someone crossed): people in
 * at a steady trickle with an arrival wave 40 minutes ago and a morning one 7 hours ago, people out with waves a
 * quarter of an hour and 3 hours ago. Values of 2 decimals, so the API's 3-decimal rounding keeps their sums.
 */
function doorAt(t: number, now: number): Crossed {
  const ago = now - t;
  const pIn = 0.015 + 0.09 * bump(ago, 2400, 720) + 0.05 * bump(ago, 7 * 3600, 3600);
  const pOut = 0.015 + 0.11 * bump(ago, 900, 360) + 0.04 * bump(ago, 3 * 3600, 3600);
  const size = (salt: number): number => Math.round((0.55 + 0.6 * hash(t, salt)) * 100) / 100;
  return { in: hash(t, 1) < pIn ? size(3) : 0, out: hash(t, 2) < pOut ? size(4) : 0 };
}

interface LinePlotted {
  from: number;
  to: number;
  step: number;
  labels: string[];
  data: number[][];
  csv: string;
  totals: { in: number; out: number; text: string };
  noData: boolean;
}

function readLineChart(page: Page): Promise<LinePlotted | undefined> {
  return page.evaluate(() => {
    const element = document.querySelector<HTMLElement & { uplot?: { data: Array<ArrayLike<number>>; series: Array<{ label?: string }> } }>('.line-chart');
    const chart = element?.uplot;
    const totals = document.querySelector<HTMLElement>('.line-totals');
    if (!element || !chart || !totals) return undefined;
    return {
      from: Number(element.dataset.from),
      to: Number(element.dataset.to),
      step: Number(document.querySelector<HTMLElement>('.chart-foot .step')?.dataset.step),
      labels: chart.series.slice(1).map((s) => s.label ?? ''),
      data: chart.data.map((column) => Array.from(column)),
      csv: document.querySelector<HTMLAnchorElement>('.chart-foot a.csv')?.getAttribute('href') ?? '',
      totals: { in: Number(totals.dataset.in), out: Number(totals.dataset.out), text: totals.textContent ?? '' },
      noData: document.querySelector('.no-data') !== null,
    };
  });
}

declare(
  `a line's chart: in and out per step as bars, the net as a line, each step the scripted crossings and the API's; its CSV is the query on screen${why}`,
  async (t) => {
    const dir = tempDir('crowdline-line-chart-');
    const sitePath = path.join(dir, 'site.yaml');
    fs.writeFileSync(sitePath, GATE_SITE);
    // The store's clock follows the script while it is written (readings far from its clock would be stamped at it).
    let scriptedNow: number | undefined;
    const running = await startConsoleServer(t, {
      modelPath: knownAnswerModel().onnxPath,
      sitePath,
      history: { dir: path.join(dir, 'history'), clock: { now: () => scriptedNow ?? Date.now() } },
    });
    const store = running.history!;
    const now = Math.floor(Date.now() / 1000);
    const door = new Map<number, Crossed>();
    for (let s = now - 25 * 3600; s < now; s++) {
      scriptedNow = s * 1000 + 500;
      const c = doorAt(s, now);
      if (c.in > 0 || c.out > 0) {
        door.set(s, c);
        store.lineRecorder.reading({ camera: 'gate', line: 'door', lineId: 0, timeMs: s * 1000 + 300, in: 0, out: 0, stepIn: c.in, stepOut: c.out });
      }
      // "side" counted a few people 5 hours ago, none since.
      if (s === now - 5 * 3600)
        store.lineRecorder.reading({ camera: 'gate', line: 'side', lineId: 1, timeMs: s * 1000 + 300, in: 0, out: 0, stepIn: 3, stepOut: 1 });
      if (s % 3600 === 0) store.flush();
    }
    scriptedNow = undefined;
    store.flush();
    const base = running.console.url.endsWith('/') ? running.console.url : `${running.console.url}/`;

    /** The script's crossings in each step of the plotted window. */
    const scripted = (p: LinePlotted): Crossed[] =>
      p.data[0].map((b) => {
        const sum = { in: 0, out: 0 };
        for (let s = b; s < b + p.step; s++) {
          sum.in += door.get(s)?.in ?? 0;
          sum.out += door.get(s)?.out ?? 0;
        }
        return sum;
      });
    const near = (a: number, b: number): boolean => Math.abs(a - b) < 0.002;
    const checkPlot = async (p: LinePlotted, size: string): Promise<void> => {
      t.deepEqual(p.labels, ['in', 'out', 'net since start'], `${size}: the chart's series`);
      t.is(p.data[0].length, (p.to - p.from) / p.step, `${size}: every step of the range`);
      const expected = scripted(p);
      const [, ins, outs, net] = p.data;
      const wrong = expected.flatMap((e, i) =>
        near(ins[i], e.in) && near(-outs[i], e.out) ? [] : [`${p.data[0][i]}: ${ins[i]}/${-outs[i]} vs ${e.in}/${e.out}`],
      );
      t.deepEqual(wrong, [], `${size}: each step's in (up) and out (down) are the scripted crossings`);
      let running = 0;
      const netWrong = expected.flatMap((e, i) => {
        running += e.in - e.out;
        return Math.abs(net[i] - running) < 0.01 ? [] : [`${p.data[0][i]}: ${net[i]} vs ${running}`];
      });
      t.deepEqual(netWrong, [], `${size}: the net line is in - out summed from the range's start`);
      t.true(expected.some((e) => e.in > 0) && expected.some((e) => e.out > 0), `${size}: people crossed both ways in the range`);
      // The API's answer for the query on screen: the same steps (those with crossings), the same numbers.
      const q = new URLSearchParams({ camera: 'gate', line: 'door', from: String(p.from), to: String(p.to), step: String(p.step) });
      const api = (await (await fetch(`${base}api/v1/lines?${q.toString()}`)).json()) as { series: Array<{ time: number[]; in: number[]; out: number[] }> };
      const fromApi = api.series[0].time.map((x, i) => [x, api.series[0].in[i], api.series[0].out[i]]);
      const fromChart = p.data[0].flatMap((x, i) => (ins[i] !== 0 || outs[i] !== 0 ? [[x, ins[i], -outs[i]]] : []));
      t.deepEqual(fromChart, fromApi, `${size}: the plotted steps are the API's`);
      const total = { in: fromApi.reduce((a, r) => a + r[1], 0), out: fromApi.reduce((a, r) => a + r[2], 0) };
      t.true(
        near(p.totals.in, total.in) && near(p.totals.out, total.out),
        `${size}: the range's totals ${JSON.stringify(p.totals)} are the API's ${JSON.stringify(total)}`,
      );
      t.true(p.totals.text.includes(`${total.in.toFixed(1)} in`) && p.totals.text.includes(`${total.out.toFixed(1)} out`), p.totals.text);
      // The CSV link is the same query as CSV, and holds the rows plotted.
      t.is(p.csv, `/api/v1/lines?${q.toString()}&format=csv`);
      const csv = await (await fetch(`${base}${p.csv.slice(1)}`)).text();
      const rows = csv
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','))
        .map((f) => [Number(f[3]), Number(f[4]), Number(f[5])]);
      t.deepEqual(rows, fromApi, `${size}: the CSV's rows are the plotted ones`);
    };

    const browser = await launchChromium(t);
    const wall = await openPage(browser, `${running.console.url}#/line/gate/door`, { width: 1920, height: 1080 });
    const hour = await eventually('the last hour', () => readLineChart(wall.page));
    t.is(hour.step, 5, 'the last hour in 5 s steps (the zone chart ladder)');
    t.is(hour.to - hour.from, 3600);
    await checkPlot(hour, 'wall, 1 h');
    t.deepEqual(await wall.page.locator('.line-picker option').allTextContents(), ['gate · door', 'gate · side']);
    await screenshot(t, wall.page, 'console-line-chart.jpg');
    // Another range from the range picks: 24 h in 2-minute steps.
    await wall.page.click('.ranges a[data-range="24h"]');
    const day = await eventually('the last 24 h', async () => {
      const p = await readLineChart(wall.page);
      return p && p.step === 120 ? p : undefined;
    });
    t.is(day.to - day.from, 86_400);
    await checkPlot(day, 'wall, 24 h');
    await screenshot(t, wall.page, 'console-line-chart-24h.jpg');
    // A line nobody crossed in the range: zero everywhere, and the page says so.
    await wall.page.selectOption('.line-picker', { label: 'gate · side' });
    const quiet = await eventually('side, 24 h', async () => {
      const p = await readLineChart(wall.page);
      return p && (await wall.page.evaluate(() => document.querySelector<HTMLElement>('.line-chart-page')?.dataset.line)) === 'side' ? p : undefined;
    });
    t.deepEqual([quiet.totals.in, quiet.totals.out], [3, 1], 'side: the three in and one out of 5 hours ago');
    await wall.page.click('.ranges a[data-range="1h"]');
    await eventually('side, 1 h', async () => ((await readLineChart(wall.page))?.noData ? true : undefined));
    const none = (await readLineChart(wall.page))!;
    t.true(none.data[1].every((v) => v === 0) && none.data[2].every((v) => v === 0));

    // The site view lists every line (whether its camera is connected or not): net today, in and out, and the last hour's, the API's sums.
    await wall.page.goto(`${running.console.url}#/site`);
    await wall.page.waitForFunction(() => document.querySelector<HTMLElement>('.line-cards')?.dataset.hourTo !== undefined);
    const cards = await wall.page.evaluate(() => {
      const box = document.querySelector<HTMLElement>('.line-cards')!;
      const read = (card: Element, period: string): string[] =>
        ['in', 'out', 'net'].map((c) => card.querySelector(`[data-period="${period}"] .${c}`)?.textContent ?? '');
      return {
        hour: { from: Number(box.dataset.hourFrom), to: Number(box.dataset.hourTo), step: 3600 },
        today: { from: Number(box.dataset.todayFrom), to: Number(box.dataset.todayTo), step: 86_400 },
        cards: [...box.querySelectorAll<HTMLAnchorElement>('a.line-card')].map((a) => ({
          line: a.dataset.line ?? '',
          href: a.getAttribute('href'),
          today: read(a, 'today'),
          hour: read(a, 'hour'),
        })),
      };
    });
    t.deepEqual(
      cards.cards.map((c) => [c.line, c.href]),
      [
        ['door', '#/line/gate/door'],
        ['side', '#/line/gate/side'],
      ],
    );
    t.is(cards.today.from, await dayStartS(base), "site view: today begins at the server's midnight");
    const cardHour = await apiSums(base, 'gate', cards.hour);
    const cardToday = await apiSums(base, 'gate', cards.today);
    for (const card of cards.cards) {
      const h = cardHour.get(card.line) ?? { in: 0, out: 0 };
      const d = cardToday.get(card.line) ?? { in: 0, out: 0 };
      t.deepEqual(card.hour, [text(h.in), text(h.out), signed(h.in - h.out)], `site view: ${card.line} last hour is the API's`);
      t.deepEqual(card.today, [text(d.in), text(d.out), signed(d.in - d.out)], `site view: ${card.line} today is the API's`);
    }
    t.true((cardHour.get('door')?.in ?? 0) > 0, 'the door was crossed in the last hour');
    await screenshot(t, wall.page, 'console-site-lines.jpg');

    const phone = await openPage(browser, `${running.console.url}#/line/gate/door/1h`, { width: 390, height: 844 });
    const small = await eventually('the last hour on a phone', () => readLineChart(phone.page));
    await checkPlot(small, 'phone, 1 h');
    await screenshot(t, phone.page, 'console-line-chart-phone.jpg');
    await phone.page.goto(`${running.console.url}#/site`);
    await phone.page.locator('.line-card[data-line="door"] [data-period="hour"] .in').filter({ hasText: /\d/ }).waitFor();
    await screenshot(t, phone.page, 'console-site-lines-phone.jpg');
    t.deepEqual([...wall.errors, ...phone.errors], []);

    // A browser clock 2 h behind the server's (its /api/v1/cameras' time moved on): the site view's windows end at the server's now.
    const aheadS = 2 * 3600;
    const skewed = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await skewed.route('**/api/v1/cameras', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { time: string };
      await route.fulfill({ response: res, json: { ...body, time: new Date(Date.parse(body.time) + aheadS * 1000).toISOString() } });
    });
    const beforeS = Math.floor(Date.now() / 1000);
    const late = await skewed.newPage();
    await late.goto(`${running.console.url}#/site`);
    await late.waitForFunction(() => document.querySelector<HTMLElement>('.line-cards')?.dataset.hourTo !== undefined);
    const lateTo = Number(await late.locator('.line-cards').getAttribute('data-hour-to'));
    const afterS = Math.ceil(Date.now() / 1000);
    t.true(
      lateTo >= beforeS + aheadS - 5 && lateTo <= afterS + aheadS + 1,
      `the last hour ends at the server's now: ${lateTo} in ${beforeS}..${afterS} + ${aheadS}`,
    );

    // The site's answer failed: its message (not "ApiError: ...") stays while the line's chart loads again.
    const broken = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await broken.route('**/api/v1/cameras', (route) => route.fulfill({ status: 503, json: { error: 'the site file is unreadable' } }));
    const lone = await broken.newPage();
    await lone.goto(`${running.console.url}#/line/gate/door/10m`);
    const note = lone.locator('.error-note');
    await note.waitFor();
    t.is(await note.textContent(), 'the site file is unreadable');
    const firstTo = Number(await lone.locator('.line-chart').getAttribute('data-to'));
    await lone.waitForFunction((to) => Number(document.querySelector<HTMLElement>('.line-chart')?.dataset.to) > to, firstTo, { timeout: 30_000 });
    t.deepEqual(await note.allTextContents(), ['the site file is unreadable'], 'still shown after the next load of the line');

    // A server slower than the refresh (10 min: every 10 s; each answer here takes 12 s): one load at a time, and the loads go on.
    const slow = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    let inFlight = 0;
    let most = 0;
    let answered = 0;
    await slow.route('**/api/v1/lines?*', async (route) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      try {
        await route.fulfill({ response: await route.fetch() });
      } finally {
        inFlight--;
        answered++;
      }
    });
    const patient = await slow.newPage();
    await patient.goto(`${running.console.url}#/line/gate/door/10m`);
    await eventually('three slow answers', async () => (answered >= 3 ? true : undefined), 90_000);
    t.is(most, 1, 'never two loads of the line at once');
    await slow.close();
  },
);

declare(`history off: the camera page's lines table keeps its totals since start and says why there are no hours${why}`, async (t) => {
  const dir = tempDir('crowdline-line-history-off-');
  const sitePath = path.join(dir, 'site.yaml');
  fs.writeFileSync(sitePath, vtestLinesSite('walk'));
  const running = await startConsoleServer(t, { modelPath: DEFAULT_MODEL_PATH, sitePath, console: consoleSettings({ fps: 5 }) });
  t.is(running.history, undefined, 'no history store');
  const camera = new FileCamera('walk', sampleFrames(300).slice(0, 20), { fps: 5, start: 0 });
  await camera.connect(running.address.port);
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 390, height: 844 });
  camera.start();
  t.teardown(() => camera.close());
  await page.locator('.line-note.off').waitFor({ timeout: 60_000 });
  t.regex((await page.locator('.line-note').textContent()) ?? '', /History is off on this server/);
  await page.locator('.line-table tr[data-period="start"] td.in').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
  const shown = await readTable(page);
  for (const name of NAMES) {
    t.regex(shown.rows[name].start[0], /^\d+\.\d$/, `${name}: since start shown`);
    t.deepEqual(shown.rows[name].hour, ['–', '–', '–'], `${name}: no last hour`);
    t.deepEqual(shown.rows[name].today, ['–', '–', '–'], `${name}: no today`);
  }
  t.deepEqual(errors, []);
});
