/**
 * The live window is real: the client runs under a private Xvfb server and
 * the test screenshots the screen, expecting two tiles with the density
 * colour map over frames that are grey without it: strong over the bright
 * square (high density from the known-answer model), none to speak of over
 * the dark background (the blend follows the density).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { loadOpenCV, type OpenCV } from '../client/opencv.js';
import { PACKAGE_ROOT } from '../src/app/paths.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';
import { missingXvfbTool, screenshot, startXvfb } from './helpers/xvfb.js';
import { pixelBox, type PixelBox } from './helpers/pixel-box.js';

const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
const missingTool = missingXvfbTool();

/** Grey frames (no colour at all): any colour on screen comes from the overlay. */
async function writeGreyFolder(cv: OpenCV, frames: number): Promise<string> {
  const dir = tempDir('crowdline-grey-');
  for (let i = 0; i < frames; i++) {
    const image = new cv.Mat(240, 320, cv.CV_8UC3, [60, 60, 60]);
    image.drawRectangle(new cv.Point2(40 + i * 3, 60), new cv.Point2(140 + i * 3, 160), new cv.Vec3(230, 230, 230), -1);
    cv.imwrite(path.join(dir, `${String(i).padStart(3, '0')}.png`), image);
  }
  return dir;
}

/** Pixels with strong colour (max-min channel > 60) and their bounding box. */
function colouredPixels(cv: OpenCV, file: string): PixelBox {
  return pixelBox(cv.imread(file, cv.IMREAD_COLOR), (b, g, r) => Math.max(b, g, r) - Math.min(b, g, r) > 60);
}

const TITLE = 'window: under Xvfb the client shows a mosaic with one overlaid tile per camera';
const declare = missingTool ? test.skip : test;

declare(missingTool ? `${TITLE} (skipped: ${missingTool} is not installed; needs xvfb, x11-apps, imagemagick)` : TITLE, async (t) => {
  const cv = await loadOpenCV();
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }) });
  const xvfb = await startXvfb();
  t.teardown(() => xvfb.child.kill('SIGTERM'));
  const folderA = await writeGreyFolder(cv, 40);
  const folderB = await writeGreyFolder(cv, 40);
  const client = spawn(
    process.execPath,
    [CLI, 'client', '--server', `127.0.0.1:${server.address.port}`, '--source', folderA, '--source', folderB, '--fps', '4'],
    { env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  client.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  client.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': all of the output is in then, for the failure message.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    client.on('close', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(() => client.kill('SIGKILL'));

  // On a loaded machine loading OpenCV (twice: the display probe, then the client) can take longer than the
  // screenshots' 30 s; until its start line the client has no SIGINT handler, and the SIGINT below would kill it.
  const startBy = Date.now() + 90_000;
  while (!stderr.includes('crowdline client:') && Date.now() < startBy && client.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  t.true(stderr.includes('crowdline client:'), `the client did not start (stderr: ${stderr})`);

  // Two 320x240 frames side by side, scaled into 620x465 tiles (see Mosaic); the bright
  // 100x100 square (rows 60-160) becomes ~194x194 (rows ~116-310): colour there, in both tiles.
  const shot = path.join(tempDir('crowdline-shot-'), 'screen.png');
  let best: PixelBox | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    if (!(await screenshot(xvfb.display, shot))) continue;
    const box = colouredPixels(cv, shot);
    if (!best || box.pixels > best.pixels) best = box;
    if (box.pixels > 40_000 && box.right - box.left > 700) break;
  }
  t.log(`screenshot: ${shot}; coloured pixels ${best?.pixels}, box x ${best?.left}..${best?.right} y ${best?.top}..${best?.bottom}`);
  t.truthy(best && best.pixels > 40_000, `the screen shows no overlay (stderr: ${stderr})`);
  t.true(best!.right - best!.left > 700, 'colour in both tiles');
  // The dark background above and below the square keeps its grey.
  t.true(best!.top > 60 && best!.bottom < 400, 'colour only where the density is');

  client.kill('SIGINT');
  const { code, signal } = await exited;
  t.is(code, 0, `signal ${signal}\nstderr:\n${stderr}\nstdout:\n${stdout}`);
  t.regex(stdout, /crowdline client summary/);
});
