/**
 * A sender's weight, priority class and rate caps per camera in the site
 * file, and which of the site file, the credentials file and the server's
 * defaults wins (src/accept/sender-settings.ts).
 */
import test from 'ava';
import { DEFAULT_SERVER_OPTIONS, UNAUTH_PIXEL_RATE } from '../src/accept/options.js';
import { RateCaps } from '../src/accept/rate-caps.js';
import { resolveSender, SenderCaps } from '../src/accept/sender-settings.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { runCli } from './helpers/cli.js';

const site = (camera: string): string => `cameras:\n  gate:\n${camera}`;

test('site file: a camera entry may set weight, priority, max_fps and max_pixel_rate', (t) => {
  const config = parseSiteFile(site('    weight: 3\n    priority: 2\n    max_fps: 12.5\n    max_pixel_rate: 20736000\n'), 'site.yaml');
  t.deepEqual(config.cameras.get('gate')?.sender, { weight: 3, priority: 2, maxFps: 12.5, maxPixelRate: 20736000 });
  // Zones and the rest are untouched; an entry without them has no sender settings.
  t.is(parseSiteFile(site('    input_policy: tiled\n')).cameras.get('gate')?.sender, undefined);
});

test('site file: weights, classes and caps out of bounds are refused, naming the file, camera and field', (t) => {
  const bad: Array<[string, RegExp]> = [
    ['    weight: 0\n', /^site\.yaml: camera "gate", field weight: Number must be greater than or equal to 0\.01/],
    ['    weight: 101\n', /camera "gate", field weight: Number must be less than or equal to 100/],
    ['    priority: 1.5\n', /camera "gate", field priority: Expected integer, received float/],
    ['    priority: 10\n', /camera "gate", field priority: Number must be less than or equal to 9/],
    ['    max_fps: -1\n', /camera "gate", field max_fps: Number must be greater than or equal to 0/],
    ['    max_fps: 1001\n', /camera "gate", field max_fps: Number must be less than or equal to 1000/],
    ['    max_pixel_rate: 1.5\n', /camera "gate", field max_pixel_rate: Expected integer, received float/],
    ['    weight: "3"\n', /camera "gate", field weight: Expected number, received string/],
    ['    wieght: 3\n', /Unrecognized key\(s\) in object: 'wieght'/],
  ];
  for (const [entry, message] of bad) {
    const err = t.throws(() => parseSiteFile(site(entry), 'site.yaml'), { message });
    t.like((err as unknown as { at: unknown }).at, { camera: 'gate' }, entry);
  }
});

test('precedence, field by field: the site file camera entry, then the credentials entry, then the server defaults', (t) => {
  const o = { ...DEFAULT_SERVER_OPTIONS, maxFps: 30, maxPixelRate: 100 };
  const identity = { name: 'north', label: 'north/gate', settings: { weight: 2, priority: 1, maxFps: 15 }, namedCamera: true };
  // Credentials only: the identity holds the share, with its entry's weight; the camera's caps are its own bucket.
  t.like(resolveSender({ host: '10.0.0.1', identity }, o), {
    group: 'identity:north',
    share: { weight: 1, priority: 1 },
    groupWeight: 2,
    buckets: [{ key: 'identity:north/gate', cap: { fps: 15, pixelsPerSecond: 100 }, flags: { fps: 'its credentials entry', pixels: '--max-pixel-rate' } }],
  });
  // The site file's entry wins where it sets a field; the rest still come from the credentials and the defaults.
  // A weight for a camera the credentials entry names: a share of its own.
  const both = resolveSender({ host: '10.0.0.1', identity, camera: 'gate', site: { weight: 0.5, maxFps: 5 } }, o);
  t.is(both.group, 'identity:north/gate');
  t.deepEqual(both.share, { weight: 0.5, priority: 1 });
  t.is(both.groupWeight, 0.5);
  t.like(both.buckets[0], { cap: { fps: 5, pixelsPerSecond: 100 }, flags: { fps: 'its site file entry', pixels: '--max-pixel-rate' } });
  // Nothing set anywhere: weight 1, class 0, the server's caps; all caps 0: no bucket at all.
  const bare = { name: 'x', label: 'x/y', settings: {}, namedCamera: false };
  t.like(resolveSender({ host: '10.0.0.1', identity: bare }, o), { group: 'identity:x', share: { weight: 1, priority: 0 }, groupWeight: 1 });
  t.deepEqual(resolveSender({ host: '10.0.0.1', identity: bare }, { ...o, maxFps: 0, maxPixelRate: 0 }).buckets, []);
});

test('an identity holds one share for all its cameras: any camera it names joins its group with its weight; a site weight splits that share, unless the credentials entry names the camera (then it is a share of its own)', (t) => {
  const o = DEFAULT_SERVER_OPTIONS;
  const open = (camera: string, namedCamera: boolean, site?: { weight?: number; priority?: number }) =>
    resolveSender({ host: '10.0.0.1', identity: { name: 'fleet', label: `fleet/${camera}`, settings: { weight: 2 }, namedCamera }, camera, site }, o);
  // Eight names, one group, one weight: naming cameras buys nothing.
  const names = Array.from({ length: 8 }, (_, i) => open(`cam-${i}`, false));
  t.deepEqual(new Set(names.map((r) => r.group)), new Set(['identity:fleet']));
  t.true(names.every((r) => r.groupWeight === 2 && r.share.weight === 1));
  // Still one bucket of caps per camera.
  t.deepEqual(
    names.map((r) => r.buckets[0]?.key),
    names.map((_, i) => `identity:fleet/cam-${i}`),
  );
  // Allowed any name: a site weight is the camera's part of the identity's share, not a share of its own.
  t.like(open('entrance', false, { weight: 3 }), { group: 'identity:fleet', share: { weight: 3 }, groupWeight: 2 });
  // Named in its cameras: list, and weighed by the site file: its own share.
  t.like(open('entrance', true, { weight: 3 }), { group: 'identity:fleet/entrance', share: { weight: 3 }, groupWeight: 3 });
  // Named, but the site file sets no weight: the identity's share.
  t.like(open('entrance', true, { priority: 2 }), { group: 'identity:fleet', share: { weight: 1, priority: 2 }, groupWeight: 2 });
});

test('unauthenticated: its address is the sender (IPv6 by /64); the site entry gives weight and class, and caps on top of the address caps', (t) => {
  const o = DEFAULT_SERVER_OPTIONS;
  t.is(o.unauthMaxPixelRate, UNAUTH_PIXEL_RATE);
  t.is(UNAUTH_PIXEL_RATE, 1920 * 1080 * 30);
  const plain = resolveSender({ host: '2001:db8:5:6::7' }, o);
  t.like(plain, { group: 'address:2001:db8:5:6::/64', share: { weight: 1, priority: 0 } });
  t.deepEqual(
    plain.buckets.map((b) => [b.key, b.cap]),
    [['address:2001:db8:5:6::/64', { fps: 240, pixelsPerSecond: UNAUTH_PIXEL_RATE }]],
  );
  const named = resolveSender({ host: '10.0.0.9', camera: 'gate', site: { weight: 3, priority: 1, maxFps: 2 } }, o);
  t.like(named, { group: 'address:10.0.0.9', share: { weight: 3, priority: 1 } });
  t.deepEqual(
    named.buckets.map((b) => b.key),
    ['address:10.0.0.9', 'address:10.0.0.9/camera:gate'],
  );
});

test('a frame needs room in every bucket of its sender, is charged to all, and the reply names the cap it was over', (t) => {
  let now = 0;
  const caps = new RateCaps({ burstMs: 1000, now: () => now });
  const o = { ...DEFAULT_SERVER_OPTIONS, unauthMaxFps: 10 };
  const gate = new SenderCaps(caps, resolveSender({ host: '10.0.0.9', camera: 'gate', site: { maxFps: 2 } }, o).buckets);
  const other = new SenderCaps(caps, resolveSender({ host: '10.0.0.9', camera: 'hall' }, o).buckets);
  // The camera's own cap (2 a second, burst 1 s) stops it first; the address's (10) still has room for the other camera.
  t.is(gate.take(1), undefined);
  t.is(gate.take(1), undefined);
  t.is(gate.take(1), 'frame-rate-cap');
  t.is(gate.reason('frame-rate-cap'), 'this camera (from this address) is over its frame-rate cap (2 frames/s, its site file entry)');
  for (let i = 0; i < 8; i++) t.is(other.take(1), undefined, `frame ${i}`);
  // Both charged the address: 10 taken, so the other camera is over the address's cap now.
  t.is(other.take(1), 'frame-rate-cap');
  t.is(
    other.reason('frame-rate-cap'),
    'this address (unauthenticated peers share one cap per address) is over its frame-rate cap (10 frames/s, --unauth-max-fps)',
  );
  now += 1000;
  t.is(gate.take(1), undefined);
  gate.release();
  other.release();
});

test('crowdline serve --lower-class-share: 0 (strict) to 0.5, default 0.1; anything else is refused naming the flag', async (t) => {
  const ok = await runCli(['serve', '--dry-run', '--lower-class-share', '0']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^lower-class-share: 0 {2}# command line$/m);
  t.regex((await runCli(['serve', '--dry-run'])).stdout, /^lower-class-share: 0.1 {2}# default$/m);
  for (const value of ['0.7', '-0.1']) {
    const bad = await runCli(['serve', '--dry-run', '--lower-class-share', value]);
    t.not(bad.code, 0);
    t.regex(bad.stderr, /--lower-class-share must be from 0 \(strict priority\) to 0.5/);
  }
});

test('crowdline serve --long-frame-ms: default 250, 0 allowed (every frame held to its share); negative or not a number is refused naming the flag', async (t) => {
  t.regex((await runCli(['serve', '--dry-run'])).stdout, /^long-frame-ms: 250 {2}# default$/m);
  const ok = await runCli(['serve', '--dry-run', '--long-frame-ms', '0']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^long-frame-ms: 0 {2}# command line$/m);
  for (const value of ['-1', 'soon']) {
    const bad = await runCli(['serve', '--dry-run', '--long-frame-ms', value]);
    t.not(bad.code, 0);
    t.regex(bad.stderr, /--long-frame-ms must be a number of milliseconds >= 0/);
  }
});
