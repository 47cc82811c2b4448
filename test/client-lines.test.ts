/**
 * Client side of counting lines (protocol v1.4): where the arrows go (to the
 * "in" side, as the protocol defines left and right on the image), the
 * line and arrows drawn on real pixels in their colours, scaled from the
 * reference size, and hostile geometry from a server drawn without harm.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parseConfig } from '../client/config/config-file.js';
import { crossingCount, drawLines, LINE_COLOURS, labelBox, lineArrows, placeLabel, type LineView } from '../client/display/line-overlay.js';
import { loadOpenCV, type Mat } from '../client/opencv.js';
import type { LinesMessage } from '../src/framing/index.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server.js';
import { vtestLinesMessage } from './helpers/vtest-site.js';
import { startZoneServer } from './helpers/zone-server.js';

const GREY: [number, number, number] = [90, 90, 90];

/** Pixels that are clearly cyan or magenta: the arrows and the in/out labels' text. */
function colourPixels(cv: Awaited<ReturnType<typeof loadOpenCV>>, image: Mat): number {
  const [b, g, r] = image.splitChannels();
  const strong = (m: Mat): Mat => m.threshold(200, 255, cv.THRESH_BINARY);
  // Cyan: blue and green high, red low; magenta: blue and red high, green low.
  const cyan = strong(b).bitwiseAnd(strong(g)).bitwiseAnd(strong(r).bitwiseNot());
  const magenta = strong(b).bitwiseAnd(strong(r)).bitwiseAnd(strong(g).bitwiseNot());
  return cyan.countNonZero() + magenta.countNonZero();
}

function pixel(image: Mat, x: number, y: number): number[] {
  const v = image.atRaw(y, x) as unknown as number[];
  return [v[0], v[1], v[2]];
}

const lines = (
  inSide: 'left' | 'right',
  points: Array<[number, number]> = [
    [0, 300],
    [768, 300],
  ],
): LinesMessage => ({ type: 'lines', camera: 'cam', width: 768, height: 576, lines: [{ id: 0, name: 'door', points, in: inSide }] });

test('lineArrows: the "in" arrow points to the side the protocol calls in; "out" points back', (t) => {
  // Walking left to right along y = 300, the left is up the image (y < 300).
  const left = lineArrows(
    [
      [0, 300],
      [768, 300],
    ],
    'left',
    1,
  );
  t.deepEqual(left, { in: { from: [408, 326], to: [408, 274] }, out: { from: [360, 274], to: [360, 326] } });
  const right = lineArrows(
    [
      [0, 300],
      [768, 300],
    ],
    'right',
    1,
  );
  t.true(right!.in.to[1] > 300, 'right of a left-to-right line is down the image');
  // A vertical line walked downwards: its right is -x (the viewer's left).
  const down = lineArrows(
    [
      [100, 0],
      [100, 500],
    ],
    'right',
    1,
  );
  t.true(down!.in.to[0] < 100);
  // The longest segment carries the arrows; a polyline of one repeated point has none.
  const bent = lineArrows(
    [
      [0, 0],
      [10, 0],
      [10, 400],
    ],
    'left',
    1,
  );
  t.is(bent!.in.from[1], 200 + 24, 'middle of the long segment, 24 px along it');
  t.is(
    lineArrows(
      [
        [5, 5],
        [5, 5],
      ],
      'left',
      1,
    ),
    undefined,
  );
});

test('crossingCount: one decimal under 100 people, whole numbers above', (t) => {
  t.is(crossingCount(0), '0.0');
  t.is(crossingCount(12.345), '12.3');
  t.is(crossingCount(1234.6), '1235');
});

test('drawLines: the line white, the "in" arrow cyan towards its side, "out" magenta; the rest of the picture untouched', async (t) => {
  const cv = await loadOpenCV();
  const image = new cv.Mat(576, 768, cv.CV_8UC3, GREY);
  const view: LineView = { lines: lines('left'), crossings: [{ id: 0, in: 12.3, out: 4, intervalMs: 1000, intervalIn: 1, intervalOut: 0 }] };
  drawLines(cv, image, view, { width: 768, height: 576 });
  t.deepEqual(pixel(image, 600, 300), [...LINE_COLOURS.line], 'the line');
  t.deepEqual(pixel(image, 408, 310), [...LINE_COLOURS.in], 'in: the shaft crosses the line at x = 408');
  t.deepEqual(pixel(image, 404, 280), [...LINE_COLOURS.in], 'in: its head, up the image');
  t.deepEqual(pixel(image, 360, 290), [...LINE_COLOURS.out], 'out: the shaft crosses the line at x = 360');
  t.deepEqual(pixel(image, 600, 200), GREY, 'away from the line');
  t.deepEqual(pixel(image, 384, 400), GREY, 'below the arrows and labels');
  // The label at each tip is drawn on a darkened band: the tips' surroundings are no longer the plain grey.
  t.notDeepEqual(pixel(image, 400, 262), GREY, 'a label beyond the in tip');
  // Reference 768x576, frame sent 384x288, a 192x144 tile: the line lands at y = 75.
  const tile = new cv.Mat(144, 192, cv.CV_8UC3, GREY);
  drawLines(cv, tile, view, { width: 384, height: 288 });
  t.deepEqual(pixel(tile, 180, 75), [...LINE_COLOURS.line]);
  t.deepEqual(pixel(tile, 180, 70), GREY);
});

test('labels: a label that would cover one drawn before it slides along its line until clear, inside the picture', (t) => {
  const placed = [{ x: 100, y: 100, w: 40, h: 16 }];
  // Wants the same place: slides up (its line's direction) in steps of half its height (8) until clear of the first: 3 steps.
  t.deepEqual(placeLabel({ x: 110, y: 104, w: 40, h: 16 }, [0, -1], placed, 400, 300), { x: 110, y: 80, w: 40, h: 16 });
  // Clear already: stays. No way to slide: stays, overlapping (better than vanishing).
  t.deepEqual(placeLabel({ x: 200, y: 104, w: 40, h: 16 }, [0, -1], placed, 400, 300), { x: 200, y: 104, w: 40, h: 16 });
  t.deepEqual(placeLabel({ x: 110, y: 104, w: 40, h: 16 }, undefined, placed, 400, 300), { x: 110, y: 104, w: 40, h: 16 });
  // At the picture's top edge it cannot go up, so it stays where it wanted to be.
  t.deepEqual(placeLabel({ x: 100, y: 0, w: 40, h: 16 }, [0, -1], [{ x: 90, y: 0, w: 40, h: 16 }], 400, 300), { x: 100, y: 0, w: 40, h: 16 });
  // A box beyond an arrow tip pointing right starts 2 px past the tip; one near the edge is pulled inside.
  t.deepEqual(labelBox(30, 12, [50, 50], [10, 0], 400, 300), { x: 52, y: 41, w: 36, h: 18 });
  t.deepEqual(labelBox(30, 12, [395, 50], [10, 0], 400, 300), { x: 364, y: 41, w: 36, h: 18 });
});

test("drawLines on a small picture: the three sample lines' labels no longer cover each other", async (t) => {
  const cv = await loadOpenCV();
  const view: LineView = {
    lines: vtestLinesMessage(),
    crossings: [0, 1, 2].map((id) => ({ id, in: 13.7, out: 19.6, intervalMs: 1000, intervalIn: 0, intervalOut: 0 })),
  };
  // On a black picture each label is a band at 0.35 of black (still black) with coloured text: count the text pixels of each colour.
  // Covered labels lose text; cleared ones keep it all. Compare with the same labels drawn one line at a time.
  const together = new cv.Mat(288, 384, cv.CV_8UC3, [0, 0, 0]);
  drawLines(cv, together, view, { width: 384, height: 288 });
  let apart = 0;
  for (const line of view.lines.lines) {
    const alone = new cv.Mat(288, 384, cv.CV_8UC3, [0, 0, 0]);
    drawLines(cv, alone, { ...view, lines: { ...view.lines, lines: [line] } }, { width: 384, height: 288 });
    apart += colourPixels(cv, alone);
  }
  t.is(colourPixels(cv, together), apart, "every label's text is whole: none was drawn over another");
});

test('drawLines: absurd coordinates, a line of one point and crossings for unknown ids are drawn without throwing', async (t) => {
  const cv = await loadOpenCV();
  const image = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  t.notThrows(() =>
    drawLines(
      cv,
      image,
      {
        lines: {
          type: 'lines',
          camera: 'cam',
          width: 1e-300,
          height: 1e300,
          lines: [
            {
              id: 0,
              name: 'far',
              points: [
                [-1e300, 1e300],
                [1e300, -1e300],
              ],
              in: 'left',
            },
            {
              id: 1,
              name: 'dot',
              points: [
                [3, 3],
                [3, 3],
              ],
              in: 'right',
            },
          ],
        },
        crossings: [{ id: 9, in: 1, out: 1, intervalMs: 0, intervalIn: 0, intervalOut: 0 }],
      },
      { width: 200, height: 150 },
    ),
  );
});

test('client end to end: asks for lines, draws their arrows into the recording; --no-lines and a camera with lines: false do not ask', async (t) => {
  const cv = await loadOpenCV();
  const server = await startZoneServer({
    zones: [{ from: 0, message: { camera: 'cam', zones: [] } }],
    readings: () => [],
    lines: {
      message: {
        camera: 'cam',
        width: 640,
        height: 480,
        lines: [
          {
            id: 0,
            name: 'door',
            points: [
              [0, 240],
              [640, 240],
            ],
            in: 'right',
          },
        ],
      },
      crossings: (seq) => [{ id: 0, in: seq, out: seq / 2, intervalMs: 1000, intervalIn: 1, intervalOut: 0.5 }],
    },
  });
  t.teardown(() => server.close());
  const folder = tempDir('crowdline-lines-frames-');
  for (let i = 0; i < 4; i++) cv.imwrite(path.join(folder, `f-${i}.png`), new cv.Mat(240, 320, cv.CV_8UC3, GREY));
  const out = tempDir('crowdline-lines-out-');
  const config = path.join(out, 'cameras.yaml');
  fs.writeFileSync(config, `cameras:\n  - { name: cam, url: ${folder} }\n  - { name: plain, url: ${folder}, lines: false }\n`);
  const run = await runCli(['client', '--server', `127.0.0.1:${server.port}`, '--config', config, '--no-display', '--out', out], { timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(new Set(server.hellos.map((h) => `${h.camera}:${h.wantsLines}`)), new Set(['cam:true', 'plain:false']));
  const capture = new cv.VideoCapture(path.join(out, 'cam.avi'));
  const frames: Mat[] = [];
  for (let f = capture.read(); !f.empty; f = capture.read()) frames.push(f);
  capture.release();
  t.is(frames.length, 4);
  // 640x480 -> 320x240: the line at y = 120, white; "in" is below it (the right of a left-to-right line): a cyan shaft at x = 160 + 24 * 320/768.
  const [bl, gl, rl] = pixel(frames[1], 40, 120);
  t.true(bl > 200 && gl > 200 && rl > 200, `the line is white: ${[bl, gl, rl].join(',')}`);
  const inX = Math.round(160 + (24 * 320) / 768);
  const [bi, gi, ri] = pixel(frames[1], inX, 126);
  t.true(bi > 150 && gi > 150 && ri < bi - 60, `the in arrow is cyan (blurred by Motion-JPEG) below the line: ${[bi, gi, ri].join(',')}`);
  const outX = Math.round(160 - (24 * 320) / 768);
  const [bo, go, ro] = pixel(frames[1], outX, 114);
  t.true(bo > 150 && ro > 150 && go < bo - 60, `the out arrow is magenta above the line: ${[bo, go, ro].join(',')}`);
  cv.imwrite(path.join(out, 'frame.png'), frames[3]);
  t.log(`frame: ${path.join(out, 'frame.png')}`);
  // --no-lines: no camera asks.
  const again = await runCli(['client', '--server', `127.0.0.1:${server.port}`, '--source', `cam=${folder}`, '--no-display', '--no-lines'], {
    timeoutMs: 60_000,
  });
  t.is(again.code, 0, again.stderr);
  t.false(server.hellos[server.hellos.length - 1].wantsLines);
});

test('config: a camera may opt out of lines; anything but true/false is refused', (t) => {
  const config = parseConfig(
    {
      cameras: [
        { name: 'a', url: 'rtsp://x/1', lines: false },
        { name: 'b', url: 'rtsp://x/2' },
      ],
    },
    'c.yaml',
  );
  t.is(config.cameras[0].lines, false);
  t.false('lines' in config.cameras[1]);
  t.throws(() => parseConfig({ cameras: [{ name: 'a', url: 'rtsp://x/1', lines: 'no' }] }, 'c.yaml'), {
    message: /cameras\[0\].lines: expected true or false/,
  });
});
