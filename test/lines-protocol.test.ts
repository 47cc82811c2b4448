/**
 * Counting lines on the wire (protocol v1.4) through the accept layer (fake
 * runner: each "JPEG" is a number, its count that number): a v1 client that
 * did not ask, and a legacy client, see the very bytes of a server without
 * lines; one that asked gets LINES after WELCOME (after ZONES when it asked
 * for both), a line block in every ok RESULT holding the crossings as they
 * stand once the frame was counted, none in other RESULTs, and LINES again
 * after a site reload.
 */
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { CrowdServer } from '../src/accept/server.js';
import type { LineSource } from '../src/accept/session-deps.js';
import {
  ClientSideParser,
  DensityFormat,
  encodeFrame,
  encodeHello,
  HEADER_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  type LineCrossings,
  type LinesMessage,
  type ResultMessage,
  type ServerMessage,
} from '../src/framing/index.js';
import { linesMessage } from '../src/lines/line-tracker.js';
import { parseSiteFile, type SiteConfig } from '../src/zones/site-file.js';
import { ZoneTracker } from '../src/zones/zone-tracker.js';
import { FakeRunner } from './helpers/fake-runner.js';

const SITE = `
cameras:
  gate:
    width: 768
    height: 576
    zones:
      - name: hall
        polygon: [[0, 0], [768, 0], [768, 300], [0, 300]]
    lines:
      - name: door
        points: [[0, 300], [768, 300]]
        in: left
        band_px: 40
      - name: stairs
        points: [[600, 0], [600, 300]]
        in: right
`;

/**
 * Lines whose crossings are scripted from the frames seen: every frame's
 * value adds to "door" in, and one tenth of it to "stairs" out. The session
 * must send the state after the frame it answers was fed.
 */
class ScriptedLines implements LineSource {
  private totals = new Map<string, { in: number; out: number; last: number }>();
  constructor(public site: SiteConfig) {}
  wantsMotion(camera: string): boolean {
    return (this.site.cameras.get(camera)?.lines.length ?? 0) > 0;
  }
  observe(camera: string, _connection: number, _timeMs: number, map: { values: Float32Array }): void {
    if (!this.wantsMotion(camera)) return;
    const t = this.totals.get(camera) ?? { in: 0, out: 0, last: 0 };
    t.last = map.values[0];
    t.in += t.last;
    t.out += t.last / 10;
    this.totals.set(camera, t);
  }
  describe(camera: string): Omit<LinesMessage, 'type'> {
    const cam = this.site.cameras.get(camera);
    return cam ? linesMessage(cam) : { camera, lines: [] };
  }
  crossings(camera: string): LineCrossings[] | undefined {
    const cam = this.site.cameras.get(camera);
    if (!cam || cam.lines.length === 0) return undefined;
    const t = this.totals.get(camera) ?? { in: 0, out: 0, last: 0 };
    return cam.lines.map((l) =>
      l.id === 0
        ? { id: 0, in: t.in, out: 0, intervalMs: 1000, intervalIn: t.last, intervalOut: 0 }
        : { id: l.id, in: 0, out: t.out, intervalMs: 1000, intervalIn: 0, intervalOut: t.last / 10 },
    );
  }
}

async function server(t: ExecutionContext, deps: { lines?: LineSource; zones?: ZoneTracker } = {}): Promise<{ server: CrowdServer; port: number }> {
  const s = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    ...deps,
  });
  const { port } = await s.listen();
  t.teardown(() => s.close());
  return { server: s, port };
}

/** HELLO, then one frame at a time (the next after the previous RESULT), then BYE; everything the server sent until it closed. */
function converse(
  port: number,
  hello: { camera: string; wantsLines?: boolean; wantsZones?: boolean; countOnly?: boolean },
  values: string[],
  between?: (i: number) => void,
): Promise<{ bytes: Buffer; messages: ServerMessage[] }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const parser = new ClientSideParser();
    const messages: ServerMessage[] = [];
    let sent = 0;
    const sendNext = (): void => {
      if (sent === values.length) {
        socket.end(Buffer.from([MessageType.Bye, 0, 0, 0, 0, 0, 0, 0]));
        return;
      }
      between?.(sent);
      socket.write(encodeFrame({ seq: ++sent, captureTimeMs: 1000 * sent, jpeg: Buffer.from(values[sent - 1], 'latin1') }));
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      for (const m of parser.push(c)) {
        messages.push(m);
        if (m.type === 'welcome' || m.type === 'result') sendNext();
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
        wantsLines: hello.wantsLines,
      }),
    );
  });
}

/** A legacy client: each frame as a 16-byte ASCII length and the bytes, one at a time; everything the server sent. */
function legacy(port: number, values: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let received = 0;
    let sent = 0;
    const send = (): void => {
      const v = Buffer.from(values[sent++], 'latin1');
      socket.write(Buffer.concat([Buffer.from(String(v.length).padEnd(16)), v]));
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      // Each reply: 48 bytes of header, then 4 bytes per map value (a 1x1 map, or none for a failed frame).
      const expected = values.slice(0, sent).reduce((n, v) => n + 48 + (Number.isFinite(Number(v)) ? 4 : 0), 0);
      if (received < expected) return;
      if (sent < values.length) send();
      else socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    send();
  });
}

/** RESULT timing fields (body offsets 20-35) measure this run: zeroed before comparing streams. */
function withoutTimings(stream: Buffer): Buffer {
  const out = Buffer.from(stream);
  for (let at = 0; at < out.length; ) {
    const length = out.readUInt32LE(at + 4);
    if (out[at] === MessageType.Result) out.fill(0, at + HEADER_BYTES + 20, at + HEADER_BYTES + 36);
    at += HEADER_BYTES + length;
  }
  return out;
}

const VALUES = ['3', '5', 'not-a-number', '2', '0'];

for (const countOnly of [false, true]) {
  test(`a v1 client that did not ask for lines gets the bytes of a server without lines (${countOnly ? 'count only' : 'f32 maps'})`, async (t) => {
    const plain = await server(t);
    const lined = await server(t, { lines: new ScriptedLines(parseSiteFile(SITE)) });
    const a = await converse(plain.port, { camera: 'gate', countOnly }, VALUES);
    const b = await converse(lined.port, { camera: 'gate', countOnly }, VALUES);
    t.is(a.messages.filter((m) => m.type === 'result').length, VALUES.length);
    t.false(b.messages.some((m) => m.type === 'lines'));
    t.true(withoutTimings(a.bytes).equals(withoutTimings(b.bytes)));
  });
}

test('a legacy client gets the bytes of a server without lines', async (t) => {
  const plain = await server(t);
  const lined = await server(t, { lines: new ScriptedLines(parseSiteFile(SITE)) });
  const a = await legacy(plain.port, VALUES);
  const b = await legacy(lined.port, VALUES);
  t.is(a.length, 5 * 48 + 4 * 4);
  t.true(a.equals(b));
});

test('a client that asked gets LINES after WELCOME and ZONES, and the crossings after each ok frame in its RESULT', async (t) => {
  const site = parseSiteFile(SITE);
  const { port } = await server(t, { lines: new ScriptedLines(site), zones: new ZoneTracker(site) });
  const { messages } = await converse(port, { camera: 'gate', wantsLines: true, wantsZones: true, countOnly: true }, VALUES);
  t.deepEqual(
    messages.map((m) => m.type),
    ['welcome', 'zones', 'lines', ...VALUES.map(() => 'result'), 'error'].slice(0, messages.length),
  );
  t.deepEqual(messages[2], {
    type: 'lines',
    camera: 'gate',
    width: 768,
    height: 576,
    lines: [
      {
        id: 0,
        name: 'door',
        points: [
          [0, 300],
          [768, 300],
        ],
        in: 'left',
        bandPx: 40,
      },
      {
        id: 1,
        name: 'stairs',
        points: [
          [600, 0],
          [600, 300],
        ],
        in: 'right',
      },
    ],
  });
  const results = messages.filter((m): m is ResultMessage => m.type === 'result');
  // Cumulative: 3, 8, (frame error: no block), 10, 10.
  t.deepEqual(
    results.map((r) => r.lines?.[0]?.in),
    [3, 8, undefined, 10, 10],
  );
  t.deepEqual(results[1].lines?.[0], { id: 0, in: 8, out: 0, intervalMs: 1000, intervalIn: 5, intervalOut: 0 });
  t.true(Math.abs((results[3].lines?.[1].out ?? 0) - 1) < 1e-12);
  t.is(results[2].status, 1);
  t.is(results[2].zones, undefined);
  t.true(results.filter((r) => r.status === 0).every((r) => r.zones?.length === 1 && r.lines?.length === 2));
});

test('lines without zones: no ZONES message, no zone block; a camera without lines gets an empty LINES and empty blocks', async (t) => {
  const { port } = await server(t, { lines: new ScriptedLines(parseSiteFile(SITE)) });
  const { messages } = await converse(port, { camera: 'gate', wantsLines: true }, ['4']);
  t.deepEqual(
    messages.map((m) => m.type),
    ['welcome', 'lines', 'result'],
  );
  const result = messages[2] as ResultMessage;
  t.is(result.zones, undefined);
  t.is(result.lines?.[0].in, 4);
  t.deepEqual([...(result.density?.values ?? [])], [4]);
  const other = await converse(port, { camera: 'lobby', wantsLines: true }, ['4']);
  t.deepEqual(other.messages[1], { type: 'lines', camera: 'lobby', lines: [] });
  t.deepEqual((other.messages[2] as ResultMessage).lines, []);
  // A server without any site file answers an asking client the same way.
  const bare = await server(t);
  const none = await converse(bare.port, { camera: 'gate', wantsLines: true }, ['4']);
  t.deepEqual(none.messages[1], { type: 'lines', camera: 'gate', lines: [] });
  t.deepEqual((none.messages[2] as ResultMessage).lines, []);
});

test('a reload sends the new LINES before the next RESULT, and the blocks follow it', async (t) => {
  const lines = new ScriptedLines(parseSiteFile(SITE));
  const { server: s, port } = await server(t, { lines });
  const reloaded = SITE.replace(/ {6}- name: stairs[\s\S]*$/, '');
  const { messages } = await converse(port, { camera: 'gate', wantsLines: true }, ['1', '2'], (i) => {
    if (i === 1) {
      lines.site = parseSiteFile(reloaded);
      s.zonesChanged();
    }
  });
  t.deepEqual(messages.map((m) => m.type).slice(0, 5), ['welcome', 'lines', 'result', 'lines', 'result']);
  t.is((messages[1] as LinesMessage).lines.length, 2);
  t.deepEqual(
    (messages[3] as LinesMessage).lines.map((l) => l.name),
    ['door'],
  );
  t.is((messages[2] as ResultMessage).lines?.length, 2);
  t.deepEqual((messages[4] as ResultMessage).lines, [{ id: 0, in: 3, out: 0, intervalMs: 1000, intervalIn: 2, intervalOut: 0 }]);
});
