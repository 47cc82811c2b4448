/**
 * `crowdline zones draw`: the drawing state machine, the YAML it prints, the
 * headless grid snapshot on real pixels, and the real window under Xvfb,
 * driven by XTEST clicks and keys.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { loadOpenCV, type Mat } from '../client/opencv.js';
import { GRID_COLOURS } from '../client/zones/pixel-grid.js';
import { siteYaml } from '../client/zones/site-yaml.js';
import { ZoneDraft, crossesItself, polygonArea } from '../client/zones/zone-drafting.js';
import { draftInput, drawZonesInWindow } from '../client/zones/zone-draw-session.js';
import type { WindowEvent, ZoneWindow } from '../client/zones/zone-window.js';
import { PACKAGE_ROOT } from '../src/app/paths.js';
import { CLI, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server.js';
import { StreamCamera } from './helpers/stream-camera.js';
import { missingXvfbTool, startXvfb } from './helpers/xvfb.js';
import { haveFfmpeg } from '../bench/sample-video.js';

const GREY = [90, 90, 90];

function pixel(image: Mat, x: number, y: number): number[] {
  const v = image.atRaw(y, x) as unknown as number[];
  return [v[0], v[1], v[2]];
}

async function greyFolder(width: number, height: number): Promise<string> {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-zones-src-');
  cv.imwrite(path.join(dir, 'f-0.png'), new cv.Mat(height, width, cv.CV_8UC3, GREY));
  return dir;
}

test('ZoneDraft: corners, close needs 3, an area and a simple outline, undo reopens, finish closes what it can, corners stay on the frame', (t) => {
  const draft = new ZoneDraft(768, 576);
  t.false(draft.apply({ kind: 'close' }).ok, 'no corners: nothing to close');
  draft.apply({ kind: 'corner', at: [10.4, 20.6] });
  draft.apply({ kind: 'corner', at: [100, 20] });
  t.false(draft.apply({ kind: 'corner', at: [100, 20] }).ok, 'the same corner twice is ignored');
  t.regex(draft.apply({ kind: 'close' }).text, /at least 3 corners \(has 2\)/);
  draft.apply({ kind: 'corner', at: [900, -5] });
  t.deepEqual(
    draft.current,
    [
      [10, 21],
      [100, 20],
      [768, 0],
    ],
    'rounded; clamped to the frame',
  );
  t.true(draft.apply({ kind: 'close' }).ok);
  t.deepEqual(
    draft.zones.map((z) => z.name),
    ['zone-1'],
  );

  // A bow tie crosses itself: refused, then mended by undo.
  for (const at of [
    [0, 0],
    [100, 100],
    [100, 0],
    [0, 100],
  ] as Array<[number, number]>)
    draft.apply({ kind: 'corner', at });
  t.regex(draft.apply({ kind: 'close' }).text, /crosses itself/);
  draft.apply({ kind: 'undo' });
  t.true(draft.apply({ kind: 'close' }).ok);
  t.deepEqual(draft.zones[1], {
    name: 'zone-2',
    polygon: [
      [0, 0],
      [100, 100],
      [100, 0],
    ],
  });

  t.regex(draft.apply({ kind: 'undo' }).text, /zone-2 reopened/);
  t.is(draft.zones.length, 1);
  t.is(draft.current.length, 3);
  t.true(draft.apply({ kind: 'finish' }).ok, 'finish closes the zone in progress');
  t.deepEqual(
    draft.zones.map((z) => z.name),
    ['zone-1', 'zone-2'],
  );
  t.false(draft.apply({ kind: 'corner', at: [1, 1] }).ok, 'nothing after finish');

  const line = new ZoneDraft(100, 100);
  for (const at of [
    [0, 0],
    [10, 10],
    [20, 20],
  ] as Array<[number, number]>)
    line.apply({ kind: 'corner', at });
  t.regex(line.apply({ kind: 'close' }).text, /on one line/, 'the server refuses a zone without area');
  t.is(
    polygonArea([
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 10],
    ]),
    100,
  );

  const short = new ZoneDraft(10, 10);
  short.apply({ kind: 'corner', at: [1, 1] });
  t.regex(short.apply({ kind: 'finish' }).text, /only 1 corners and was left out/);
  t.is(short.zones.length, 0);
});

test('crossesItself', (t) => {
  t.false(
    crossesItself([
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 10],
    ]),
  );
  t.true(
    crossesItself([
      [0, 0],
      [10, 10],
      [10, 0],
      [0, 10],
    ]),
  );
  t.false(
    crossesItself([
      [0, 0],
      [10, 0],
      [5, 5],
      [10, 10],
      [0, 10],
    ]),
    'concave is fine',
  );
  t.true(
    crossesItself([
      [0, 0],
      [10, 0],
      [10, 10],
      [5, 0],
      [0, 10],
    ]),
    'a corner on another edge',
  );
});

test('siteYaml: the site-file layout (camera -> width, height, zones), one line per polygon, parses back', (t) => {
  const text = siteYaml({
    camera: 'walkway',
    width: 768,
    height: 576,
    source: 'vtest.avi',
    zones: [
      {
        name: 'zone-1',
        polygon: [
          [10, 300],
          [380, 300],
          [380, 560],
        ],
      },
      {
        name: 'zone-2',
        polygon: [
          [400, 300],
          [760, 300],
          [760, 560],
          [400, 560],
        ],
      },
    ],
  });
  t.true(text.includes('polygon: [[10, 300], [380, 300], [380, 560]]\n'), text);
  t.true(text.startsWith('# crowdline site file: 2 zones for camera "walkway", drawn on a 768x576 frame of vtest.avi.'), text);
  t.deepEqual(parseYaml(text), {
    cameras: {
      walkway: {
        width: 768,
        height: 576,
        zones: [
          {
            name: 'zone-1',
            polygon: [
              [10, 300],
              [380, 300],
              [380, 560],
            ],
          },
          {
            name: 'zone-2',
            polygon: [
              [400, 300],
              [760, 300],
              [760, 560],
              [400, 560],
            ],
          },
        ],
      },
    },
  });
});

test('draftInput: mouse and keys -> steps, window pixels scaled back to frame pixels', (t) => {
  t.deepEqual(draftInput({ kind: 'click', x: 50, y: 25 }, 0.5), { kind: 'corner', at: [100, 50] });
  t.deepEqual(draftInput({ kind: 'rclick', x: 0, y: 0 }, 1), { kind: 'close' });
  t.deepEqual(draftInput({ kind: 'key', key: 13 }, 1), { kind: 'close' });
  t.deepEqual(draftInput({ kind: 'key', key: 8 }, 1), { kind: 'undo' });
  t.deepEqual(draftInput({ kind: 'key', key: 'q'.charCodeAt(0) }, 1), { kind: 'finish' });
  t.deepEqual(draftInput({ kind: 'key', key: 27 }, 1), { kind: 'finish' });
  t.deepEqual(draftInput({ kind: 'closed' }, 1), { kind: 'finish' });
  t.is(draftInput({ kind: 'key', key: 'x'.charCodeAt(0) }, 1), undefined);
});

/** Plays a fixed list of events and keeps what it was shown. */
class ScriptedWindow implements ZoneWindow {
  readonly shown: Mat[] = [];
  constructor(private readonly events: WindowEvent[]) {}
  show(image: Mat): void {
    this.shown.push(image);
  }
  next(): Promise<WindowEvent> {
    return Promise.resolve(this.events.shift() ?? { kind: 'closed' });
  }
  close(): void {}
}

test('drawZonesInWindow: a large frame is shown scaled down, clicks come back in frame pixels, the status band is below the frame', async (t) => {
  const cv = await loadOpenCV();
  const frame = new cv.Mat(1200, 1600, cv.CV_8UC3, GREY);
  const window = new ScriptedWindow([
    { kind: 'ready' },
    { kind: 'click', x: 100, y: 100 },
    { kind: 'click', x: 400, y: 100 },
    { kind: 'click', x: 400, y: 450 },
    { kind: 'rclick', x: 0, y: 0 },
    { kind: 'key', key: 'q'.charCodeAt(0) },
  ]);
  const logged: string[] = [];
  const draft = await drawZonesInWindow(cv, frame, window, { maxWidth: 800, maxHeight: 900, log: (l) => logged.push(l) });
  t.deepEqual(draft.zones, [
    {
      name: 'zone-1',
      polygon: [
        [200, 200],
        [800, 200],
        [800, 900],
      ],
    },
  ]);
  t.is(window.shown[0].cols, 800);
  t.true(window.shown[0].rows > 600, 'the frame (600 rows at half size) plus the status band');
  t.deepEqual(pixel(window.shown[0], 300, 300), GREY, 'the frame itself is not covered');
  t.true(logged.some((l) => l.startsWith('window open:')));
});

test('zones draw --snapshot: the first frame with grid lines at the expected pixels, labelled, nothing else changed', async (t) => {
  const cv = await loadOpenCV();
  const source = await greyFolder(320, 240);
  const out = path.join(tempDir('crowdline-snapshot-'), 'grid.png');
  const run = await runCli(['zones', 'draw', '--source', source, '--snapshot', out]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /\(320x240\).*width: 320 and height: 240/);
  const image = cv.imread(out, cv.IMREAD_COLOR);
  t.deepEqual([image.cols, image.rows], [320, 240]);
  t.deepEqual(pixel(image, 100, 180), [...GRID_COLOURS.major], 'x = 100: labelled line');
  t.deepEqual(pixel(image, 200, 180), [...GRID_COLOURS.major]);
  t.deepEqual(pixel(image, 50, 180), [...GRID_COLOURS.minor], 'x = 50: thin line');
  t.deepEqual(pixel(image, 270, 100), [...GRID_COLOURS.major], 'y = 100');
  t.deepEqual(pixel(image, 270, 150), [...GRID_COLOURS.minor], 'y = 150');
  for (const [x, y] of [
    [75, 180],
    [101, 180],
    [99, 180],
    [270, 125],
    [270, 101],
  ])
    t.deepEqual(pixel(image, x, y), GREY, `(${x}, ${y}) is the frame`);
  // The labels: "100" just right of x = 100 along the top, on a dark band with white text.
  const label = image.getRegion(new cv.Rect(103, 2, 24, 14)).cvtColor(cv.COLOR_BGR2GRAY);
  const { maxVal, minVal } = cv.minMaxLoc(label);
  t.true(maxVal > 200 && minVal < 40, `label text on a dark band (${minVal}..${maxVal})`);
});

const liveTest = haveFfmpeg() ? test : test.skip;

liveTest('zones draw --snapshot of a live stream: the first frame comes through ffmpeg, as the client reads cameras', async (t) => {
  const camera = await StreamCamera.create();
  camera.start();
  t.teardown(() => camera.kill());
  const out = path.join(tempDir('crowdline-snapshot-'), 'live.png');
  const run = await runCli(['zones', 'draw', '--source', `door=${camera.url}`, '--snapshot', out, '--timeout', '30'], { timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /\(320x240\)/);
  const cv = await loadOpenCV();
  t.deepEqual(pixel(cv.imread(out, cv.IMREAD_COLOR), 100, 180), [...GRID_COLOURS.major]);
});

test('zones draw: a source that cannot be read fails (exit 1) naming it', async (t) => {
  const run = await runCli(['zones', 'draw', '--source', '/no/such/clip.mp4', '--snapshot', path.join(tempDir('crowdline-snapshot-'), 'x.png')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /cannot open source "\/no\/such\/clip.mp4": no such file/);
});

test("zones draw --config --camera: the camera comes from the client's cameras.yaml; a wrong or missing choice is a usage error", async (t) => {
  const dir = tempDir('crowdline-zones-config-');
  const config = path.join(dir, 'cameras.yaml');
  fs.writeFileSync(config, `cameras:\n  - { name: small, url: ${await greyFolder(64, 48)} }\n  - { name: large, url: ${await greyFolder(320, 240)} }\n`);
  const out = path.join(dir, 'grid.png');
  const run = await runCli(['zones', 'draw', '--config', config, '--camera', 'large', '--snapshot', out]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /\(320x240\)/);
  const unknown = await runCli(['zones', 'draw', '--config', config, '--camera', 'nope', '--snapshot', out]);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /--camera nope: not in --config .* \(small, large\)/);
  const unchosen = await runCli(['zones', 'draw', '--config', config, '--snapshot', out]);
  t.is(unchosen.code, 2);
  t.regex(unchosen.stderr, /has 2 cameras: pick one with --camera/);
  const both = await runCli(['zones', 'draw', '--config', config, '--source', 'x.mp4', '--snapshot', out]);
  t.is(both.code, 2);
  t.regex(both.stderr, /give --source \[NAME=\]SOURCE or --config FILE/);
});

test('zones draw without a display asks for --snapshot (exit 2)', async (t) => {
  const run = await runCli(['zones', 'draw', '--source', await greyFolder(64, 48)]);
  t.is(run.code, 2);
  t.regex(run.stderr, /no display.*--snapshot FILE/);
});

const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const haveWindowTools =
  missingXvfbTool() === undefined && spawnSync(PYTHON, ['-c', 'import cv2, ctypes; ctypes.CDLL("libXtst.so.6")'], { stdio: 'ignore' }).status === 0;
const windowTest = haveWindowTools ? test.serial : test.skip;

/** An X server of our own for one test. */
async function xvfbEnv(t: import('ava').ExecutionContext): Promise<NodeJS.ProcessEnv> {
  const xvfb = await startXvfb();
  t.teardown(() => xvfb.child.kill());
  return { ...process.env, DISPLAY: xvfb.display };
}

windowTest('zones draw: when the window process cannot run, it says so and fails (exit 1)', async (t) => {
  const env = { ...(await xvfbEnv(t)), CROWDLINE_PYTHON: '/bin/false' };
  const run = spawnSync(process.execPath, [CLI, 'zones', 'draw', '--source', await greyFolder(64, 48)], { env, encoding: 'utf8', timeout: 60_000 });
  t.is(run.status, 1, run.stderr);
  t.regex(run.stderr, /the zone window failed: the window process exited with 1/);
});

windowTest('zones draw: the real window under Xvfb, clicked with XTEST, prints the YAML of the zones clicked', async (t) => {
  const env = await xvfbEnv(t);
  const cli = spawn(process.execPath, [CLI, 'zones', 'draw', '--source', `gate=${await greyFolder(400, 300)}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => cli.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const opened = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no window within 60 s: ${stderr}`)), 60_000);
    cli.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('window open:')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => cli.on('exit', resolve));
  await opened;
  await new Promise((r) => setTimeout(r, 500));
  // The relay puts the window at the screen's corner (no window manager): window pixels are screen pixels.
  const steps = [
    'click',
    '20',
    '30',
    'click',
    '200',
    '30',
    'click',
    '200',
    '150',
    'key',
    'Return',
    'click',
    '250',
    '100',
    'click',
    '380',
    '100',
    'click',
    '380',
    '290',
    'click',
    '250',
    '290',
    'rclick',
    '10',
    '10',
    'wait',
    '0.3',
    'key',
    'q',
  ];
  const input = spawnSync(PYTHON, [path.join(PACKAGE_ROOT, 'test', 'helpers', 'xtest_input.py'), ...steps], { env, encoding: 'utf8', timeout: 30_000 });
  t.is(input.status, 0, input.stderr);
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  t.is(code, 0, stderr);
  t.deepEqual(parseYaml(stdout), {
    cameras: {
      gate: {
        width: 400,
        height: 300,
        zones: [
          {
            name: 'zone-1',
            polygon: [
              [20, 30],
              [200, 30],
              [200, 150],
            ],
          },
          {
            name: 'zone-2',
            polygon: [
              [250, 100],
              [380, 100],
              [380, 290],
              [250, 290],
            ],
          },
        ],
      },
    },
  });
});
