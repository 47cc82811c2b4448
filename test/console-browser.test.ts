/**
 * The console in a real browser: Debian's Chromium driven by playwright-core
 * (no browser download; skipped only when /usr/bin/chromium is missing).
 * Cameras stream the sample video to a server running crowdline-v1; every
 * check compares the page with what the cameras themselves got back for the
 * same frame.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { addClient } from '../src/auth/edit-credentials.js';
import { decodeUpdate } from '../src/console/wire.js';
import { consoleSettings, eventually, FileCamera, haveChromium, launchChromium, openPage, sampleFrames, startConsoleServer } from './helpers/console.js';
import { runCli } from './helpers/cli.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const declare = haveChromium ? test : test.skip;
const why = haveChromium ? '' : ' (skipped: /usr/bin/chromium is not installed; scripts/setup.sh installs it)';

/** The sample video's walkway zones for two cameras; "crossing" alarms as soon as anyone is in it. */
const SITE = (cameras: string[]): string =>
  `cameras:\n${cameras
    .map(
      (name) => `  ${name}:
    width: 768
    height: 576
    zones:
      - name: crossing
        polygon: [[340, 150], [560, 120], [600, 330], [360, 340]]
        capacity: 6
        smoothing_s: 1
        alerts:
          - { level: alarm, metric: people, above: 0.5, for_s: 0, clear_below: 0.1, clear_for_s: 30 }
      - name: west-path
        polygon: [[0, 150], [340, 150], [360, 340], [0, 260]]
`,
    )
    .join('')}`;

function writeSite(cameras: string[]): string {
  const file = path.join(tempDir('crowdline-console-site-'), 'site.yaml');
  fs.writeFileSync(file, SITE(cameras));
  return file;
}

/** Screenshots go to a temporary folder, and to $CROWDLINE_SCREENSHOTS when set (docs/images is made that way). */
async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.CROWDLINE_SCREENSHOTS ?? tempDir('crowdline-console-shots-');
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  return file;
}

/**
 * What one tile shows right now, read in one go. The picture (and the zone labels on it) changes once its JPEG
 * is decoded, the footer (count, frame number) as soon as the update arrives: each carries its own frame number.
 */
function readTile(
  page: Page,
  camera: string,
): Promise<{ seq: number; zones: Record<string, string>; footerSeq: number; count: string; classes: string } | undefined> {
  return page.evaluate((name) => {
    const tile = document.querySelector<HTMLElement>(`article.tile[data-camera="${CSS.escape(name)}"]`);
    const picture = tile?.querySelector<HTMLElement>('.picture');
    if (!tile || !picture || picture.dataset.seq === '') return undefined;
    const zones: Record<string, string> = {};
    for (const label of tile.querySelectorAll<HTMLElement>('.zone-label')) zones[label.dataset.zone ?? ''] = label.querySelector('.people')?.textContent ?? '';
    const footerSeq = Number((tile.querySelector('footer .seq')?.textContent ?? '').replace('#', ''));
    return { seq: Number(picture.dataset.seq), zones, footerSeq, count: tile.querySelector('.count')?.textContent ?? '', classes: tile.className };
  }, camera);
}

declare(
  `the wall: a tile per camera, counters advance, heat over people, zone counts equal the RESULT's, alarms listed, a stopped camera goes stale${why}`,
  async (t) => {
    const frames = sampleFrames(120);
    const running = await startConsoleServer(t, {
      modelPath: DEFAULT_MODEL_PATH,
      sitePath: writeSite(['north', 'south']),
      console: consoleSettings({ fps: 5, staleAfterMs: 2_500 }),
    });
    const north = new FileCamera('north', frames, { fps: 4, start: 40 });
    const south = new FileCamera('south', frames, { fps: 4, start: 70 });
    for (const cam of [north, south]) {
      await cam.connect(running.address.port);
      cam.start();
      t.teardown(() => cam.close());
    }
    const browser = await launchChromium(t);
    const { page, errors } = await openPage(browser, running.console.url, { width: 1920, height: 1080 });

    // Two tiles, and each one's frame number moves on.
    const first = await eventually('two tiles with frames', async () => {
      const [n, s] = [await readTile(page, 'north'), await readTile(page, 'south')];
      return n && s ? { n: n.seq, s: s.seq } : undefined;
    });
    t.is(await page.locator('article.tile').count(), 2);
    await eventually('both counters advance', async () => {
      const [n, s] = [await readTile(page, 'north'), await readTile(page, 'south')];
      return n && s && n.seq >= first.n + 3 && s.seq >= first.s + 3 ? true : undefined;
    });

    // The zone's number on the page is the RESULT's zone block for the same frame.
    for (let i = 0; i < 3; i++) {
      const shown = (await readTile(page, 'north'))!;
      const result = north.results.get(shown.seq);
      t.truthy(result?.zones, `RESULT ${shown.seq} has a zone block`);
      const names = north.zones!.zones.map((z) => z.name);
      for (const reading of result!.zones!) t.is(shown.zones[names[reading.id]], reading.people.toFixed(1), `frame ${shown.seq}, zone ${names[reading.id]}`);
      t.is(shown.count, north.results.get(shown.footerSeq)?.count.toFixed(1) ?? `no RESULT ${shown.footerSeq}`, `footer of frame ${shown.footerSeq}`);
      await new Promise((r) => setTimeout(r, 400));
    }

    // Hotter over people than over empty ground: the heat layer's pixels where the camera's own density map
    // (RESULT, float32) puts its people, against cells where it found nobody.
    const heat = await page.evaluate(() => {
      const tile = document.querySelector<HTMLElement>('article.tile[data-camera="north"]')!;
      const canvas = tile.querySelector<HTMLCanvasElement>('canvas.heat')!;
      // The frame the heat layer was drawn from (the picture's own seq attribute follows on the next render).
      const seq = Number(canvas.dataset.seq);
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      return { seq, width: canvas.width, height: canvas.height, rgba: Array.from(data) };
    });
    const map = north.results.get(heat.seq)!.density!;
    t.is(heat.width, map.width);
    t.is(heat.height, map.height);
    const cells = [...map.values.keys()];
    const peak = Math.max(...map.values);
    const people = cells.filter((i) => map.values[i] >= 0.5 * peak);
    const ground = cells.filter((i) => map.values[i] <= 0.002 * peak);
    t.true(people.length > 0 && ground.length > 100, `${people.length} people cells, ${ground.length} empty ones`);
    const mean = (list: number[], channel: number): number => list.reduce((sum, i) => sum + heat.rgba[i * 4 + channel], 0) / list.length;
    t.true(mean(people, 3) > 100, `alpha over people ${mean(people, 3).toFixed(0)}`);
    t.is(mean(ground, 3), 0, 'empty ground is left clear');
    t.true(mean(people, 0) > mean(people, 2), 'people are drawn warm (more red than blue)');

    // The site file's alarm is in the alerts panel, with its zone, camera and rule.
    const alarm = page.locator('.alerts-panel li.alert.alarm[data-zone="crossing"][data-camera="north"]');
    await alarm.waitFor({ timeout: 30_000 });
    t.regex((await alarm.textContent()) ?? '', /people >= 0\.5/);
    t.regex((await alarm.textContent()) ?? '', /since \d/);
    await screenshot(page, 'console-wall.png');

    // The camera view: the picture large, the zones' numbers beside it.
    await page.goto(`${running.console.url}#/camera/north`);
    await page.locator('.zone-table tr[data-zone="crossing"] td.people').filter({ hasText: /\d/ }).waitFor();
    await page.waitForTimeout(600);
    await screenshot(page, 'console-camera.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(600);
    await screenshot(page, 'console-camera-phone.png');
    await page.goto(running.console.url);
    await page.locator('article.tile[data-camera="south"] .picture[data-seq]:not([data-seq=""])').waitFor();
    await page.waitForTimeout(600);
    await screenshot(page, 'console-wall-phone.png');

    // A camera that stops sending is marked stale (not frozen silently).
    south.stop();
    const stale = page.locator('article.tile.stale[data-camera="south"]');
    await stale.waitFor({ timeout: 15_000 });
    t.regex((await stale.locator('.badge').textContent()) ?? '', /stale/);
    t.notRegex((await readTile(page, 'north'))!.classes, /stale/);
    t.deepEqual(errors, []);
  },
);

declare(`privacy mode: the page shows the density on a neutral ground and not one WebSocket frame carries JPEG bytes${why}`, async (t) => {
  const frames = sampleFrames(120);
  const running = await startConsoleServer(t, {
    modelPath: DEFAULT_MODEL_PATH,
    sitePath: writeSite(['north']),
    console: consoleSettings({ video: 'off', fps: 5 }),
  });
  const north = new FileCamera('north', frames, { fps: 4, start: 50 });
  await north.connect(running.address.port);
  north.start();
  t.teardown(() => north.close());
  const browser = await launchChromium(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const binary: Buffer[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (frame) => typeof frame.payload !== 'string' && binary.push(frame.payload)));
  await page.goto(running.console.url);
  await eventually('updates in the browser', async () => (binary.length >= 6 ? true : undefined));
  await page.locator('.pill.privacy').waitFor();
  t.true(await page.locator('article.tile[data-camera="north"] canvas.frame.neutral').isHidden(), 'no picture is drawn');
  await screenshot(page, 'console-privacy.png');
  for (const payload of binary) {
    const update = decodeUpdate(payload);
    t.is(update.header.jpegBytes, 0);
    t.true(update.density.length > 0);
    t.false(payload.includes(Buffer.from([0xff, 0xd8, 0xff])), 'no JPEG start-of-image marker');
  }
  const pieces = north.sent.map((jpeg) => jpeg.subarray(2000, 2032));
  t.false(
    binary.some((m) => pieces.some((p) => m.includes(p))),
    'no piece of any picture the camera sent',
  );
});

declare(`sign-in: the page asks for a token, refuses a wrong one, and a viewer cannot reach admin routes${why}`, async (t) => {
  const file = path.join(tempDir('crowdline-console-signin-'), 'credentials.yaml');
  const viewer = await addClient(file, 'control-room', undefined, 'viewer');
  const admin = await addClient(file, 'site-admin', undefined, 'admin');
  const running = await startConsoleServer(t, { modelPath: knownAnswerModel().onnxPath, security: { authFile: file } });
  const browser = await launchChromium(t);
  const { page, context, errors } = await openPage(browser, running.console.url, { width: 390, height: 844 });
  await page.locator('form input#token').waitFor();
  await screenshot(page, 'console-sign-in-phone.png');
  await page.fill('input#token', `cl1.${viewer.split('.')[1]}.${'A'.repeat(43)}`);
  await page.click('button[type=submit]');
  await page.locator('.login .error').filter({ hasText: 'token not accepted' }).waitFor();
  t.is(await page.locator('.wall').count(), 0);
  await page.fill('input#token', viewer);
  await page.click('button[type=submit]');
  await page.locator('.wall').waitFor();
  t.regex((await page.locator('.user').textContent()) ?? '', /control-room \(viewer\)/);
  // The session cookie is out of the page's reach (HttpOnly) and strict.
  t.false((await page.evaluate(() => document.cookie)).includes('crowdline_console'));
  const cookie = (await context.cookies()).find((c) => c.name === 'crowdline_console');
  t.is(cookie?.httpOnly, true);
  t.is(cookie?.sameSite, 'Strict');
  const post = (p: string): Promise<number> => page.evaluate((url) => fetch(url, { method: 'POST' }).then((r) => r.status), p);
  t.is(await post('/api/admin/reload'), 403, 'a viewer may not use admin routes');
  // Sign out, in as admin: the same route answers.
  await page.click('button.sign-out');
  await page.locator('form input#token').waitFor();
  t.is(await post('/api/admin/reload'), 401);
  await page.fill('input#token', admin);
  await page.click('button[type=submit]');
  await page.locator('.wall').waitFor();
  t.is(await post('/api/admin/reload'), 200);
  t.deepEqual(
    errors.filter((e) => !/status of 40[13]/.test(e)),
    [],
  );
});

declare(`crowdline demo prints the console's URL, and its page shows the sample video with heat, zones and counts${why}`, async (t) => {
  const cwd = tempDir('crowdline-console-demo-');
  let stderr = '';
  let demo: ChildProcess | undefined;
  // Long enough to outlive the look (a loaded machine answers about a frame a second); stopped with SIGINT below.
  const run = runCli(['demo', '--max-frames', '600', '--console-port', '0'], {
    cwd,
    timeoutMs: 300_000,
    onSpawn: (child: ChildProcess) => {
      demo = child;
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    },
  });
  t.teardown(() => demo?.kill('SIGKILL'));
  const url = await eventually('the console URL', async () => /the console is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1], 60_000);
  const browser = await launchChromium(t);
  const { page, errors } = await openPage(browser, url, { width: 1280, height: 800 });
  await page.locator('article.tile[data-camera="vtest"] .zone-label[data-zone="crossing"] .people').filter({ hasText: /\d/ }).waitFor({ timeout: 150_000 });
  await page.waitForTimeout(800);
  const shown = (await readTile(page, 'vtest'))!;
  t.true(shown.seq > 0);
  t.regex(shown.count, /^\d+\.\d$/);
  t.deepEqual(Object.keys(shown.zones).sort(), ['crossing', 'west-path']);
  const drawn = await page.evaluate(() => {
    const tile = document.querySelector('article.tile[data-camera="vtest"]')!;
    const frame = tile.querySelector<HTMLCanvasElement>('canvas.frame')!;
    const heat = tile.querySelector<HTMLCanvasElement>('canvas.heat')!;
    const alpha = Array.from(heat.getContext('2d')!.getImageData(0, 0, heat.width, heat.height).data).filter((_, i) => i % 4 === 3);
    return { frame: [frame.width, frame.height], hot: alpha.filter((a) => a > 0).length };
  });
  t.deepEqual(drawn.frame, [768, 576], 'the sample video, full size');
  t.true(drawn.hot > 10, `heat drawn in ${drawn.hot} cells`);
  await screenshot(page, 'console-demo.png');
  t.deepEqual(errors, []);
  demo?.kill('SIGINT');
  const result = await run;
  t.not(result.code, null, 'the demo stopped on SIGINT');
});
