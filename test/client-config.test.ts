/** Camera names, the config file, command-line checks, backoff and the JPEG splitter: no OpenCV, no network. */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Backoff } from '../client/capture/backoff.js';
import { defaultCameraName, nameCameras, parseSourceArg, redactUrl } from '../client/config/cameras.js';
import { resolveClientSetup, type SetupArgv } from '../cli/client-setup.js';
import { loadConfig, parseConfig } from '../client/config/config-file.js';
import { JpegSplitter } from '../client/capture/jpeg-splitter.js';
import { UsageError } from '../src/common/usage-error.js';
import { PACKAGE_ROOT } from '../src/app/paths.js';
import { tempDir } from './helpers/server.js';

const argv = (over: Partial<SetupArgv>): SetupArgv => ({ source: [], record: 'avi', ...over });

test('NAME=SOURCE names a camera; bare sources are named from the source, not their position', (t) => {
  t.deepEqual(parseSourceArg('entrance=rtsp://10.0.0.5/s?a=b'), { name: 'entrance', source: 'rtsp://10.0.0.5/s?a=b' });
  t.deepEqual(parseSourceArg('rtsp://10.0.0.5/s?a=b'), { source: 'rtsp://10.0.0.5/s?a=b' });
  t.is(defaultCameraName('0'), 'dev0');
  t.is(defaultCameraName('rtsp://user:pw@10.0.0.5:554/s'), '10.0.0.5');
  t.is(defaultCameraName('/data/My Clip.mp4'), 'My_Clip');
  const names = (sources: string[]) => nameCameras(sources.map((s) => ({ ...parseSourceArg(s), where: s }))).map((c) => c.name);
  t.deepEqual(names(['/a/vtest.avi', 'door=/b/x.avi', '0']), ['vtest', 'door', 'dev0']);
  t.deepEqual(names(['0', 'door=/b/x.avi', '/a/vtest.avi']), ['dev0', 'door', 'vtest']);
  t.deepEqual(names(['/a/clip.mp4', '/b/clip.mp4']), ['clip', 'clip-2']);
  t.is(redactUrl('rtsp://admin:secret@10.0.0.5/s'), 'rtsp://admin:***@10.0.0.5/s');
});

test('usage errors name the option: duplicate names, bad URLs, bad ports, missing config', (t) => {
  const fails = (over: Partial<SetupArgv>, message: RegExp) => {
    const err = t.throws(() => resolveClientSetup(argv(over)), { instanceOf: UsageError });
    t.regex(err.message, message);
  };
  fails({ source: ['a=rtsp://x/1', 'a=rtsp://y/2'] }, /--source a=rtsp:\/\/y\/2: camera name "a" is already used by --source a=rtsp:\/\/x\/1/);
  fails({ source: ['rtsp://[oops/stream'] }, /--source rtsp:\/\/\[oops\/stream: .* is not a valid URL/);
  fails({ source: ['http://cam:99999/video'] }, /not a valid URL|bad port/);
  fails({ source: ['0'], server: 'host:99999' }, /--server host:99999: port must be 1-65535/);
  fails({ source: ['0'], server: 'a:b:c' }, /--server a:b:c/);
  fails({ source: ['bad name!=rtsp://x/1'] }, /--source bad name!=rtsp:\/\/x\/1: camera name "bad name!" must be/);
  fails({ config: '/no/such/cameras.yaml' }, /--config \/no\/such\/cameras.yaml: cannot read it \(ENOENT\)/);
  fails({ source: [] }, /--source: give at least one camera/);
});

test('config file: cameras with settings, CLI cameras beside them, every key checked', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'cameras.yaml');
  fs.writeFileSync(
    file,
    [
      'server: gpu-box:7979',
      'stall_timeout: 4',
      'record: { format: mp4, segment_seconds: 300, keep_segments: 12 }',
      'cameras:',
      '  - name: entrance',
      '    url: rtsp://user:pw@10.0.0.21:554/stream1',
      '    fps: 5',
      '    max_width: 960',
      '    options: { rtsp_transport: tcp }',
      '  - name: hall',
      '    url: http://10.0.0.22/video.mjpg',
    ].join('\n'),
  );
  const setup = resolveClientSetup(argv({ config: file, source: ['door=0'] }));
  t.is(setup.host, 'gpu-box');
  t.is(setup.port, 7979);
  t.is(setup.stallTimeoutMs, 4000);
  t.deepEqual(setup.record, { format: 'avi', segmentSeconds: 300, keepSegments: 12 }, 'the command line (--record avi) wins');
  t.deepEqual(
    setup.cameras.map((c) => c.name),
    ['entrance', 'hall', 'door'],
  );
  t.deepEqual(setup.cameras[0], {
    name: 'entrance',
    source: 'rtsp://user:pw@10.0.0.21:554/stream1',
    fps: 5,
    maxWidth: 960,
    inputOptions: { rtsp_transport: 'tcp' },
  });
  t.is(resolveClientSetup(argv({ config: file, server: 'other:1' })).host, 'other');
  t.throws(() => resolveClientSetup(argv({ config: file, source: ['hall=1'] })), { message: /camera name "hall" is already used/ });

  const bad = (doc: unknown, message: RegExp) => t.throws(() => parseConfig(doc, 'c.yaml'), { instanceOf: UsageError, message });
  bad({ cameras: [{ name: 'a', url: 'rtsp://x/1', max_widht: 3 }] }, /--config c.yaml: cameras\[0\].max_widht: unknown key/);
  bad({ cameras: [{ name: 'a', url: 'rtsp://x/1', fps: -1 }] }, /cameras\[0\].fps: expected a positive number/);
  bad({ cameras: [{ name: 'a' }] }, /cameras\[0\].url: expected a non-empty string/);
  bad({ cameras: [] }, /cameras: expected a list/);
  bad({ serverr: 'x', cameras: [{ name: 'a', url: '0' }] }, /serverr: unknown key/);
  // Security keys name files; anything else in them is a typo, refused.
  bad({ tls: { ca: 'x.pem', ciphers: 'x' }, cameras: [{ name: 'a', url: '0' }] }, /tls\.ciphers: unknown key/);
  bad({ auth: { token: 'cl1.secret' }, cameras: [{ name: 'a', url: '0' }] }, /auth\.token: unknown key \(expected token_file\)/);
});

test('backoff: exponential, capped, jittered, reset after success', (t) => {
  const high = new Backoff({ firstMs: 500, maxMs: 4000, random: () => 0.999999 });
  t.deepEqual([high.next(), high.next(), high.next(), high.next(), high.next()], [500, 1000, 2000, 4000, 4000]);
  high.reset();
  t.is(high.next(), 500);
  const low = new Backoff({ firstMs: 500, maxMs: 4000, random: () => 0 });
  t.deepEqual([low.next(), low.next(), low.next()], [250, 500, 1000]);
});

test('JPEG splitter: frames split across chunks and glued together come out whole', (t) => {
  const jpeg = (fill: number, size: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(size, fill), Buffer.from([0xff, 0x00, 0xff, 0xd9])]);
  const frames = [jpeg(1, 10), jpeg(2, 3000), jpeg(3, 1)];
  const stream = Buffer.concat([Buffer.from([0x00, 0xff]), ...frames]);
  for (const size of [1, 2, 7, 1000, stream.length]) {
    const splitter = new JpegSplitter();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.subarray(i, i + size)));
    t.deepEqual(out, frames, `chunks of ${size}`);
  }
});

test('the example cameras.yaml in client/ is a valid config', (t) => {
  const example = path.join(PACKAGE_ROOT, 'client', 'cameras.example.yaml');
  t.deepEqual(loadConfig(example).security, {
    tls: { ca: '/etc/crowdline/ca.pem', cert: undefined, key: undefined },
    tokenFile: '/etc/crowdline/station.token',
  });
  // Its security files exist only on the station's machines; here, plain and tokenless.
  const setup = resolveClientSetup(argv({ config: example, record: undefined, tls: false, 'token-file': '/dev/null' }));
  t.is(setup.host, '10.20.0.5');
  t.deepEqual(setup.record, { format: 'mp4', segmentSeconds: 600, keepSegments: 144 });
  t.deepEqual(
    setup.cameras.map((c) => c.name),
    ['concourse-north', 'concourse-south', 'platform-1', 'platform-2', 'taxi-rank', 'ticket-hall'],
  );
  t.deepEqual(setup.cameras[0].inputOptions, { rtsp_transport: 'tcp' });
});

test('config tls and auth keys: files are read into the connection settings; flags win; a missing file is a usage error', (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA PEM');
  fs.writeFileSync(path.join(dir, 'cam.token'), 'cl1.abc.def\n');
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, `server: gpu:7878\ntls:\n  ca: ${dir}/ca.pem\nauth:\n  token_file: ${dir}/cam.token\ncameras:\n  - { name: a, url: '0' }\n`);
  const setup = resolveClientSetup(argv({ config: file }));
  t.is(setup.security.token, 'cl1.abc.def');
  t.is(setup.security.tls?.ca?.toString(), 'CA PEM');
  // --no-tls on the command line wins over the file.
  t.is(resolveClientSetup(argv({ config: file, tls: false })).security.tls, undefined);
  fs.writeFileSync(file, `tls:\n  ca: ${dir}/missing.pem\ncameras:\n  - { name: a, url: '0' }\n`);
  t.throws(() => resolveClientSetup(argv({ config: file })), { instanceOf: UsageError, message: /missing\.pem/ });
});

test('config file: input_policy per camera (v1.3) reaches the camera spec; anything but fixed/native/tiled is refused', (t) => {
  const config = parseConfig(
    {
      cameras: [
        { name: 'stand', url: 'rtsp://x/1', input_policy: 'tiled' },
        { name: 'gate', url: 'rtsp://x/2' },
      ],
    },
    'c.yaml',
  );
  t.is(config.cameras[0].inputPolicy, 'tiled');
  t.is(config.cameras[1].inputPolicy, undefined);
  t.throws(() => parseConfig({ cameras: [{ name: 'a', url: '0', input_policy: 'huge' }] }, 'c.yaml'), {
    instanceOf: UsageError,
    message: /cameras\[0\]\.input_policy/,
  });
});
