/**
 * Protocol v1.4 counting lines in src/framing: the HELLO tag, the LINES
 * message and the RESULT's line block. A client that does not ask sees the
 * bytes of v1.3; the client's parser takes hostile bytes (counts past the
 * end, NaN, negative counts, malformed JSON, oversized bodies) as protocol
 * errors and nothing worse.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  ClientSideParser,
  DensityFormat,
  encodeHello,
  encodeLines,
  encodeResult,
  FrameStatus,
  MAX_LINES_BODY_BYTES,
  MessageType,
  ProtocolError,
  ServerSideParser,
  ZoneAlertState,
  type LineCrossings,
  type LinesMessage,
  type ResultMessage,
  type ServerMessage,
} from '../src/framing/index.js';

const hello = { version: 1, densityFormat: DensityFormat.Float32, countOnly: false, window: 4, cameraName: 'gate-b' } as const;
const ok: Omit<ResultMessage, 'type'> = {
  seq: 9,
  status: FrameStatus.Ok,
  captureTimeMs: 1_700_000_000_500.25,
  count: 3.5,
  timings: { queueUs: 1, decodeUs: 2, inferUs: 3, serverUs: 4 },
  densityFormat: DensityFormat.Float32,
  density: { height: 1, width: 2, values: Float32Array.from([1.5, 2]) },
};
const crossings: LineCrossings[] = [
  { id: 0, in: 123456.75, out: 98765.5, intervalMs: 1040, intervalIn: 1.25, intervalOut: 0 },
  { id: 1, in: 0.5, out: 2, intervalMs: 0, intervalIn: 0, intervalOut: 0 },
];
const lines: Omit<LinesMessage, 'type'> = {
  camera: 'gate-b',
  width: 768,
  height: 576,
  lines: [
    {
      id: 0,
      name: 'door',
      points: [
        [100, 300],
        [400, 310],
        [600, 300],
      ],
      in: 'left',
      bandPx: 40,
    },
    {
      id: 1,
      name: 'stairs ✓',
      points: [
        [10, 10],
        [10, 200],
      ],
      in: 'right',
    },
  ],
};

const clientParse = (bytes: Buffer): ServerMessage[] => new ClientSideParser().push(bytes);
const withBody = (type: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt8(type, 0);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
};

test('a HELLO that does not ask for lines is byte for byte a v1.3 HELLO; the tag round-trips beside zones and a token', (t) => {
  t.deepEqual(encodeHello({ ...hello, wantsLines: false }), encodeHello(hello));
  const bytes = encodeHello({ ...hello, wantsLines: true });
  t.is(bytes.readUInt8(8 + 7) & 0x02, 0x02, 'extension flag');
  t.deepEqual([...bytes.subarray(bytes.length - 2)], [0x04, 0]);
  const [alone] = new ServerSideParser({ maxFrameBytes: 1000 }).push(bytes);
  t.like(alone, { type: 'hello', wantsLines: true });
  t.is((alone as { wantsZones?: boolean }).wantsZones, undefined);
  const [all] = new ServerSideParser({ maxFrameBytes: 1000 }).push(encodeHello({ ...hello, wantsLines: true, wantsZones: true, token: 'cl1.00000001.x' }));
  t.like(all, { type: 'hello', wantsLines: true, wantsZones: true, token: 'cl1.00000001.x' });
  // A value on the tag is room for later options: accepted and ignored.
  const withValue = encodeHello({ ...hello, token: 'abc' });
  const extended = Buffer.concat([withValue, Buffer.from([0x04, 2, 7, 7])]);
  extended.writeUInt32LE(extended.length - 8, 4);
  t.like(new ServerSideParser({ maxFrameBytes: 1000 }).push(extended)[0], { wantsLines: true, token: 'abc' });
});

test('a RESULT without lines keeps flags 0 and its payload at offset 44', (t) => {
  const bytes = encodeResult(ok);
  t.is(bytes.readUInt16LE(8 + 6), 0);
  t.is(bytes.readUInt32LE(4), 44 + 8);
  t.is((clientParse(bytes)[0] as ResultMessage).lines, undefined);
});

test('a line block alone sits at offset 44 with flag bit 1; the map follows it', (t) => {
  const bytes = encodeResult({ ...ok, lines: crossings });
  t.is(bytes.readUInt16LE(8 + 6), 0x02);
  t.is(bytes.readUInt16LE(8 + 44), 2, 'line count');
  t.is(bytes.readUInt16LE(8 + 48), 0, 'first id');
  t.is(bytes.readUInt32LE(8 + 48 + 4), 1040, 'intervalMs');
  t.is(bytes.readDoubleLE(8 + 48 + 16), 123456.75, 'cumulative in, f64');
  t.is(bytes.readUInt32LE(4), 44 + 4 + 2 * 32 + 8);
  const msg = clientParse(bytes)[0] as ResultMessage;
  t.deepEqual(msg.lines, crossings);
  t.deepEqual([...(msg.density?.values ?? [])], [1.5, 2]);
  t.is(msg.zones, undefined);
});

test('with zones and lines the zone block comes first, then the line block, then the payload', (t) => {
  const zones = [{ id: 0, state: ZoneAlertState.Warning, people: 4, smoothed: 3.5, occupancy: 0.5 }];
  const bytes = encodeResult({ ...ok, zones, lines: crossings.slice(0, 1) });
  t.is(bytes.readUInt16LE(8 + 6), 0x03);
  t.is(bytes.readUInt16LE(8 + 44), 1, 'zone count');
  t.is(bytes.readUInt16LE(8 + 44 + 4 + 16), 1, 'line count after the one zone entry');
  const msg = clientParse(bytes)[0] as ResultMessage;
  t.like(msg.zones?.[0], { id: 0, state: ZoneAlertState.Warning, people: 4 });
  t.deepEqual(msg.lines, crossings.slice(0, 1));
  t.deepEqual([...(msg.density?.values ?? [])], [1.5, 2]);
  const empty = encodeResult({ ...ok, density: undefined, densityFormat: DensityFormat.None, lines: [] });
  t.is(empty.readUInt32LE(4), 44 + 4);
  t.deepEqual((clientParse(empty)[0] as ResultMessage).lines, []);
});

test('the encoder never puts a non-finite or negative count on the wire', (t) => {
  const bytes = encodeResult({ ...ok, lines: [{ id: 3, in: Number.NaN, out: -2, intervalMs: -1, intervalIn: Number.POSITIVE_INFINITY, intervalOut: 1 }] });
  t.deepEqual((clientParse(bytes)[0] as ResultMessage).lines, [{ id: 3, in: 0, out: 0, intervalMs: 0, intervalIn: 0, intervalOut: 1 }]);
});

test('hostile line blocks are protocol errors: cut short, too many entries, NaN, infinite or negative counts', (t) => {
  const countOnly = { ...ok, density: undefined, densityFormat: DensityFormat.None };
  const short = encodeResult(countOnly);
  short.writeUInt16LE(0x02, 8 + 6);
  t.throws(() => clientParse(short), { instanceOf: ProtocolError, message: /line block is cut short/ });
  const tooMany = encodeResult({ ...countOnly, lines: crossings });
  tooMany.writeUInt16LE(3, 8 + 44);
  t.throws(() => clientParse(tooMany), { instanceOf: ProtocolError, message: /runs past the end/ });
  tooMany.writeUInt16LE(0xffff, 8 + 44);
  t.throws(() => clientParse(tooMany), { instanceOf: ProtocolError, message: /65535 lines runs past the end/ });
  for (const [offset, value] of [
    [16, Number.NaN],
    [24, -1],
    [16, Number.POSITIVE_INFINITY],
  ] as const) {
    const bad = encodeResult({ ...countOnly, lines: crossings });
    bad.writeDoubleLE(value, 8 + 48 + offset);
    t.throws(() => clientParse(bad), { instanceOf: ProtocolError, message: /not a finite number >= 0/ }, `f64 at ${offset} = ${value}`);
  }
  const badInterval = encodeResult({ ...countOnly, lines: crossings });
  badInterval.writeFloatLE(Number.NaN, 8 + 48 + 8);
  t.throws(() => clientParse(badInterval), { instanceOf: ProtocolError });
  // A zone block whose count swallows the line block is caught too (it runs past the end or leaves the line block short).
  const both = encodeResult({ ...countOnly, zones: [], lines: [] });
  both.writeUInt16LE(1, 8 + 44);
  t.throws(() => clientParse(both), { instanceOf: ProtocolError });
});

test('LINES round-trips and every field is checked', (t) => {
  const [msg] = clientParse(encodeLines(lines));
  t.deepEqual(msg, { type: 'lines', ...lines });
  const json = JSON.parse(encodeLines(lines).subarray(8).toString()) as { lines: Array<Record<string, unknown>> };
  t.is(json.lines[0].band_px, 40, 'the JSON key follows the site file');
  const line = {
    id: 0,
    name: 'a',
    points: [
      [0, 0],
      [1, 1],
    ],
    in: 'left',
  };
  const bad: Array<[unknown, RegExp]> = [
    [{ camera: 'x', lines: [{ ...line, points: [[0, 0]] }] }, /points/],
    [
      {
        camera: 'x',
        lines: [
          {
            ...line,
            points: [
              [0, 0],
              [1, 'y'],
            ],
          },
        ],
      },
      /point that is not/,
    ],
    [
      {
        camera: 'x',
        lines: [
          {
            ...line,
            points: [
              [0, 0],
              [1, null],
            ],
          },
        ],
      },
      /point that is not/,
    ],
    [
      {
        camera: 'x',
        lines: [
          {
            ...line,
            points: [
              [0, 0],
              [1, 2, 3],
            ],
          },
        ],
      },
      /point that is not/,
    ],
    [{ camera: 'x', lines: [{ ...line, points: Array.from({ length: 257 }, (_, i) => [i, i]) }] }, /2-256 points/],
    [{ camera: 'x', lines: [{ ...line, id: 1 }] }, /"id" 0/],
    [{ camera: 'x', lines: [{ ...line, in: 'up' }] }, /"in"/],
    [{ camera: 'x', lines: [{ ...line, name: 5 }] }, /"name"/],
    [{ camera: 'x', lines: [{ ...line, band_px: 0 }] }, /band_px/],
    [{ camera: 'x', lines: [{ ...line, band_px: 'wide' }] }, /band_px/],
    [{ camera: 'x', lines: [null] }, /object/],
    [{ camera: 'x', lines: Array.from({ length: 257 }, (_, id) => ({ ...line, id })) }, /at most 256/],
    [{ camera: 'x', lines: {} }, /list/],
    [{ camera: 'x', height: 5, lines: [] }, /width/],
    [{ camera: 'x', width: -5, height: 5, lines: [] }, /width/],
    [{ lines: [] }, /camera/],
    ['lines', /object/],
  ];
  for (const [value, message] of bad)
    t.throws(() => clientParse(withBody(MessageType.Lines, Buffer.from(JSON.stringify(value)))), { instanceOf: ProtocolError, message });
  t.throws(() => clientParse(withBody(MessageType.Lines, Buffer.from('{"camera": '))), { message: /not JSON/ });
});

test('a LINES header over 64 KiB is refused before its body is buffered; under 2 bytes too', (t) => {
  const parser = new ClientSideParser();
  const head = Buffer.alloc(8);
  head.writeUInt8(MessageType.Lines, 0);
  head.writeUInt32LE(MAX_LINES_BODY_BYTES + 1, 4);
  t.throws(() => parser.push(head), { instanceOf: ProtocolError, message: /LINES body of 65537 bytes/ });
  t.is(parser.buffered, 0);
  head.writeUInt32LE(1, 4);
  t.throws(() => new ClientSideParser().push(head), { instanceOf: ProtocolError, message: /outside 2-65536/ });
  t.throws(
    () =>
      encodeLines({
        camera: 'x',
        lines: [
          {
            id: 0,
            name: 'n'.repeat(70_000),
            points: [
              [0, 0],
              [1, 1],
            ],
            in: 'left',
          },
        ],
      }),
    { instanceOf: RangeError },
  );
});

test('a server never accepts LINES from a client', (t) => {
  t.throws(() => new ServerSideParser({ maxFrameBytes: 1000 }).push(encodeLines(lines)), { instanceOf: ProtocolError });
});

test('any corruption of a RESULT with zones and lines, or of a LINES body, decodes or is a ProtocolError, in any split', (t) => {
  const zones = [{ id: 0, state: ZoneAlertState.Ok, people: 1, smoothed: 1, occupancy: Number.NaN }];
  const streams = [encodeResult({ ...ok, zones, lines: crossings }), encodeLines(lines)];
  fc.assert(
    fc.property(
      fc.constantFrom(...streams),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (bytes, edits, cut) => {
        const corrupted = Buffer.from(bytes);
        // Keep the 8-byte header's type so the body reaches the decoder; any other byte may change.
        for (const [at, value] of edits) corrupted[1 + (at % (corrupted.length - 1))] = value;
        const at = cut % corrupted.length;
        const parser = new ClientSideParser({ maxResultBytes: 1 << 20 });
        try {
          parser.push(corrupted.subarray(0, at));
          parser.push(corrupted.subarray(at));
        } catch (err) {
          return err instanceof ProtocolError;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});
