/**
 * A real server (worker pool, known-answer model) with a site file: a client
 * that asks for zones gets ZONES and readings that agree with the density
 * map it receives, for frames larger than the network input; a reload with
 * a bad file keeps the zones, a good one sends new ZONES; metrics show zones.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { startServer } from '../src/app/start-server.js';
import {
  ClientSideParser,
  DensityFormat,
  encodeFrame,
  encodeHello,
  FrameStatus,
  PROTOCOL_VERSION,
  type ResultMessage,
  type ServerMessage,
  type ZonesMessage,
} from '../src/framing/index.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

// Model input 64x48, stride 8: an 8x6 map. Frames are 128x96, so a map cell is 16x16 frame pixels.
const SITE = `
cameras:
  gate:
    zones:
      - name: left
        polygon: [[0, 0], [64, 0], [64, 96], [0, 96]]
      - name: cut
        polygon: [[8, 8], [56, 8], [56, 40], [8, 40]]
        capacity: 10
`;

function client(
  port: number,
  camera: string,
): Promise<{ messages: ServerMessage[]; send: (jpeg: Buffer, seq: number) => void; waitFor: (n: number) => Promise<void>; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const parser = new ClientSideParser();
    const messages: ServerMessage[] = [];
    const waiters: Array<() => void> = [];
    socket.on('data', (c: Buffer) => {
      messages.push(...parser.push(c));
      waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', reject);
    socket.once('connect', () => {
      socket.write(
        encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.Float32, countOnly: false, window: 0, cameraName: camera, wantsZones: true }),
      );
      resolve({
        messages,
        socket,
        send: (jpeg, seq) => socket.write(encodeFrame({ seq, captureTimeMs: 1000 * seq, jpeg })),
        waitFor: async (n) => {
          while (messages.length < n) await new Promise<void>((r) => waiters.push(r));
        },
      });
    });
  });
}

test('real server: zone readings are the received density map summed over each polygon', async (t) => {
  const dir = tempDir();
  const sitePath = path.join(dir, 'site.yaml');
  writeFileSync(sitePath, SITE);
  const model = knownAnswerModel({ width: 64, height: 48 });
  const lines: string[] = [];
  const running = await startServer({
    modelPath: model.onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 1,
    server: { host: '127.0.0.1', port: 0 },
    metrics: { host: '127.0.0.1', port: 0 },
    log: (line) => lines.push(line),
    sitePath,
  });
  t.teardown(() => running.close());
  const c = await client(running.address.port, 'gate');
  t.teardown(() => c.socket.destroy());
  c.send(blockPatternJpeg(128, 96, 16), 1);
  await c.waitFor(3);
  t.deepEqual(
    c.messages.map((m) => m.type),
    ['welcome', 'zones', 'result'],
  );
  t.is((c.messages[1] as ZonesMessage).zones.length, 2);
  const r = c.messages[2] as ResultMessage;
  t.is(r.status, FrameStatus.Ok);
  t.is(r.density?.width, 8);
  const map = r.density?.values ?? new Float32Array(0);
  // Independent of the server's masks: left = columns 0-3 whole; cut = x 0.5..3.5, y 0.5..2.5 in cells.
  let left = 0;
  let cut = 0;
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 8; x++) {
      const v = map[y * 8 + x];
      if (x < 4) left += v;
      const wx = x === 0 || x === 3 ? 0.5 : x < 3 ? 1 : 0;
      const wy = y === 0 || y === 2 ? 0.5 : y === 1 ? 1 : 0;
      cut += wx * wy * v;
    }
  }
  const [zLeft, zCut] = r.zones ?? [];
  t.true(left > 1, 'the pattern puts people in the zone');
  t.true(Math.abs(zLeft.people - left) < 1e-4, `${zLeft.people} vs ${left}`);
  t.true(Math.abs(zCut.people - cut) < 1e-4, `${zCut.people} vs ${cut}`);
  t.true(Math.abs(zCut.occupancy - zCut.smoothed / 10) < 1e-6);

  // A bad site file keeps the zones; a good one sends the new ZONES before the next RESULT.
  writeFileSync(sitePath, SITE.replace('capacity: 10', 'capacity: nope'));
  t.regex(await running.reload(), /site file NOT reloaded, keeping the previous zones: .*site\.yaml: camera "gate", zone "cut", field capacity/);
  writeFileSync(sitePath, SITE.replace('name: left', 'name: west'));
  t.regex(await running.reload(), /site file reloaded \(1 camera\(s\), 2 zone\(s\), 0 line\(s\)\)/);
  c.send(blockPatternJpeg(128, 96, 16), 2);
  await c.waitFor(5);
  t.deepEqual(c.messages.map((m) => m.type).slice(3), ['zones', 'result']);
  t.is((c.messages[3] as ZonesMessage).zones[0].name, 'west');

  const metricsText = await (await fetch(`http://127.0.0.1:${running.metrics?.address.port}/metrics`)).text();
  t.regex(metricsText, /crowdline_zone_people\{camera="gate",zone="west"\} [0-9.]+/);
  t.regex(metricsText, /crowdline_zone_people_smoothed\{camera="gate",zone="cut"\} [0-9.]+/);
  t.regex(metricsText, /crowdline_zone_alert_state\{camera="gate",zone="cut"\} 0/);
  t.notRegex(metricsText, /zone="left"/, 'a zone removed by the reload loses its series');
});

test('real server: a bad site file fails the start, naming the problem', async (t) => {
  const dir = tempDir();
  const sitePath = path.join(dir, 'site.yaml');
  writeFileSync(sitePath, SITE.replace('[64, 96]', '[64, 96], [70, -5], [1, 1]'));
  const model = knownAnswerModel({ width: 64, height: 48 });
  const err = await t.throwsAsync(
    startServer({
      modelPath: model.onnxPath,
      device: 'cpu',
      workers: 1,
      maxBatch: 1,
      maxBatchDelayMs: 1,
      server: { host: '127.0.0.1', port: 0 },
      log: () => undefined,
      sitePath,
    }),
  );
  t.regex(err?.message ?? '', /site\.yaml: camera "gate", zone "left": polygon edges/);
});
