/** `crowdline serve --site` as a process: ZONES on an open connection after SIGHUP, a bad file kept out, JSON-lines events, option checks. */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { ClientSideParser, DensityFormat, encodeFrame, encodeHello, PROTOCOL_VERSION, type ServerMessage, type ZonesMessage } from '../src/framing/index.js';
import { runCli, oneWorkerServeArgs, startServeProcess, waitForLog } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const SITE = `
cameras:
  gate:
    width: 64
    height: 48
    zones:
      - name: left
        polygon: [[0, 0], [32, 0], [32, 48], [0, 48]]
        alerts:
          - { level: warning, metric: people, above: 0.001, for_s: 0 }
`;

async function until(messages: ServerMessage[], n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (messages.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${messages.length} messages: ${messages.map((m) => m.type).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('serve --site: SIGHUP sends new ZONES to open connections; a bad file keeps the old zones; events go to --events-file', async (t) => {
  const dir = tempDir('crowdline-zones-cli-');
  const site = path.join(dir, 'site.yaml');
  const events = path.join(dir, 'events.jsonl');
  writeFileSync(site, SITE);
  const model = knownAnswerModel();
  const { child, port, log } = await startServeProcess([
    ...oneWorkerServeArgs(model.onnxPath),
    '--site',
    site,
    '--events-file',
    events,
    '--zone-publish-interval-ms',
    '1',
    // Its history in the test's directory, not the user's state directory.
    '--history-dir',
    path.join(dir, 'history'),
  ]);
  t.teardown(() => child.kill('SIGKILL'));
  t.regex(log(), /zones: 1 camera\(s\), 1 zone\(s\), 0 line\(s\) from /);

  const socket = net.connect({ port, host: '127.0.0.1' });
  t.teardown(() => socket.destroy());
  const parser = new ClientSideParser();
  const messages: ServerMessage[] = [];
  socket.on('data', (c: Buffer) => messages.push(...parser.push(c)));
  socket.write(
    encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.Float32, countOnly: false, window: 0, cameraName: 'gate', wantsZones: true }),
  );
  socket.write(encodeFrame({ seq: 1, captureTimeMs: 1000, jpeg: blockPatternJpeg(64, 48, 8) }));
  await until(messages, 3);
  t.deepEqual(
    messages.map((m) => m.type),
    ['welcome', 'zones', 'result'],
  );

  writeFileSync(site, SITE.replace('[32, 48]', '[32, 48], [40, -1], [1, 1]'));
  child.kill('SIGHUP');
  await waitForLog(log, /SIGHUP: site file NOT reloaded, keeping the previous zones: .*site\.yaml: camera \\?"gate\\?", zone \\?"left\\?": polygon edges/);

  writeFileSync(site, SITE.replace('name: left', 'name: right').replace('[[0, 0], [32, 0], [32, 48], [0, 48]]', '[[32, 0], [64, 0], [64, 48], [32, 48]]'));
  child.kill('SIGHUP');
  await waitForLog(log, /SIGHUP: site file reloaded \(1 camera\(s\), 1 zone\(s\), 0 line\(s\)\)/);
  await until(messages, 4);
  t.is(messages[3].type, 'zones');
  t.is((messages[3] as ZonesMessage).zones[0].name, 'right');

  await waitForLog(() => readFileSync(events, 'utf8'), /"type":"count"/);
  const lines = readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(
    lines.find((l) => l.type === 'alert'),
    { camera: 'gate', zone: 'left', state: 'warning', previous: 'ok' },
  );
  t.like(
    lines.find((l) => l.type === 'count'),
    { camera: 'gate', zone: 'left' },
  );
  // The reload removed "left" while it was alerting: it is returned to ok, so no stale alert stays.
  await waitForLog(() => readFileSync(events, 'utf8'), /"zone":"left","state":"ok","previous":"warning","rule":"site reloaded"/);
});

test('serve: event options without --site are a usage error', async (t) => {
  const run = await runCli(['serve', '--mqtt-url', 'mqtt://127.0.0.1:1', '--port', '0']);
  t.not(run.code, 0);
  t.regex(run.stderr, /--mqtt-url and --events-file publish zone events: give --site too/);
});
