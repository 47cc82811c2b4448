import test from 'ava';
import {
  ClientSideParser,
  DensityFormat,
  encodeHello,
  encodeResult,
  encodeZones,
  FrameStatus,
  ProtocolError,
  ServerSideParser,
  ZoneAlertState,
  type ResultMessage,
  type ZonesMessage,
} from '../src/framing/index.js';

const hello = { version: 1, densityFormat: DensityFormat.Float32, countOnly: false, window: 4, cameraName: 'platform-2' } as const;
const ok: Omit<ResultMessage, 'type'> = {
  seq: 7,
  status: FrameStatus.Ok,
  captureTimeMs: 1_700_000_000_123.5,
  count: 12.5,
  timings: { queueUs: 1, decodeUs: 2, inferUs: 3, serverUs: 4 },
  densityFormat: DensityFormat.Float32,
  density: { height: 2, width: 2, values: Float32Array.from([1, 2, 3, 6.5]) },
};
const readings = [
  { id: 0, state: ZoneAlertState.Alarm, people: 41.25, smoothed: 40.5, occupancy: 1.0125 },
  { id: 1, state: ZoneAlertState.Ok, people: 0.5, smoothed: 0.25, occupancy: Number.NaN },
];
const zones: Omit<ZonesMessage, 'type'> = {
  camera: 'platform-2',
  width: 768,
  height: 576,
  zones: [
    {
      id: 0,
      name: 'walkway',
      polygon: [
        [0, 0],
        [100, 0],
        [100, 50],
      ],
      capacity: 40,
    },
    {
      id: 1,
      name: 'exit ✓',
      polygon: [
        [10, 10],
        [20, 10],
        [20, 20],
        [10, 20],
      ],
    },
  ],
};

function serverParse(bytes: Buffer) {
  return new ServerSideParser({ maxFrameBytes: 1000 }).push(bytes);
}

test('a HELLO that does not ask for zones is byte for byte a v1.0 HELLO', (t) => {
  const plain = encodeHello(hello);
  t.is(plain.readUInt8(8 + 7), 0, 'no extension flag');
  t.deepEqual(encodeHello({ ...hello, wantsZones: false }), plain);
  t.is(plain.length, 8 + 11 + 'platform-2'.length);
});

test('the zones extension round-trips, alone and beside a token', (t) => {
  const [alone] = serverParse(encodeHello({ ...hello, wantsZones: true }));
  t.like(alone, { type: 'hello', wantsZones: true });
  t.is((alone as { token?: string }).token, undefined);
  const [both] = serverParse(encodeHello({ ...hello, wantsZones: true, token: 'cl1.0000abcd.secret' }));
  t.like(both, { type: 'hello', wantsZones: true, token: 'cl1.0000abcd.secret' });
});

test('a RESULT without zones is byte for byte what v1.1 sent: flags 0, payload at offset 44', (t) => {
  const bytes = encodeResult(ok);
  t.is(bytes.readUInt16LE(8 + 6), 0);
  t.is(bytes.readUInt32LE(4), 44 + 16);
  const [msg] = new ClientSideParser().push(bytes);
  t.is((msg as ResultMessage).zones, undefined);
});

test('a RESULT with zones carries the block before the density map, and both decode', (t) => {
  const bytes = encodeResult({ ...ok, zones: readings });
  t.is(bytes.readUInt16LE(8 + 6), 1, 'flag bit 0');
  t.is(bytes.readUInt16LE(8 + 44), 2, 'zone count');
  t.is(bytes.readUInt32LE(4), 44 + 4 + 2 * 16 + 16);
  const [msg] = new ClientSideParser().push(bytes) as ResultMessage[];
  t.deepEqual(Array.from(msg.density!.values), [1, 2, 3, 6.5]);
  t.is(msg.zones!.length, 2);
  t.like(msg.zones![0], { id: 0, state: ZoneAlertState.Alarm, people: 41.25, smoothed: 40.5 });
  t.true(Math.abs(msg.zones![0].occupancy - 1.0125) < 1e-6);
  t.true(Number.isNaN(msg.zones![1].occupancy));
});

test('a count-only RESULT may carry zones too; an empty zone list is a 4-byte block', (t) => {
  const countOnly = { ...ok, densityFormat: DensityFormat.None, density: undefined };
  const [msg] = new ClientSideParser().push(encodeResult({ ...countOnly, zones: readings.slice(1) })) as ResultMessage[];
  t.is(msg.zones!.length, 1);
  t.is(msg.reason, undefined);
  const empty = encodeResult({ ...countOnly, zones: [] });
  t.is(empty.readUInt32LE(4), 44 + 4);
  t.deepEqual((new ClientSideParser().push(empty)[0] as ResultMessage).zones, []);
});

test('a zone block that claims more zones than the body holds is a protocol error', (t) => {
  const bytes = encodeResult({ ...ok, density: undefined, densityFormat: DensityFormat.None, zones: readings });
  bytes.writeUInt16LE(3, 8 + 44);
  t.throws(() => new ClientSideParser().push(bytes), { instanceOf: ProtocolError, message: /zone block/ });
  const badState = encodeResult({ ...ok, density: undefined, densityFormat: DensityFormat.None, zones: readings });
  badState.writeUInt8(9, 8 + 48 + 2);
  t.throws(() => new ClientSideParser().push(badState), { instanceOf: ProtocolError, message: /alert state/ });
});

test('ZONES round-trips and is checked field by field', (t) => {
  const [msg] = new ClientSideParser().push(encodeZones(zones));
  t.deepEqual(msg, { type: 'zones', ...zones });
  const body = (value: unknown): Buffer => {
    const json = Buffer.from(JSON.stringify(value));
    const head = Buffer.alloc(8);
    head.writeUInt8(0x07, 0);
    head.writeUInt32LE(json.length, 4);
    return Buffer.concat([head, json]);
  };
  const bad: Array<[unknown, RegExp]> = [
    [
      {
        camera: 'x',
        zones: [
          {
            id: 0,
            name: 'a',
            polygon: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      },
      /polygon/,
    ],
    [
      {
        camera: 'x',
        zones: [
          {
            id: 1,
            name: 'a',
            polygon: [
              [0, 0],
              [1, 1],
              [2, 0],
            ],
          },
        ],
      },
      /"id" 0/,
    ],
    [
      {
        camera: 'x',
        zones: [
          {
            id: 0,
            name: 'a',
            polygon: [
              [0, 0],
              [1, 'y'],
              [2, 0],
            ],
          },
        ],
      },
      /corner/,
    ],
    [
      {
        camera: 'x',
        zones: [
          {
            id: 0,
            name: 'a',
            polygon: [
              [0, 0],
              [1, 1],
              [2, 0],
            ],
            capacity: -1,
          },
        ],
      },
      /capacity/,
    ],
    [{ camera: 'x', width: 10, zones: [] }, /height/],
    [{ zones: [] }, /camera/],
    [[1, 2], /object/],
  ];
  for (const [value, message] of bad) t.throws(() => new ClientSideParser().push(body(value)), { instanceOf: ProtocolError, message });
  const notJson = body('xx');
  notJson.write('{{{{', 8);
  t.throws(() => new ClientSideParser().push(notJson), { message: /not JSON/ });
});

test('a server never accepts ZONES from a client', (t) => {
  t.throws(() => serverParse(encodeZones(zones)), { instanceOf: ProtocolError });
});
