/**
 * Client side of zones (protocol v1.2): outlines drawn on real pixels in the
 * alert state's colour, scaled from the zones' reference size; the long-format
 * zones CSV; and the CLI end to end against a scripted server that sends
 * ZONES, a reload mid-run and zone blocks.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadOpenCV, type Mat } from '../client/opencv.js';
import { ZONE_COLOURS, drawZones, scalePolygon, zoneAlertSummary, zoneLabel, type ZoneView } from '../client/display/zone-overlay.js';
import { ZONES_CSV_HEADER, csvField, zoneCsvLines } from '../client/record/zone-csv.js';
import { parseConfig } from '../client/config/config-file.js';
import { ZoneAlertState, type ZoneAlertStateCode, type ZoneReading, type ZonesMessage } from '../src/framing/index.js';
import { parse as parseYaml } from 'yaml';
import { crossesItself } from '../client/zones/zone-drafting.js';
import { SAMPLE_VIDEO } from '../src/app/paths.js';
import { CLI, runCli } from './helpers/cli.js';
import { missingXvfbTool, screenshot, startXvfb } from './helpers/xvfb.js';
import { pixelBox, type PixelBox } from './helpers/pixel-box.js';
import { tempDir } from './helpers/server.js';
import { startZoneServer } from './helpers/zone-server.js';

const GREY: [number, number, number] = [90, 90, 90];

function pixel(image: Mat, x: number, y: number): number[] {
  const v = image.atRaw(y, x) as unknown as number[];
  return [v[0], v[1], v[2]];
}

function zones(
  width: number | undefined,
  height: number | undefined,
  names: string[],
  polygons: Array<Array<[number, number]>>,
  capacity?: number,
): ZonesMessage {
  return {
    type: 'zones',
    camera: 'cam',
    ...(width === undefined ? {} : { width, height }),
    zones: names.map((name, id) => ({ id, name, polygon: polygons[id], ...(capacity === undefined ? {} : { capacity }) })),
  };
}

const reading = (id: number, state: ZoneAlertStateCode, smoothed = 3): ZoneReading => ({ id, state, people: smoothed, smoothed, occupancy: NaN });

test('drawZones: outlines take the alert state colour, scaled from the reference size; pixels off the outline keep theirs', async (t) => {
  const cv = await loadOpenCV();
  const image = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  // Reference 800x600, frame sent 400x300, picture (a window tile) 200x150: a quarter of the reference.
  const view: ZoneView = {
    zones: zones(
      800,
      600,
      ['alarm', 'ok'],
      [
        [
          [200, 200],
          [600, 200],
          [600, 500],
          [200, 500],
        ],
        [
          [40, 40],
          [160, 40],
          [160, 160],
          [40, 160],
        ],
      ],
    ),
    readings: [reading(0, ZoneAlertState.Alarm), reading(1, ZoneAlertState.Ok)],
  };
  drawZones(cv, image, view, { width: 400, height: 300 });
  // Alarm zone: corners (50,50) (150,50) (150,125) (50,125) in this picture; its bottom and right edges are away from labels.
  t.deepEqual(pixel(image, 100, 125), [...ZONE_COLOURS.alarm], 'alarm outline is red');
  t.deepEqual(pixel(image, 150, 90), [...ZONE_COLOURS.alarm]);
  t.deepEqual(pixel(image, 100, 126), [...ZONE_COLOURS.alarm], 'alarm outline is thicker');
  t.deepEqual(pixel(image, 100, 100), GREY, 'inside the zone the picture is untouched');
  t.deepEqual(pixel(image, 180, 140), GREY, 'outside every zone the picture is untouched');
  // Ok zone: corners (10,10) (40,10) (40,40) (10,40): green, one pixel wide.
  t.deepEqual(pixel(image, 40, 36), [...ZONE_COLOURS.ok], 'ok outline is green (below its label)');
  t.deepEqual(pixel(image, 25, 40), [...ZONE_COLOURS.ok]);
  t.deepEqual(pixel(image, 42, 36), GREY, 'ok outline is thin');
  t.deepEqual(pixel(image, 25, 36), GREY, 'inside, below the label');
});

test('drawZones: warning is amber, a frame without readings is grey, and coordinates without a reference size are the sent frame pixels', async (t) => {
  const cv = await loadOpenCV();
  const square: Array<[number, number]> = [
    [100, 100],
    [300, 100],
    [300, 250],
    [100, 250],
  ];
  const warned = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  // No width/height in ZONES: pixels of the 400x300 frame as sent -> halved on this 200x150 picture.
  drawZones(cv, warned, { zones: zones(undefined, undefined, ['w'], [square]), readings: [reading(0, ZoneAlertState.Warning)] }, { width: 400, height: 300 });
  t.deepEqual(pixel(warned, 100, 125), [...ZONE_COLOURS.warning]);
  t.deepEqual(pixel(warned, 150, 100), [...ZONE_COLOURS.warning]);
  t.deepEqual(pixel(warned, 100, 100), GREY);
  const unknown = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  drawZones(cv, unknown, { zones: zones(undefined, undefined, ['w'], [square]) }, { width: 400, height: 300 });
  t.deepEqual(pixel(unknown, 100, 125), [...ZONE_COLOURS.unknown]);
  // A reading for a zone id the ZONES message does not have is ignored, not drawn.
  const stray = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  drawZones(cv, stray, { zones: zones(undefined, undefined, [], []), readings: [reading(7, ZoneAlertState.Alarm)] }, { width: 400, height: 300 });
  t.is(cv.countNonZero(stray.absdiff(new cv.Mat(150, 200, cv.CV_8UC3, GREY)).cvtColor(cv.COLOR_BGR2GRAY)), 0);
});

test('drawZones: absurd corners and reference sizes from a server are drawn without throwing, within the picture', async (t) => {
  const cv = await loadOpenCV();
  const image = new cv.Mat(150, 200, cv.CV_8UC3, GREY);
  const huge: Array<[number, number]> = [
    [-1e300, -1e300],
    [1e300, 0],
    [0, 1e300],
  ];
  t.notThrows(() =>
    drawZones(cv, image, { zones: zones(1e-300, 1e-300, ['far'], [huge]), readings: [reading(0, ZoneAlertState.Alarm)] }, { width: 400, height: 300 }),
  );
  t.notThrows(() =>
    drawZones(
      cv,
      image,
      {
        zones: zones(
          undefined,
          undefined,
          ['x'.repeat(5000)],
          [
            [
              [0, 0],
              [1e9, 1],
              [5, 1e9],
            ],
          ],
        ),
      },
      { width: 400, height: 300 },
    ),
  );
  for (const [x, y] of scalePolygon({ width: 1e-300, height: 1e-300 }, { width: 400, height: 300 }, huge, 200, 150))
    t.true(Math.abs(x) <= 3200 && Math.abs(y) <= 3200);
});

test('zoneAlertSummary: zones not ok, alarms first; nothing when all are ok or there are no readings', (t) => {
  const three = zones(undefined, undefined, ['a', 'b', 'c'], [[], [], []]);
  t.is(zoneAlertSummary({ zones: three, readings: [reading(0, 1), reading(1, 2), reading(2, 2)] }), 'ALARM b, c; warning a');
  t.is(zoneAlertSummary({ zones: three, readings: [reading(0, 1)] }), 'warning a');
  t.is(zoneAlertSummary({ zones: three, readings: [reading(0, 0), reading(1, 0), reading(2, 0)] }), undefined);
  t.is(zoneAlertSummary({ zones: three }), undefined);
});

test('scalePolygon and zoneLabel', (t) => {
  t.deepEqual(
    scalePolygon(
      { width: 768, height: 576 },
      { width: 384, height: 288 },
      [
        [768, 576],
        [0, 288],
      ],
      192,
      144,
    ),
    [
      [192, 144],
      [0, 72],
    ],
  );
  t.deepEqual(scalePolygon({}, { width: 384, height: 288 }, [[384, 288]], 768, 576), [[768, 576]]);
  t.is(zoneLabel('door', reading(0, 0, 12.345), 20), 'door 12.3/20');
  t.is(zoneLabel('door', reading(0, 0, 2), undefined), 'door 2.0');
  t.is(zoneLabel('door', undefined, 20), 'door');
});

test('zoneCsvLines: one row per known zone (unknown ids and repeats left out), names quoted, blank capacity and occupancy when the zone has none', (t) => {
  const message = zones(
    768,
    576,
    ['left, near', 'say "hi"'],
    [
      [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
      [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
    ],
  );
  message.zones[0].capacity = 20;
  const lines = zoneCsvLines('gate', {
    frame: 7,
    captureTimeMs: Date.UTC(2026, 10, 25, 19, 40, 0, 123),
    zones: message,
    readings: [
      { id: 0, state: ZoneAlertState.Warning, people: 15.25, smoothed: 14.5, occupancy: 0.725 },
      { id: 1, state: ZoneAlertState.Ok, people: 1, smoothed: 0.5, occupancy: NaN },
      { id: 9, state: ZoneAlertState.Alarm, people: 1, smoothed: 1, occupancy: NaN },
      { id: 0, state: ZoneAlertState.Alarm, people: 99, smoothed: 99, occupancy: 5 },
    ],
  });
  t.deepEqual(lines, [
    'gate,7,2026-11-25T19:40:00.123Z,1795635600123,0,"left, near",15.250,14.500,20,0.7250,warning',
    'gate,7,2026-11-25T19:40:00.123Z,1795635600123,1,"say ""hi""",1.000,0.500,,,ok',
  ]);
  t.is(csvField('plain'), 'plain');
  t.is(ZONES_CSV_HEADER.split(',').length, lines[1].split(',').length);
});

test('config: a camera may opt out of zones; anything but true/false is refused', (t) => {
  const config = parseConfig(
    {
      cameras: [
        { name: 'a', url: 'rtsp://x/1', zones: false },
        { name: 'b', url: 'rtsp://x/2' },
      ],
    },
    'c.yaml',
  );
  t.is(config.cameras[0].zones, false);
  t.false('zones' in config.cameras[1]);
  t.throws(() => parseConfig({ cameras: [{ name: 'a', url: 'rtsp://x/1', zones: 'no' }] }, 'c.yaml'), {
    message: /cameras\[0\].zones: expected true or false/,
  });
});

async function writeGreyFolder(frames: number, width: number, height: number): Promise<string> {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-zone-frames-');
  for (let i = 0; i < frames; i++) cv.imwrite(path.join(dir, `f-${String(i).padStart(3, '0')}.png`), new cv.Mat(height, width, cv.CV_8UC3, GREY));
  return dir;
}

test('client end to end: asks for zones, records them (outline colours in the video, long-format CSV across a reload); a camera with zones: false does not ask', async (t) => {
  const cv = await loadOpenCV();
  const square: Array<[number, number]> = [
    [100, 100],
    [500, 100],
    [500, 400],
    [100, 400],
  ];
  const first = { camera: 'cam', width: 640, height: 480, zones: [{ id: 0, name: 'walkway', polygon: square, capacity: 10 }] };
  const reloaded = {
    camera: 'cam',
    width: 640,
    height: 480,
    zones: [
      {
        id: 0,
        name: 'exit',
        polygon: [
          [20, 20],
          [80, 20],
          [80, 80],
        ] as Array<[number, number]>,
      },
      { id: 1, name: 'walkway', polygon: square, capacity: 10 },
    ],
  };
  // Frames 0-2 ok, 3-5 alarm; from frame 4 a reload puts a new zone first.
  const server = await startZoneServer({
    zones: [
      { from: 0, message: first },
      { from: 4, message: reloaded },
    ],
    readings: (seq) => {
      const state = seq < 3 ? ZoneAlertState.Ok : ZoneAlertState.Alarm;
      const walkway = { id: seq < 4 ? 0 : 1, state, people: seq, smoothed: seq / 2, occupancy: seq / 20 };
      return seq < 4 ? [walkway] : [{ id: 0, state: ZoneAlertState.Ok, people: 0.5, smoothed: 0.25, occupancy: NaN }, walkway];
    },
  });
  t.teardown(() => server.close());
  const folder = await writeGreyFolder(6, 320, 240);
  const out = tempDir('crowdline-zone-out-');
  const config = path.join(out, 'cameras.yaml');
  fs.writeFileSync(config, `cameras:\n  - { name: cam, url: ${folder} }\n  - { name: plain, url: ${folder}, zones: false }\n`);
  const run = await runCli(['client', '--server', `127.0.0.1:${server.port}`, '--config', config, '--no-display', '--out', out], { timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    new Set(server.hellos.map((h) => `${h.camera}:${h.wantsZones}`)),
    new Set(['cam:true', 'plain:false']),
    'one camera asked for zones, the other did not',
  );
  t.false(fs.existsSync(path.join(out, 'plain.zones.csv')), 'no zones, no zones CSV');
  t.true(run.stdout.includes(`wrote ${path.join(out, 'cam.zones.csv')}`), run.stdout);

  const [header, ...rows] = fs.readFileSync(path.join(out, 'cam.zones.csv'), 'utf8').trim().split('\n');
  t.is(header, ZONES_CSV_HEADER);
  const cells = rows.map((r) => r.split(','));
  t.deepEqual(
    cells.map((c) => `${c[1]}:${c[4]}:${c[5]}:${c[10]}`),
    ['0:0:walkway:ok', '1:0:walkway:ok', '2:0:walkway:ok', '3:0:walkway:alarm', '4:0:exit:ok', '4:1:walkway:alarm', '5:0:exit:ok', '5:1:walkway:alarm'],
  );
  t.deepEqual(cells[3].slice(6, 10), ['3.000', '1.500', '10', '0.1500']);

  // The video: frame 1 has a green outline, frame 4 a red one, on the zone's edge scaled 640x480 -> 320x240.
  const capture = new cv.VideoCapture(path.join(out, 'cam.avi'));
  const frames: Mat[] = [];
  for (let f = capture.read(); !f.empty; f = capture.read()) frames.push(f);
  capture.release();
  t.is(frames.length, 6);
  const [b1, g1, r1] = pixel(frames[1], 150, 200);
  t.true(g1 > 150 && r1 < 80 && b1 < 80, `frame 1 outline green: ${[b1, g1, r1].join(',')}`);
  const [b4, g4, r4] = pixel(frames[4], 150, 200);
  t.true(r4 > 180 && g4 < 80 && b4 < 80, `frame 4 outline red: ${[b4, g4, r4].join(',')}`);
  const [b0, g0, r0] = pixel(frames[4], 150, 150);
  t.true(Math.abs(b0 - 90) + Math.abs(g0 - 90) + Math.abs(r0 - 90) < 20, `inside the zone stays grey: ${[b0, g0, r0].join(',')}`);
});

test('demo: the sample video gets the sample site and is played at its own rate; other sources, --site none and --no-zones do not', async (t) => {
  const { demoFps, demoSite } = await import('../cli/demo-command.js');
  const { SAMPLE_SITE, SAMPLE_VIDEO_FPS } = await import('../src/app/paths.js');
  const sample = { source: [SAMPLE_VIDEO], zones: true, fps: 0 };
  t.is(demoSite(sample), SAMPLE_SITE);
  t.true(fs.existsSync(SAMPLE_SITE));
  t.is(demoSite({ ...sample, site: 'none' }), undefined);
  t.is(demoSite({ ...sample, zones: false }), undefined);
  t.is(demoSite({ ...sample, source: ['0'] }), undefined, 'the sample zones fit only the sample picture');
  t.is(demoSite({ ...sample, source: ['0'], site: SAMPLE_SITE }), SAMPLE_SITE);
  t.throws(() => demoSite({ ...sample, site: '/no/such/site.yaml' }), { message: /--site \/no\/such\/site.yaml: no such file/ });
  t.is(demoFps(sample), SAMPLE_VIDEO_FPS);
  t.is(demoFps({ ...sample, fps: 25 }), 25);
  t.is(demoFps({ ...sample, source: ['clip.mp4'] }), 0);
});

test('the sample site: the camera is the demo camera "vtest", two zones on the walkway in its 768x576 frame, each with alert rules', async (t) => {
  const { SAMPLE_SITE } = await import('../src/app/paths.js');
  const site = parseYaml(fs.readFileSync(SAMPLE_SITE, 'utf8')) as {
    cameras: Record<string, { width: number; height: number; zones: Array<{ name: string; polygon: number[][]; alerts: unknown[] }> }>;
  };
  const camera = site.cameras.vtest;
  t.deepEqual([camera.width, camera.height], [768, 576]);
  t.deepEqual(
    camera.zones.map((z) => z.name),
    ['crossing', 'west-path'],
  );
  for (const zone of camera.zones) {
    t.true(zone.alerts.length > 0);
    t.false(crossesItself(zone.polygon as Array<[number, number]>), zone.name);
    for (const [x, y] of zone.polygon) t.true(x >= 0 && x <= 768 && y >= 0 && y <= 576, `${zone.name} corner ${x},${y} on the frame`);
  }
});

test("the sample site has the sample video's hand-counted lines (test/fixtures/vtest-lines.json), so the demo shows line arrows and counts", async (t) => {
  const { SAMPLE_SITE } = await import('../src/app/paths.js');
  const { parseSiteFile } = await import('../src/zones/site-file.js');
  const site = parseSiteFile(fs.readFileSync(SAMPLE_SITE, 'utf8'), SAMPLE_SITE);
  const fixture = JSON.parse(fs.readFileSync(path.join(path.dirname(SAMPLE_SITE), '..', '..', 'test', 'fixtures', 'vtest-lines.json'), 'utf8')) as {
    lines: Array<{ name: string; points: Array<[number, number]>; in: 'left' | 'right' }>;
  };
  const camera = site.cameras.get('vtest');
  t.deepEqual(
    camera?.lines.map((l) => ({ name: l.name, points: l.points, in: l.in })),
    fixture.lines.map((l) => ({ name: l.name, points: l.points, in: l.in })),
  );
  // Zones and lines together: the zones stay as they were.
  t.deepEqual(
    camera?.zones.map((z) => z.name),
    ['crossing', 'west-path'],
  );
});

const windowTest = missingXvfbTool() ? test.skip : test.serial;

// Serial: its screenshots block this process's event loop, where the scripted servers of the other tests run.
windowTest('window under Xvfb: the tile shows the zone outline in its alarm colour, scaled to the tile', async (t) => {
  const cv = await loadOpenCV();
  const square: Array<[number, number]> = [
    [100, 100],
    [500, 100],
    [500, 400],
    [100, 400],
  ];
  const server = await startZoneServer({
    zones: [{ from: 0, message: { camera: 'cam', width: 640, height: 480, zones: [{ id: 0, name: 'hall', polygon: square, capacity: 10 }] } }],
    readings: () => [{ id: 0, state: ZoneAlertState.Alarm, people: 8, smoothed: 8, occupancy: 0.8 }],
  });
  t.teardown(() => server.close());
  const xvfb = await startXvfb();
  t.teardown(() => xvfb.child.kill());
  const client = spawn(
    process.execPath,
    [CLI, 'client', '--server', `127.0.0.1:${server.port}`, '--source', `cam=${await writeGreyFolder(200, 320, 240)}`, '--fps', '5'],
    {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  client.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.teardown(() => client.kill('SIGKILL'));
  // One camera: a 640x480 tile, the 320x240 frame scaled by 2, so the zone (in 640x480 reference pixels) lands at 100..500 x 100..400 of the tile.
  const shot = path.join(tempDir('crowdline-zone-shot-'), 'screen.png');
  let box = { pixels: 0, left: 0, right: 0, top: 0, bottom: 0 };
  for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    if (!(await screenshot(xvfb.display, shot))) continue;
    box = redPixels(cv.imread(shot, cv.IMREAD_COLOR));
    if (box.pixels > 1000) break;
  }
  t.log(`screenshot ${shot}: ${box.pixels} red pixels, x ${box.left}..${box.right}, y ${box.top}..${box.bottom}`);
  t.true(box.pixels > 1000, `no red outline on the screen (stderr: ${stderr})`);
  // The window sits somewhere on the screen: the outline's size is what the scaling decides (400x300, plus the line's width).
  t.true(Math.abs(box.right - box.left - 400) <= 6, `outline width ${box.right - box.left}`);
  t.true(Math.abs(box.bottom - box.top - 300) <= 6, `outline height ${box.bottom - box.top}`);
  client.kill('SIGINT');
});

/** Pure red pixels (the alarm colour) and their bounding box. */
function redPixels(image: Mat): PixelBox {
  return pixelBox(image, (b, g, r) => r > 220 && g < 30 && b < 30);
}

test('demo: zone events without a site file are a usage error, before any server starts', async (t) => {
  const run = await runCli(['demo', '--display', 'false', '--site', 'none', '--mqtt-url', 'mqtt://127.0.0.1:1']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--mqtt-url and --events-file publish zone events: give --site too/);
  t.notRegex(run.stderr, /serving/);
});
