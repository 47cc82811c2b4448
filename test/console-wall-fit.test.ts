/**
 * The wall fits the screen: with 1, 2 or 4 cameras every tile (picture and
 * footer) is inside a 1920x1080 wall screen, and on a 390x844 phone each tile
 * fits the screen on its own (the wall scrolls a column). A single 4:3 camera
 * on a wide screen used to be as wide as the wall and taller than the screen,
 * its bottom (where the sample video's line names are) off-screen.
 * Real Chromium; screenshots console-wall-fit-N-{wall,phone}.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { consoleSettings, eventually, FileCamera, haveChromium, launchChromium, openPage, sampleFrames, startConsoleServer } from './helpers/console.js';
import { tempDir } from './helpers/server.js';
import { vtestLinesSite } from './helpers/vtest-site.js';

const declare = haveChromium ? test.serial : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed)';

interface Box {
  camera: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
  pictureRatio: number;
}

function tileBoxes(page: Page): Promise<Box[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('article.tile')].map((tile) => {
      const r = tile.getBoundingClientRect();
      const p = tile.querySelector<HTMLElement>('.picture')!.getBoundingClientRect();
      return { camera: tile.dataset.camera ?? '', left: r.left, top: r.top, right: r.right, bottom: r.bottom, pictureRatio: p.width / p.height };
    }),
  );
}

for (const n of [1, 2, 4]) {
  declare(`wall with ${n} camera(s): every tile fits a 1920x1080 screen, and each fits a 390x844 phone's${why}`, async (t) => {
    const names = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
    // One site file with the sample video's lines on each camera (768x576: the reference size gives the tiles their shape).
    const site = path.join(tempDir('crowdline-wall-fit-'), 'site.yaml');
    fs.writeFileSync(site, ['cameras:', ...names.flatMap((name) => vtestLinesSite(name).split('\n').slice(1))].join('\n'));
    const running = await startConsoleServer(t, { modelPath: DEFAULT_MODEL_PATH, sitePath: site, console: consoleSettings({ fps: 2 }) });
    const frames = sampleFrames(3);
    for (const name of names) {
      const camera = new FileCamera(name, frames, { fps: 1, start: 0 });
      await camera.connect(running.address.port);
      camera.start();
      t.teardown(() => camera.close());
    }
    const browser = await launchChromium(t);
    const dir = process.env.CROWDLINE_SCREENSHOTS ?? tempDir('crowdline-wall-fit-shots-');
    for (const [size, viewport] of [
      ['wall', { width: 1920, height: 1080 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { page, errors } = await openPage(browser, running.console.url, viewport);
      await eventually(
        `${n} tiles with a picture`,
        async () => {
          const seqs = await page.locator('article.tile .picture').evaluateAll((ps) => ps.map((p) => (p as HTMLElement).dataset.seq));
          return seqs.length === n && seqs.every((s) => s !== '') ? true : undefined;
        },
        60_000,
      );
      const boxes = await tileBoxes(page);
      t.is(boxes.length, n);
      for (const b of boxes) {
        const where = `${size}: ${b.camera} at ${JSON.stringify(b)}`;
        t.true(b.left >= 0 && b.right <= viewport.width + 0.5, `${where}: inside the width`);
        t.true(b.bottom - b.top <= viewport.height, `${where}: no taller than the screen`);
        if (size === 'wall') t.true(b.bottom <= viewport.height + 0.5, `${where}: on the screen without scrolling`);
        t.true(Math.abs(b.pictureRatio - 4 / 3) < 0.02, `${where}: the picture keeps its 4:3 shape`);
      }
      // The line names at the picture's bottom edge are on the screen too.
      if (size === 'wall') {
        const names = await page.locator('.line-name').evaluateAll((es) => es.map((e) => e.getBoundingClientRect().bottom));
        t.true(names.length === 3 * n && names.every((bottom) => bottom <= viewport.height), `line names' bottoms ${names.join(', ')}`);
      }
      const file = path.join(dir, `console-wall-fit-${n}-${size}.png`);
      await page.screenshot({ path: file });
      t.log(file);
      t.deepEqual(errors, []);
      await page.context().close();
    }
  });
}
