/** Counting lines in the site file: parsed beside zones, bounded, and every mistake named (camera, line, field). */
import test from 'ava';
import { parseSiteFile, SITE_LIMITS, SiteFileError } from '../src/zones/site-file.js';

const site = (lines: string): string => `cameras:\n  gate:\n    width: 768\n    height: 576\n    lines:\n${lines}`;

test('a camera may have lines and no zones; points, side and band come through', (t) => {
  const parsed = parseSiteFile(
    site(
      '      - { name: east, points: [[576, 576], [576, 100]], in: right, band_px: 40 }\n      - { name: bend, points: [[0, 300], [200, 300], [300, 500]], in: left }\n',
    ),
  );
  const cam = parsed.cameras.get('gate');
  t.deepEqual(cam?.zones, []);
  t.deepEqual(cam?.lines, [
    {
      id: 0,
      name: 'east',
      points: [
        [576, 576],
        [576, 100],
      ],
      in: 'right',
      bandPx: 40,
    },
    {
      id: 1,
      name: 'bend',
      points: [
        [0, 300],
        [200, 300],
        [300, 500],
      ],
      in: 'left',
    },
  ]);
});

test('zones without lines still parse (older site files are unchanged)', (t) => {
  const parsed = parseSiteFile('cameras:\n  walkway:\n    zones:\n      - { name: left, polygon: [[0, 0], [10, 0], [10, 10]] }\n');
  t.deepEqual(parsed.cameras.get('walkway')?.lines, []);
});

const refused: Array<[string, string, RegExp]> = [
  ['one point', '      - { name: a, points: [[1, 2]], in: right }\n', /camera "gate", line "a", field points: Array must contain at least 2/],
  ['no side', '      - { name: a, points: [[1, 2], [3, 4]] }\n', /line "a", field in: Required/],
  ['a side that is not left or right', '      - { name: a, points: [[1, 2], [3, 4]], in: up }\n', /line "a", field in: Invalid enum value/],
  ['a zero-length segment', '      - { name: a, points: [[1, 2], [1, 2], [5, 5]], in: left }\n', /line "a": points 0 and 1 are the same point/],
  [
    'two lines with one name',
    '      - { name: a, points: [[1, 2], [3, 4]], in: left }\n      - { name: a, points: [[5, 2], [3, 4]], in: left }\n',
    /line "a": a second line with this name/,
  ],
  ['a band of 0', '      - { name: a, points: [[1, 2], [3, 4]], in: left, band_px: 0 }\n', /line "a", field band_px: Number must be greater than 0/],
  ['a name with a slash (an MQTT topic level)', '      - { name: "a/b", points: [[1, 2], [3, 4]], in: left }\n', /field name: must be 1-64 letters/],
  ['an unknown field', '      - { name: a, points: [[1, 2], [3, 4]], in: left, direction: in }\n', /line "a", top level|Unrecognized key/],
  ['a coordinate beyond the limit', `      - { name: a, points: [[1, 2], [${SITE_LIMITS.maxCoordinate * 2}, 4]], in: left }\n`, /line "a", field points/],
];
for (const [what, yaml, message] of refused) {
  test(`refused: ${what}`, (t) => {
    const err = t.throws(() => parseSiteFile(site(yaml), 'site.yaml'), { instanceOf: SiteFileError });
    t.regex(err?.message ?? '', /^site\.yaml: /);
    t.regex(err?.message ?? '', message);
  });
}

test(`more than ${SITE_LIMITS.linesPerCamera} lines on a camera, or more than ${SITE_LIMITS.linePoints} points on a line, is refused`, (t) => {
  const many = Array.from({ length: SITE_LIMITS.linesPerCamera + 1 }, (_, i) => `      - { name: l${i}, points: [[0, ${i}], [9, ${i}]], in: left }\n`).join('');
  t.throws(() => parseSiteFile(site(many)), { instanceOf: SiteFileError, message: /Array must contain at most 64/ });
  const points = Array.from({ length: SITE_LIMITS.linePoints + 1 }, (_, i) => `[${i}, ${i % 2}]`).join(', ');
  t.throws(() => parseSiteFile(site(`      - { name: long, points: [${points}], in: left }\n`)), {
    instanceOf: SiteFileError,
    message: /line "long", field points: Array must contain at most 256/,
  });
});
