import test from 'ava';
import {
  ClientSideParser,
  DensityFormat,
  encodeBye,
  encodeError,
  encodeFrame,
  encodeHello,
  encodeLegacyFrame,
  encodeLegacyReply,
  encodeResult,
  encodeWelcome,
  ErrorCode,
  floatToHalf,
  FrameStatus,
  halfToFloat,
  LegacyFrameParser,
  LegacyReplyParser,
  MessageType,
  ProtocolError,
  ServerSideParser,
  type ClientMessage,
  type ServerMessage,
} from '../src/framing/index.js';

const hello = { version: 1, densityFormat: DensityFormat.Float16, countOnly: false, window: 6, cameraName: 'gate-3 ✓' } as const;
const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 4, 5, 0xff, 0xd9]);
const density = { height: 2, width: 3, values: Float32Array.from([0, 0.25, 0.5, 1, 2, 0.125]) };

function clientStream(): { bytes: Buffer; messages: ClientMessage[] } {
  const messages: ClientMessage[] = [
    { type: 'hello', ...hello },
    { type: 'frame', seq: 0, captureTimeMs: 1_700_000_000_123.5, jpeg },
    { type: 'frame', seq: 7, captureTimeMs: 1_700_000_000_200, jpeg: Buffer.from([0xff, 0xd8, 9]) },
    { type: 'bye' },
  ];
  const bytes = Buffer.concat([
    encodeHello(hello),
    encodeFrame({ seq: 0, captureTimeMs: 1_700_000_000_123.5, jpeg }),
    encodeFrame({ seq: 7, captureTimeMs: 1_700_000_000_200, jpeg: Buffer.from([0xff, 0xd8, 9]) }),
    encodeBye(),
  ]);
  return { bytes, messages };
}

function serverStream(): { bytes: Buffer; messages: ServerMessage[] } {
  const welcome = {
    version: 1,
    densityFormat: DensityFormat.Float32,
    countOnly: false,
    window: 4,
    maxFrameBytes: 1 << 20,
    inputWidth: 768,
    inputHeight: 576,
    outputStride: 8,
    modelName: 'crowdline-v1',
    provider: 'cpu',
  } as const;
  const ok = {
    seq: 3,
    status: FrameStatus.Ok,
    captureTimeMs: 12.5,
    count: 3.875,
    timings: { queueUs: 10, decodeUs: 20, inferUs: 30, serverUs: 70 },
    densityFormat: DensityFormat.Float32,
    density,
  } as const;
  const failed = {
    seq: 4,
    status: FrameStatus.FrameError,
    captureTimeMs: 13,
    count: Number.NaN,
    timings: { queueUs: 1, decodeUs: 2, inferUs: 0, serverUs: 3 },
    densityFormat: DensityFormat.None,
    reason: 'corrupt JPEG',
  } as const;
  const error = { code: ErrorCode.FrameTooLarge, reason: 'too big' } as const;
  return {
    bytes: Buffer.concat([encodeWelcome(welcome), encodeResult(ok), encodeResult(failed), encodeError(error)]),
    messages: [
      { type: 'welcome', ...welcome },
      { type: 'result', ...ok },
      { type: 'result', ...failed },
      { type: 'error', ...error },
    ],
  };
}

function normalise(messages: Array<ClientMessage | ServerMessage>): unknown {
  // Buffers/typed arrays compare by content.
  return JSON.parse(
    JSON.stringify(messages, (_k, v: unknown) => {
      if (v instanceof Uint8Array) return { bytes: [...v] };
      if (v instanceof Float32Array) return { floats: [...v] };
      if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
      return v;
    }),
  );
}

test('every client message type round-trips', (t) => {
  const { bytes, messages } = clientStream();
  const parsed = new ServerSideParser({ maxFrameBytes: 1024 }).push(bytes);
  t.deepEqual(normalise(parsed), normalise(messages));
});

test('every server message type round-trips', (t) => {
  const { bytes, messages } = serverStream();
  const parsed = new ClientSideParser().push(bytes);
  t.deepEqual(normalise(parsed), normalise(messages));
});

test('the same stream split at every byte boundary parses identically', (t) => {
  for (const make of [clientStream, serverStream]) {
    const { bytes, messages } = make();
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = make === clientStream ? new ServerSideParser({ maxFrameBytes: 1024 }) : new ClientSideParser();
      const out = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      t.deepEqual(normalise(out as ClientMessage[]), normalise(messages), `cut at ${cut}`);
    }
  }
});

test('one byte at a time parses identically', (t) => {
  const { bytes, messages } = clientStream();
  const parser = new ServerSideParser({ maxFrameBytes: 1024 });
  const out: ClientMessage[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...parser.push(bytes.subarray(i, i + 1)));
  t.deepEqual(normalise(out), normalise(messages));
  t.true(parser.atBoundary);
});

test('a length over the maximum is rejected from the header alone, before any body is buffered', (t) => {
  const parser = new ServerSideParser({ maxFrameBytes: 1000 });
  parser.push(encodeHello(hello));
  const header = Buffer.alloc(8);
  header.writeUInt8(MessageType.Frame, 0);
  header.writeUInt32LE(0xffff_fff0, 4); // claims ~4 GiB
  const err = t.throws(() => parser.push(header), { instanceOf: ProtocolError });
  t.is(err?.code, ErrorCode.FrameTooLarge);
  t.regex(err?.message ?? '', /exceeds the server's maximum of 1000.*§2\.3/);
  t.is(parser.buffered, 0);
});

test('control messages cannot claim large bodies', (t) => {
  const header = Buffer.alloc(8);
  header.writeUInt8(MessageType.Hello, 0);
  header.writeUInt32LE(1 << 30, 4);
  t.throws(() => new ServerSideParser({ maxFrameBytes: 1 << 30 }).push(header), { instanceOf: ProtocolError, message: /§2\.3/ });
});

test('protocol errors name the rule they enforce', (t) => {
  const badMagic = encodeHello(hello);
  badMagic.write('XXXX', 8, 'ascii');
  t.throws(() => new ServerSideParser({ maxFrameBytes: 10 }).push(badMagic), { message: /magic.*\[v1 §3\.1\]/ });
  const reserved = encodeBye();
  reserved[1] = 1;
  t.throws(() => new ServerSideParser({ maxFrameBytes: 10 }).push(reserved), { message: /\[v1 §2\.2\]/ });
  const serverOnly = encodeError({ code: 1, reason: 'x' });
  t.throws(() => new ServerSideParser({ maxFrameBytes: 10 }).push(serverOnly), { message: /not one a client may send.*§2\.1/ });
  const empty = encodeFrame({ seq: 0, captureTimeMs: 0, jpeg: Buffer.alloc(0) });
  t.throws(() => new ServerSideParser({ maxFrameBytes: 10 }).push(empty), { message: /no image bytes/ });
});

test('a failed parser stays failed', (t) => {
  const parser = new ServerSideParser({ maxFrameBytes: 10 });
  t.throws(() => parser.push(Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 0])), { instanceOf: ProtocolError });
  t.throws(() => parser.push(encodeBye()), { instanceOf: ProtocolError });
});

test('truncated input yields no message and is not at a boundary', (t) => {
  const { bytes } = clientStream();
  const parser = new ServerSideParser({ maxFrameBytes: 1024 });
  const helloLength = encodeHello(hello).length;
  const out = parser.push(bytes.subarray(0, helloLength + 10));
  t.is(out.length, 1);
  t.false(parser.atBoundary);
});

test('random garbage gives ProtocolErrors or messages, never crashes', (t) => {
  let state = 12345;
  const rand = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
  for (let round = 0; round < 2000; round++) {
    const length = rand() % 80;
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = rand() & 0xff;
    if (length > 0 && round % 2 === 0) bytes[0] = [1, 2, 3, 4, 5, 6][rand() % 6];
    if (length > 7 && round % 3 === 0) bytes.writeUInt32LE(rand() % 64, 4);
    for (const parser of [new ServerSideParser({ maxFrameBytes: 64 }), new ClientSideParser({ maxResultBytes: 1024 })]) {
      try {
        parser.push(bytes);
      } catch (err) {
        if (!(err instanceof ProtocolError)) t.fail(`non-protocol error ${String(err)} for ${bytes.toString('hex')}`);
      }
    }
    try {
      new LegacyFrameParser(64).push(bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) t.fail(`legacy: ${String(err)}`);
    }
  }
  t.pass();
});

test('density formats: f32 exact, f16 close, u8 scaled to the max', (t) => {
  const values = Float32Array.from([0, 0.001, 0.5, 1.75, 3.14159, 0.0625]);
  for (const format of [DensityFormat.Float32, DensityFormat.Float16, DensityFormat.Uint8Scaled]) {
    const bytes = encodeResult({
      seq: 1,
      status: FrameStatus.Ok,
      captureTimeMs: 0,
      count: 5,
      timings: { queueUs: 0, decodeUs: 0, inferUs: 0, serverUs: 0 },
      densityFormat: format,
      density: { height: 2, width: 3, values },
    });
    const [msg] = new ClientSideParser().push(bytes);
    t.is(msg.type, 'result');
    if (msg.type !== 'result' || !msg.density) return t.fail('no density');
    const tolerance = format === DensityFormat.Float32 ? 0 : format === DensityFormat.Float16 ? 2e-3 : 3.15 / 255 / 2 + 1e-6;
    values.forEach((v, i) => t.true(Math.abs(msg.density!.values[i] - v) <= tolerance * Math.max(1, v), `format ${format} value ${i}`));
  }
});

test('float16 conversion round-trips representative values', (t) => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8]) t.is(halfToFloat(floatToHalf(v)), v);
  t.is(halfToFloat(floatToHalf(1e6)), Infinity);
});

test('legacy: frames parse at any split; reply matches the seed format', (t) => {
  const frames = [Buffer.from([0xff, 0xd8, 1, 2]), Buffer.from([0xff, 0xd8, 3, 4, 5, 6, 7])];
  const bytes = Buffer.concat(frames.map(encodeLegacyFrame));
  t.is(bytes.subarray(0, 16).toString('latin1'), '4               ');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const parser = new LegacyFrameParser(100);
    const out = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
    t.deepEqual(
      out.map((b) => [...b]),
      frames.map((b) => [...b]),
    );
  }
  const reply = Buffer.concat(encodeLegacyReply(2, 3, density.values));
  t.is(reply.subarray(0, 48).toString('latin1'), '24              2               3               ');
  t.is(reply.readFloatLE(48 + 4 * 4), 2);
  const [parsed] = new LegacyReplyParser().push(reply);
  t.deepEqual([...parsed.values], [...density.values]);
});

test('legacy: non-decimal and oversized headers are refused with a reason', (t) => {
  t.throws(() => new LegacyFrameParser(100).push(Buffer.from('12ab            ')), { message: /not a space-padded decimal.*legacy §6\.1/ });
  t.throws(() => new LegacyFrameParser(100).push(Buffer.from('  12            ')), { instanceOf: ProtocolError });
  const err = t.throws(() => new LegacyFrameParser(100).push(Buffer.from('101             ')), { instanceOf: ProtocolError });
  t.is(err?.code, ErrorCode.FrameTooLarge);
});
