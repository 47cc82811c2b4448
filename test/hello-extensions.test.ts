/** HELLO v1.1 extensions (docs/protocol.md §3.1.1): the token field, and compatibility both ways. */
import test from 'ava';
import { encodeHello, ErrorCode, HEADER_BYTES, HelloFlags, ProtocolError, ServerSideParser } from '../src/framing/index.js';

const base = { version: 1, densityFormat: 1, countOnly: false, window: 4, cameraName: 'gate' } as const;
const parse = (bytes: Buffer): ReturnType<ServerSideParser['push']> => new ServerSideParser({ maxFrameBytes: 1024 }).push(bytes);

test('a token round-trips; a tokenless HELLO is byte for byte v1.0 (no flag, nothing after the name)', (t) => {
  const token = 'cl1.0a1b2c3d.' + 'x'.repeat(43);
  const withToken = encodeHello({ ...base, token });
  t.is(withToken[HEADER_BYTES + 7] & HelloFlags.Extensions, HelloFlags.Extensions);
  t.like(parse(withToken)[0], { type: 'hello', cameraName: 'gate', token, window: 4 });
  const plain = encodeHello(base);
  t.is(plain.length, HEADER_BYTES + 11 + 4);
  t.is(plain[HEADER_BYTES + 7], 0);
  t.is((parse(plain)[0] as { token?: string }).token, undefined);
});

test('without the flag, bytes after the name stay ignored (v1.0 rule); unknown tags are skipped', (t) => {
  const hello = encodeHello({ ...base, token: 'secret-1' });
  const unflagged = Buffer.from(hello);
  unflagged[HEADER_BYTES + 7] &= ~HelloFlags.Extensions;
  t.is((parse(unflagged)[0] as { token?: string }).token, undefined, 'an old server sees no token');
  // An unknown field (tag 0x7f) before the token.
  const body = hello.subarray(HEADER_BYTES);
  const nameEnd = 11 + 4;
  const extra = Buffer.concat([body.subarray(0, nameEnd), Buffer.from([0x7f, 2, 9, 9]), body.subarray(nameEnd)]);
  const head = Buffer.from(hello.subarray(0, HEADER_BYTES));
  head.writeUInt32LE(extra.length, 4);
  t.like(parse(Buffer.concat([head, extra]))[0], { token: 'secret-1' });
});

test('a cut-short field or two tokens is MalformedMessage', (t) => {
  const hello = encodeHello({ ...base, token: 'abc' });
  const cut = Buffer.from(hello.subarray(0, hello.length - 1));
  cut.writeUInt32LE(cut.length - HEADER_BYTES, 4);
  const err = t.throws(() => parse(cut), { instanceOf: ProtocolError });
  t.is(err?.code, ErrorCode.MalformedMessage);
  t.regex(err?.message ?? '', /§3\.1\.1/);
  const twice = Buffer.concat([hello, Buffer.from([1, 3, 0x61, 0x62, 0x63])]);
  twice.writeUInt32LE(twice.length - HEADER_BYTES, 4);
  t.throws(() => parse(twice), { message: /two tokens/ });
});

test('v1.3 input policy: round-trips with the other fields; an old server skips it; a bad value or two policies are MalformedMessage', (t) => {
  for (const inputPolicy of ['fixed', 'native', 'tiled'] as const) {
    t.like(parse(encodeHello({ ...base, token: 'tok', wantsZones: true, inputPolicy }))[0], { type: 'hello', token: 'tok', wantsZones: true, inputPolicy });
  }
  const hello = encodeHello({ ...base, inputPolicy: 'tiled' });
  t.is(hello[HEADER_BYTES + 7] & HelloFlags.Extensions, HelloFlags.Extensions);
  // The field is tag 0x03, length 1, code 2 (tiled): the last three bytes.
  t.deepEqual([...hello.subarray(hello.length - 3)], [0x03, 1, 2]);
  t.is((parse(encodeHello(base))[0] as { inputPolicy?: string }).inputPolicy, undefined, 'absent: the server default');
  const withBody = (extra: Buffer): Buffer => {
    const out = Buffer.concat([hello.subarray(0, hello.length - 3), extra]);
    out.writeUInt32LE(out.length - HEADER_BYTES, 4);
    return out;
  };
  t.throws(() => parse(withBody(Buffer.from([0x03, 1, 3]))), { instanceOf: ProtocolError, message: /input policy/ });
  t.throws(() => parse(withBody(Buffer.from([0x03, 2, 1, 1]))), { instanceOf: ProtocolError, message: /input policy/ });
  t.throws(() => parse(withBody(Buffer.from([0x03, 0]))), { instanceOf: ProtocolError, message: /input policy/ });
  t.throws(() => parse(withBody(Buffer.from([0x03, 1, 1, 0x03, 1, 2]))), { instanceOf: ProtocolError, message: /two input policies/ });
});
