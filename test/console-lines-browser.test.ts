/**
 * Counting lines in the console, in real Chromium: a camera streams the
 * sample video to a server (crowdline-v1, real flow) whose site file draws a
 * line across the walkway; the page draws the line with its two arrows, and
 * the in and out numbers it shows are the RESULT's line block for the frame
 * the picture shows. Screenshots at wall and phone sizes.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { consoleSettings, eventually, FileCamera, haveChromium, launchChromium, openPage, sampleFrames, startConsoleServer } from './helpers/console.js';
import { tempDir } from './helpers/server.js';

const declare = haveChromium ? test : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)';

const SITE = `cameras:
  walk:
    width: 768
    height: 576
    lines:
      - name: middle
        points: [[420, 100], [420, 480]]
        in: right
`;

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

declare(`the line with its arrows over the picture; the in and out counts shown are the RESULT's line block${why}`, async (t) => {
  const site = path.join(tempDir('crowdline-console-lines-'), 'site.yaml');
  fs.writeFileSync(site, SITE);
  const running = await startConsoleServer(t, { modelPath: DEFAULT_MODEL_PATH, sitePath: site, console: consoleSettings({ fps: 5 }) });
  const camera = new FileCamera('walk', sampleFrames(300), { fps: 5, start: 0 });
  await camera.connect(running.address.port);
  camera.start();
  t.teardown(() => camera.close());
  t.deepEqual(
    camera.lines?.lines.map((l) => l.name),
    ['middle'],
    'the camera got LINES',
  );
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, running.console.url, { width: 1920, height: 1080 });
  // The line and its arrows are drawn; the labels show numbers once the first frame with a line block arrives.
  await page.locator('article.tile[data-camera="walk"] .line-label[data-dir="in"] .people').filter({ hasText: /\d/ }).waitFor({ timeout: 120_000 });
  t.is(await page.locator('article.tile[data-camera="walk"] svg.count-lines polyline.count-line').count(), 1);
  t.is(await page.locator('article.tile[data-camera="walk"] svg.count-lines path.line-arrow').count(), 2);
  // Wait for someone to be counted (the walkway is busy), so the comparison is of numbers that moved.
  await eventually(
    'a crossing counted',
    async () => {
      const shown = await readLines(page);
      return shown && Number(shown.labels['middle/in']) + Number(shown.labels['middle/out']) > 0 ? true : undefined;
    },
    180_000,
  );
  for (let i = 0; i < 3; i++) {
    const shown = (await readLines(page))!;
    const result = camera.results.get(shown.seq);
    t.truthy(result?.lines, `RESULT ${shown.seq} has a line block`);
    const [middle] = result!.lines!;
    t.is(shown.labels['middle/in'], middle.in.toFixed(1), `frame ${shown.seq}: in`);
    t.is(shown.labels['middle/out'], middle.out.toFixed(1), `frame ${shown.seq}: out`);
    await new Promise((r) => setTimeout(r, 500));
  }
  t.log(`wall: ${await screenshot(page, 'console-lines-wall.png')}`);
  // The camera view at phone size draws the same.
  const phone = await openPage(browser, `${running.console.url}#/camera/walk`, { width: 390, height: 844 });
  await phone.page.locator('.line-label[data-dir="out"] .people').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
  t.log(`phone: ${await screenshot(phone.page, 'console-lines-phone.png')}`);
  t.deepEqual([...errors, ...phone.errors], []);
});
