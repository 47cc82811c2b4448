/**
 * Zones through the accept layer (fake runner: each "JPEG" is a number and
 * its density map is 1x1 holding that number, so zone sums are exact): a
 * client that did not ask sees the very bytes of a server without a site
 * file; one that asked gets ZONES and zone blocks; state is per camera,
 * across connections; a reload re-sends ZONES.
 */
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { CrowdServer } from '../src/accept/server.js';
import {
  ClientSideParser,
  DensityFormat,
  encodeFrame,
  encodeHello,
  HEADER_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  type ResultMessage,
  type ServerMessage,
  type ZonesMessage,
} from '../src/framing/index.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneEventFanout, type EventSink } from '../src/events/zone-events.js';
import { ZoneTracker, type ZoneReport } from '../src/zones/zone-tracker.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';

const SITE = `
cameras:
  cam:
    zones:
      - name: all
        polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
        capacity: 50
        smoothing_s: 2
        alerts:
          - { level: alarm, above: 40, for_s: 2, clear_below: 20, clear_for_s: 1 }
      - name: left-half
        polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
`;

async function server(t: ExecutionContext, tracker?: ZoneTracker): Promise<{ server: CrowdServer; port: number }> {
  const s = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    zones: tracker,
  });
  const { port } = await s.listen();
  t.teardown(() => s.close());
  return { server: s, port };
}

interface Exchange {
  bytes: Buffer;
  messages: ServerMessage[];
}

/** Sends HELLO and one frame per [value, captureTimeMs], then BYE; returns everything the server sent until it closed. */
function converse(
  port: number,
  hello: { camera: string; wantsZones?: boolean; countOnly?: boolean },
  frames: Array<[number, number]>,
  between?: (i: number) => void,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const parser = new ClientSideParser();
    const messages: ServerMessage[] = [];
    let results = 0;
    let sent = 0;
    const sendNext = (): void => {
      if (sent === frames.length) {
        socket.end(Buffer.from([MessageType.Bye, 0, 0, 0, 0, 0, 0, 0]));
        return;
      }
      between?.(sent);
      const [value, time] = frames[sent];
      socket.write(encodeFrame({ seq: ++sent, captureTimeMs: time, jpeg: numberFrame(value) }));
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      for (const m of parser.push(c)) {
        messages.push(m);
        // One frame at a time, so replies and reloads interleave deterministically.
        if (m.type === 'welcome' || (m.type === 'result' && ++results === sent)) sendNext();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ bytes: Buffer.concat(chunks), messages }));
    socket.write(
      encodeHello({
        version: PROTOCOL_VERSION,
        densityFormat: hello.countOnly ? DensityFormat.None : DensityFormat.Float32,
        countOnly: hello.countOnly ?? false,
        window: 0,
        cameraName: hello.camera,
        wantsZones: hello.wantsZones,
      }),
    );
  });
}

/** The same stream with each RESULT's timing fields (body offsets 20-35: queue/decode/infer/server us) zeroed: they measure this run. */
function withoutTimings(stream: Buffer): Buffer {
  const out = Buffer.from(stream);
  for (let at = 0; at < out.length; ) {
    const length = out.readUInt32LE(at + 4);
    if (out[at] === MessageType.Result) out.fill(0, at + HEADER_BYTES + 20, at + HEADER_BYTES + 36);
    at += HEADER_BYTES + length;
  }
  return out;
}

const FRAMES: Array<[number, number]> = [
  [3, 1_000],
  [45, 2_000],
  [45, 3_000],
  [45, 4_000],
  [45, 5_000],
  [45, 6_000],
  [45, 7_000],
  [45, 8_000],
  [45, 9_000],
  [7, 10_000],
];

for (const countOnly of [false, true]) {
  test(`a client that did not ask for zones gets the same bytes as from a server without a site file (${countOnly ? 'count only' : 'f32 maps'})`, async (t) => {
    const plain = await server(t);
    const zoned = await server(t, new ZoneTracker(parseSiteFile(SITE)));
    const a = await converse(plain.port, { camera: 'cam', countOnly }, FRAMES);
    const b = await converse(zoned.port, { camera: 'cam', countOnly }, FRAMES);
    t.is(a.messages.filter((m) => m.type === 'result').length, FRAMES.length);
    t.false(b.messages.some((m) => m.type === 'zones'));
    t.true(withoutTimings(a.bytes).equals(withoutTimings(b.bytes)));
  });
}

test('a client that asked gets ZONES after WELCOME and readings in every ok RESULT', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile(SITE));
  const seen: ZoneReport[] = [];
  tracker.addListener({ reading: (r) => seen.push(r) });
  const { port } = await server(t, tracker);
  const { messages } = await converse(port, { camera: 'cam', wantsZones: true }, FRAMES);
  t.deepEqual(
    messages.map((m) => m.type),
    ['welcome', 'zones', ...FRAMES.map(() => 'result'), 'error'].slice(0, messages.length),
  );
  const zones = messages[1] as ZonesMessage;
  t.deepEqual(zones, {
    type: 'zones',
    camera: 'cam',
    zones: [
      {
        id: 0,
        name: 'all',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
        capacity: 50,
      },
      {
        id: 1,
        name: 'left-half',
        polygon: [
          [0, 0],
          [0.5, 0],
          [0.5, 1],
          [0, 1],
        ],
      },
    ],
  });
  const results = messages.filter((m): m is ResultMessage => m.type === 'result');
  const tau = 2000;
  let smoothed = 3;
  results.forEach((r, i) => {
    const [value, time] = FRAMES[i];
    if (i > 0) smoothed += (1 - Math.exp(-(time - FRAMES[i - 1][1]) / tau)) * (value - smoothed);
    const [all, half] = r.zones ?? [];
    t.is(all.id, 0);
    t.is(all.people, value);
    t.true(Math.abs(all.smoothed - smoothed) < 1e-4, `frame ${i}: ${all.smoothed} vs ${smoothed}`);
    t.true(Math.abs(all.occupancy - smoothed / 50) < 1e-5);
    t.is(half.people, value / 2);
    t.true(Number.isNaN(half.occupancy));
  });
  // smoothed: 3, 19.5, 29.5, 35.6, 39.3, 41.6 (>= 40 from 6 s: alarm 2 s later, at 8 s), 43.0, 43.8, 44.3, then 29.6: above clear_below 20, still alarm
  t.deepEqual(
    results.map((r) => r.zones?.[0].state),
    [0, 0, 0, 0, 0, 0, 0, 2, 2, 2],
  );
  t.is(seen.length, 2 * FRAMES.length);
});

test('zone state belongs to the camera: a reconnect carries on, a client without zones still feeds it, a long gap resets it', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile(SITE));
  const { port } = await server(t, tracker);
  await converse(port, { camera: 'cam' }, [[40, 1_000]]);
  const { messages } = await converse(port, { camera: 'cam', wantsZones: true }, [[0, 2_000]]);
  const r = messages.find((m): m is ResultMessage => m.type === 'result');
  const expected = 40 + (1 - Math.exp(-1000 / 2000)) * (0 - 40);
  t.true(Math.abs((r?.zones?.[0].smoothed ?? 0) - expected) < 1e-4);
  // A later frame after more than reset_after_s (60 s) starts afresh.
  const later = await converse(port, { camera: 'cam', wantsZones: true }, [[10, 100_000]]);
  t.is(later.messages.find((m): m is ResultMessage => m.type === 'result')?.zones?.[0].smoothed, 10);
  // Another camera name has no zones: an empty ZONES and empty blocks.
  const other = await converse(port, { camera: 'elsewhere', wantsZones: true }, [[5, 1_000]]);
  t.deepEqual((other.messages[1] as ZonesMessage).zones, []);
  t.deepEqual(other.messages.find((m): m is ResultMessage => m.type === 'result')?.zones, []);
});

test('a reload sends the new ZONES before the next RESULT, and readings follow it', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile(SITE));
  const { server: s, port } = await server(t, tracker);
  const reloaded = SITE.replace('name: left-half', 'name: right-half').replace(
    '[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]',
    '[[0.75, 0], [1, 0], [1, 1], [0.75, 1]]',
  );
  const { messages } = await converse(
    port,
    { camera: 'cam', wantsZones: true },
    [
      [8, 1_000],
      [8, 2_000],
    ],
    (i) => {
      if (i === 1) {
        tracker.replaceSite(parseSiteFile(reloaded), Date.now());
        s.zonesChanged();
      }
    },
  );
  t.deepEqual(messages.map((m) => m.type).slice(0, 5), ['welcome', 'zones', 'result', 'zones', 'result']);
  t.is((messages[3] as ZonesMessage).zones[1].name, 'right-half');
  t.is((messages[2] as ResultMessage).zones?.[1].people, 4);
  t.is((messages[4] as ResultMessage).zones?.[1].people, 2);
  // The unchanged zone kept its smoothing state across the reload (one camera, same polygon).
  t.is((messages[4] as ResultMessage).zones?.[0].smoothed, 8);
});

test('a hostile capture time (1e300, NaN) fails nothing: frames are answered and events still go out', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile(SITE));
  const times: string[] = [];
  const sink: EventSink = { name: 'test', count: (p) => times.push(p.time), alert: (p) => times.push(p.time), close: async () => undefined };
  tracker.addListener(new ZoneEventFanout([sink], 0));
  const { port } = await server(t, tracker);
  const { messages } = await converse(port, { camera: 'cam', wantsZones: true }, [
    [45, 1e300],
    [45, Number.NaN],
    [45, -5],
    [45, 8.7e15],
  ]);
  const results = messages.filter((m): m is ResultMessage => m.type === 'result');
  t.is(results.length, 4);
  t.true(results.every((r) => r.zones?.length === 2 && r.zones[0].people === 45));
  t.true(times.length >= 4 && times.every((s) => !Number.isNaN(Date.parse(s))));
});
