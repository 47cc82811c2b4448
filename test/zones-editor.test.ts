/** Editing one camera's zones in the site file's text: comments and untouched entries survive, the result is validated, the write is atomic. */
import { chmodSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { editCameraZones, siteVersion, writeSiteFileAtomically } from '../src/zones/site-editor.js';
import { parseSiteFile, SiteFileError } from '../src/zones/site-file.js';
import { tempDir } from './helpers/server.js';

const SITE = `# the station (kept by hand)
reset_after_s: 30
cameras:
  # platform 1, north end
  platform:
    width: 1280
    height: 720
    zones:
      # the stairs get crowded at 8:00
      - name: stairs
        polygon: [[0, 0], [100, 0], [100, 100]] # measured on site
        capacity: 30
        alerts:
          - { level: alarm, above: 25, for_s: 30 }
      - name: edge
        polygon: [[200, 0], [300, 0], [300, 100]]
  concourse: # not touched by the edits below
    zones:
      - { name: gates, polygon: [[0, 0], [10, 0], [10, 10]] }
`;

test('moving one zone and adding another keeps every comment, the other camera verbatim and the untouched zone as written', (t) => {
  const { text, site } = editCameraZones(SITE, {
    camera: 'platform',
    zones: [
      {
        name: 'stairs',
        polygon: [
          [0, 0],
          [100, 0],
          [100, 100],
        ],
        capacity: 30,
        alerts: [{ level: 'alarm', above: 25, for_s: 30 }],
      },
      {
        name: 'edge',
        polygon: [
          [210, 5],
          [310, 5],
          [310, 105],
        ],
      },
      {
        name: 'lift',
        polygon: [
          [400, 0],
          [450, 0],
          [450, 50],
          [400, 50],
        ],
        capacity: 4,
      },
    ],
  });
  for (const comment of [
    '# the station (kept by hand)',
    '# platform 1, north end',
    '# the stairs get crowded at 8:00',
    '# measured on site',
    '# not touched by the edits below',
  ]) {
    t.true(text.includes(comment), `keeps "${comment}"`);
  }
  t.true(text.includes('- {name: gates, polygon: [[0, 0], [10, 0], [10, 10]]}') || text.includes('- { name: gates, polygon: [[0, 0], [10, 0], [10, 10]] }'));
  t.true(text.includes('polygon: [[210, 5], [310, 5], [310, 105]]'), 'a moved polygon is written on one line');
  t.deepEqual(
    site.cameras.get('platform')?.zones.map((z) => [z.name, z.id]),
    [
      ['stairs', 0],
      ['edge', 1],
      ['lift', 2],
    ],
  );
  t.is(site.cameras.get('platform')?.zones[2].capacity, 4);
  t.is(site.resetAfterMs, 30_000);
  t.deepEqual(parse(text).cameras.concourse, parse(SITE).cameras.concourse);
  t.true(text.indexOf('reset_after_s') < text.indexOf('cameras:'), 'key order kept');
});

test('removing and reordering zones; a new camera gets its own entry', (t) => {
  const { text } = editCameraZones(SITE, {
    camera: 'platform',
    zones: [
      {
        name: 'edge',
        polygon: [
          [200, 0],
          [300, 0],
          [300, 100],
        ],
      },
    ],
  });
  t.deepEqual(
    parse(text).cameras.platform.zones.map((z: { name: string }) => z.name),
    ['edge'],
  );
  t.true(text.includes('# platform 1, north end'));
  const added = editCameraZones(SITE, {
    camera: 'lobby',
    width: 640,
    height: 480,
    zones: [
      {
        name: 'door',
        polygon: [
          [0, 0],
          [5, 0],
          [5, 5],
        ],
      },
    ],
  });
  const lobby = added.site.cameras.get('lobby');
  t.deepEqual(lobby?.reference, { width: 640, height: 480 });
  t.deepEqual(parse(added.text).cameras.platform, parse(SITE).cameras.platform);
});

test("an edit that breaks the site file is refused with the site parser's reason", (t) => {
  const crossing = {
    camera: 'platform',
    zones: [
      {
        name: 'edge',
        polygon: [
          [0, 0],
          [10, 10],
          [10, 0],
          [0, 10],
        ] as Array<[number, number]>,
      },
    ],
  };
  const err = t.throws(() => editCameraZones(SITE, crossing, 'site.yaml'), { instanceOf: SiteFileError });
  t.regex(err.message, /site\.yaml: camera "platform", zone "edge": polygon/);
  const twice = {
    camera: 'platform',
    zones: [
      {
        name: 'a',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
        ] as Array<[number, number]>,
      },
      {
        name: 'a',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
        ] as Array<[number, number]>,
      },
    ],
  };
  t.throws(() => editCameraZones(SITE, twice), { message: /a second zone with this name/ });
  const occupancy = {
    camera: 'platform',
    zones: [
      {
        name: 'a',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
        ] as Array<[number, number]>,
        alerts: [{ level: 'alarm', metric: 'occupancy', above: 0.9 }],
      },
    ],
  };
  t.throws(() => editCameraZones(SITE, occupancy), { message: /uses occupancy but the zone has no capacity/ });
});

test('the write is atomic and keeps the previous file as .bak', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'site.yaml');
  writeFileSync(file, SITE);
  const { text } = editCameraZones(SITE, { camera: 'platform', zones: [] });
  await writeSiteFileAtomically(file, text);
  t.is(readFileSync(file, 'utf8'), text);
  t.is(readFileSync(`${file}.bak`, 'utf8'), SITE);
  t.deepEqual(readdirSync(dir).sort(), ['site.yaml', 'site.yaml.bak'], 'no temporary file left behind');
  t.is(parseSiteFile(readFileSync(file, 'utf8')).cameras.get('platform')?.zones.length, 0);
  t.not(siteVersion(text), siteVersion(SITE));
});

test('a changed value keeps the comment written on its line', (t) => {
  const { text } = editCameraZones(SITE, {
    camera: 'platform',
    zones: [
      {
        name: 'stairs',
        polygon: [
          [0, 0],
          [120, 0],
          [120, 100],
        ],
        capacity: 35,
        alerts: [{ level: 'alarm', above: 25, for_s: 30 }],
      },
    ],
  });
  t.true(text.includes('polygon: [[0, 0], [120, 0], [120, 100]] # measured on site'), text);
  const withComment = editCameraZones(SITE.replace('capacity: 30', 'capacity: 30 # fire code'), {
    camera: 'platform',
    zones: [
      {
        name: 'stairs',
        polygon: [
          [0, 0],
          [100, 0],
          [100, 100],
        ],
        capacity: 35,
        alerts: [{ level: 'alarm', above: 25, for_s: 30 }],
      },
    ],
  });
  t.true(withComment.text.includes('capacity: 35 # fire code'), withComment.text);
});

test("the write keeps the file's permissions and, through a symbolic link, replaces the link's target", async (t) => {
  const dir = tempDir();
  const real = path.join(dir, 'site.yaml');
  writeFileSync(real, SITE);
  chmodSync(real, 0o644);
  const link = path.join(dir, 'current.yaml');
  symlinkSync('site.yaml', link);
  const { text } = editCameraZones(SITE, { camera: 'platform', zones: [] });
  await writeSiteFileAtomically(link, text);
  t.true(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  t.is(readFileSync(real, 'utf8'), text);
  t.is(readFileSync(`${real}.bak`, 'utf8'), SITE);
  t.is(statSync(real).mode & 0o777, 0o644);
});
