/**
 * Counting lines in the console, in real Chromium: a camera streams the
 * sample video to a server (crowdline-v1, real flow) whose site file has the
 * sample video's three counting lines (test/fixtures/vtest-lines.json); the
 * page draws each line with its two arrows, and the in and out numbers it
 * shows are the RESULT's line block for the frame the picture shows.
 * Screenshots at wall and phone sizes (docs/images/console-lines*.png).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { consoleSettings, eventually, FileCamera, haveChromium, launchChromium, openPage, sampleFrames, startConsoleServer } from './helpers/console.js';
import { tempDir } from './helpers/server.js';
import { vtestLinesSite } from './helpers/vtest-site.js';

const declare = haveChromium ? test : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)';

async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.CROWDLINE_SCREENSHOTS ?? tempDir('crowdline-console-shots-');
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  return file;
}

/** The picture's frame number and the line labels' numbers, read in one go (they change together). */
function readLines(page: Page): Promise<{ seq: number; labels: Record<string, string> } | undefined> {
  return page.evaluate(() => {
    const picture = document.querySelector<HTMLElement>('article.tile[data-camera="walk"] .picture, .camera-view .picture');
    if (!picture || picture.dataset.seq === '') return undefined;
    const labels: Record<string, string> = {};
    for (const label of picture.querySelectorAll<HTMLElement>('.line-label'))
      labels[`${label.dataset.line}/${label.dataset.dir}`] = label.querySelector('.people')?.textContent ?? '';
    return { seq: Number(picture.dataset.seq), labels };
  });
}

/** Labels (counts and names) that stick out of the picture or cover another label: none should. */
function labelProblems(page: Page, picture: string): Promise<string[]> {
  return page.evaluate((selector) => {
    const pic = document.querySelector<HTMLElement>(selector);
    if (!pic) return [`no ${selector}`];
    const area = pic.getBoundingClientRect();
    const labels = [...pic.querySelectorAll<HTMLElement>('.line-label, .line-name')].map((e) => ({
      name: `${e.dataset.line}/${e.dataset.dir ?? 'name'}`,
      r: e.getBoundingClientRect(),
    }));
    const problems: string[] = [];
    const slack = 0.5;
    for (const [i, a] of labels.entries()) {
      if (a.r.left < area.left - slack || a.r.right > area.right + slack || a.r.top < area.top - slack || a.r.bottom > area.bottom + slack) {
        problems.push(`${a.name} sticks out of the picture`);
      }
      for (const b of labels.slice(i + 1)) {
        const overlap =
          Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > slack && Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > slack;
        if (overlap) problems.push(`${a.name} covers ${b.name}`);
      }
    }
    return problems;
  }, picture);
}

declare(`the line with its arrows over the picture; the in and out counts shown are the RESULT's line block${why}`, async (t) => {
  const site = path.join(tempDir('crowdline-console-lines-'), 'site.yaml');
  fs.writeFileSync(site, vtestLinesSite('walk'));
  const running = await startConsoleServer(t, { modelPath: DEFAULT_MODEL_PATH, sitePath: site, console: consoleSettings({ fps: 5 }) });
  const camera = new FileCamera('walk', sampleFrames(300), { fps: 5, start: 0 });
  await camera.connect(running.address.port);
  camera.start();
  t.teardown(() => camera.close());
  const names = ['west', 'centre', 'east'];
  t.deepEqual(
    camera.lines?.lines.map((l) => l.name),
    names,
    'the camera got LINES',
  );
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, running.console.url, { width: 1920, height: 1080 });
  // The line and its arrows are drawn; the labels show numbers once the first frame with a line block arrives.
  await page.locator('article.tile[data-camera="walk"] .line-label[data-dir="in"] .people').filter({ hasText: /\d/ }).first().waitFor({ timeout: 120_000 });
  t.is(await page.locator('article.tile[data-camera="walk"] svg.count-lines polyline.count-line').count(), 3);
  t.is(await page.locator('article.tile[data-camera="walk"] svg.count-lines path.line-arrow').count(), 6);
  // Wait for someone to be counted (the walkway is busy), so the comparison is of numbers that moved.
  await eventually(
    'a crossing counted',
    async () => {
      const shown = await readLines(page);
      return shown && names.some((n) => Number(shown.labels[`${n}/in`]) + Number(shown.labels[`${n}/out`]) > 0) ? true : undefined;
    },
    180_000,
  );
  for (let i = 0; i < 3; i++) {
    const shown = (await readLines(page))!;
    const result = camera.results.get(shown.seq);
    t.truthy(result?.lines, `RESULT ${shown.seq} has a line block`);
    for (const [id, name] of names.entries()) {
      const crossings = result!.lines!.find((c) => c.id === id)!;
      t.is(shown.labels[`${name}/in`], crossings.in.toFixed(1), `frame ${shown.seq}: ${name} in`);
      t.is(shown.labels[`${name}/out`], crossings.out.toFixed(1), `frame ${shown.seq}: ${name} out`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  t.deepEqual(await labelProblems(page, 'article.tile[data-camera="walk"] .picture'), [], 'wall: every label inside the picture, none over another');
  t.is(await page.locator('article.tile[data-camera="walk"] .line-name').count(), 3, 'each line named');
  t.log(`wall: ${await screenshot(page, 'console-lines-wall.png')}`);
  // The camera view at phone size draws the same.
  const phone = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 390, height: 844 });
  await phone.page.locator('.line-label[data-dir="out"] .people').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
  t.deepEqual(await labelProblems(phone.page, '.picture-wrap .picture'), [], 'phone: every label inside the picture, none over another');
  t.log(`phone: ${await screenshot(phone.page, 'console-lines-phone.png')}`);
  // Beside the picture, the lines' table: each line's in, out and net since start, the numbers of the frame the picture shows
  // (its last hour and today come from the history store: console-line-history-browser.test.ts).
  t.deepEqual(await phone.page.locator('.line-table tbody').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.line)), names);
  const table = await phone.page.evaluate(() => {
    const pic = document.querySelector<HTMLElement>('.picture-wrap .picture');
    const labels: Record<string, string> = {};
    for (const label of pic?.querySelectorAll<HTMLElement>('.line-label') ?? [])
      labels[`${label.dataset.line}/${label.dataset.dir}`] = label.querySelector('.people')?.textContent ?? '';
    const rows: Record<string, string[]> = {};
    for (const line of document.querySelectorAll<HTMLElement>('.line-table tbody'))
      rows[line.dataset.line ?? ''] = ['in', 'out', 'net'].map((c) => line.querySelector(`tr[data-period="start"] td.${c}`)?.textContent ?? '');
    return { labels, rows, text: document.querySelector('.camera-side')?.textContent ?? '' };
  });
  for (const name of names) {
    const [shownIn, shownOut, net] = table.rows[name];
    t.is(shownIn, table.labels[`${name}/in`], `${name}: the table's in is the picture's`);
    t.is(shownOut, table.labels[`${name}/out`], `${name}: the table's out is the picture's`);
    const n = Number(shownIn) - Number(shownOut);
    t.true(Math.abs(Number(net) - n) <= 0.11, `${name}: net ${net} is in - out (${n.toFixed(2)})`);
  }
  // This site has lines and no zones: the page says so, and only that.
  t.true(table.text.includes('No zones for this camera'), table.text);
  t.false(table.text.includes('No counting lines'), table.text);
  t.log(`camera page, phone: ${await screenshot(phone.page, 'console-lines-camera-phone.png')}`);
  const wide = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 1920, height: 1080 });
  await wide.page.locator('.line-table tr[data-period="start"] td.in').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
  t.log(`camera page, wall: ${await screenshot(wide.page, 'console-lines-camera-wall.png')}`);
  errors.push(...wide.errors);
  t.deepEqual([...errors, ...phone.errors], []);
});
