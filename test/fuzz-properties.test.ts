/**
 * Property tests (fast-check, bounded runs) for everything that reads peer
 * bytes: both parsers, the density codecs, the byte queue and the JPEG
 * inspector. bench/fuzz.ts runs the same generators a million times.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  ClientSideParser,
  decodeDensity,
  DensityFormat,
  encodeDensity,
  LegacyFrameParser,
  ProtocolError,
  ServerSideParser,
  type ClientMessage,
} from '../src/framing/index.js';
import { ByteQueue } from '../src/framing/byte-queue.js';
import { inspectJpeg, JpegRejected } from '../src/workers/jpeg-inspect.js';
import { densityValues, legacyStream, mutatedClientStream, mutatedServerStream, mutation, splitAt, splits, validClientStream } from '../bench/fuzz-inputs.js';
import { blockPatternJpeg } from './helpers/images.js';

const RUNS = { numRuns: 300 };
const MAX_FRAME = 1024;

/** Messages until the first violation, and the violation (if any). */
function parseAll(chunks: Buffer[]): { messages: ClientMessage[]; error: ProtocolError | undefined; maxBuffered: number } {
  const parser = new ServerSideParser({ maxFrameBytes: MAX_FRAME });
  const messages: ClientMessage[] = [];
  let maxBuffered = 0;
  try {
    for (const chunk of chunks) {
      parser.feed(chunk);
      for (let m = parser.next(); m !== undefined; m = parser.next()) messages.push(m);
      maxBuffered = Math.max(maxBuffered, parser.buffered);
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { messages, error: err, maxBuffered };
  }
  return { messages, error: undefined, maxBuffered };
}

const normalise = (messages: ClientMessage[]): unknown[] => messages.map((m) => (m.type === 'frame' ? { ...m, jpeg: Buffer.from(m.jpeg).toString('hex') } : m));

test('v1 server parser: any split of a valid stream gives the same messages, no error', (t) => {
  fc.assert(
    fc.property(validClientStream, splits, (bytes, cuts) => {
      const whole = parseAll([bytes]);
      const split = parseAll(splitAt(bytes, cuts));
      return whole.error === undefined && split.error === undefined && JSON.stringify(normalise(split.messages)) === JSON.stringify(normalise(whole.messages));
    }),
    RUNS,
  );
  t.pass();
});

test('v1 server parser: corrupted streams give messages then a ProtocolError, identically for every split, with bounded buffering', (t) => {
  fc.assert(
    fc.property(mutatedClientStream, splits, (bytes, cuts) => {
      const whole = parseAll([bytes]);
      const split = parseAll(splitAt(bytes, cuts));
      // Same messages and same verdict whatever the split; never more buffered than one maximal FRAME body.
      return (
        JSON.stringify(normalise(split.messages)) === JSON.stringify(normalise(whole.messages)) &&
        (split.error?.message ?? '') === (whole.error?.message ?? '') &&
        split.maxBuffered <= MAX_FRAME + 12
      );
    }),
    RUNS,
  );
  t.pass();
});

test('legacy parser: any input gives JPEGs or a ProtocolError, identically for every split', (t) => {
  const run = (chunks: Buffer[]): string => {
    const parser = new LegacyFrameParser(MAX_FRAME);
    const out: string[] = [];
    try {
      for (const c of chunks) {
        parser.feed(c);
        for (let j = parser.next(); j !== undefined; j = parser.next()) out.push(j.toString('hex'));
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      out.push(`error: ${err.message}`);
    }
    return out.join('|');
  };
  fc.assert(
    fc.property(legacyStream, splits, (bytes, cuts) => run([bytes]) === run(splitAt(bytes, cuts))),
    RUNS,
  );
  t.pass();
});

test('client parser: corrupted server streams give messages or a ProtocolError, never anything else', (t) => {
  fc.assert(
    fc.property(mutatedServerStream, splits, (bytes, cuts) => {
      const parser = new ClientSideParser({ maxResultBytes: 1 << 20 });
      try {
        for (const c of splitAt(bytes, cuts)) parser.push(c);
      } catch (err) {
        return err instanceof ProtocolError;
      }
      return true;
    }),
    RUNS,
  );
  t.pass();
});

test('density codecs: f32 is bit-exact, f16 within half precision, u8 always finite and never above the largest finite value', (t) => {
  fc.assert(
    fc.property(densityValues, (values) => {
      const f32 = decodeDensity(encodeDensity(values, DensityFormat.Float32).bytes, DensityFormat.Float32, values.length, 1);
      if (!values.every((v, i) => Object.is(v, f32[i]) || (Number.isNaN(v) && Number.isNaN(f32[i])))) return false;
      const f16 = decodeDensity(encodeDensity(values, DensityFormat.Float16).bytes, DensityFormat.Float16, values.length, 1);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (Number.isNaN(v)) {
          if (!Number.isNaN(f16[i])) return false;
        } else if (Math.abs(v) <= 65504 && Math.abs(v) >= 6.1e-5) {
          if (Math.abs(f16[i] - v) > Math.abs(v) * 2 ** -11) return false;
        }
      }
      const u8 = encodeDensity(values, DensityFormat.Uint8Scaled);
      if (!Number.isFinite(u8.scale)) return false;
      const decoded = decodeDensity(u8.bytes, DensityFormat.Uint8Scaled, values.length, u8.scale);
      const maxFinite = values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);
      return decoded.every((d) => Number.isFinite(d) && d >= 0 && d <= maxFinite * (1 + 1e-6) + 1e-30);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('u8 density: one Inf no longer turns every cell into NaN; NaN and negatives are 0', (t) => {
  const values = new Float32Array([0.5, Infinity, NaN, -1, 1]);
  const { bytes, scale } = encodeDensity(values, DensityFormat.Uint8Scaled);
  t.is(scale, 1 / 255);
  t.deepEqual([...bytes], [128, 255, 0, 0, 255]);
});

test('byte queue: any sequence of pushes and takes matches a plain buffer, and tiny chunks are coalesced', (t) => {
  const op = fc.oneof(
    fc.record({ push: fc.uint8Array({ minLength: 0, maxLength: 5000 }) }),
    fc.record({ take: fc.nat(6000) }),
    fc.record({ takeOwned: fc.nat(6000) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const queue = new ByteQueue();
      let model = Buffer.alloc(0);
      for (const o of ops) {
        if ('push' in o) {
          queue.push(Buffer.from(o.push));
          model = Buffer.concat([model, o.push]);
        } else if ('take' in o) {
          const n = Math.min(o.take, model.length);
          if (!queue.take(n).equals(model.subarray(0, n))) return false;
          model = model.subarray(n);
        } else {
          const n = Math.min(o.takeOwned, model.length);
          const owned = queue.takeOwned(n);
          // A buffer of its own, exactly the bytes: safe to move to another thread.
          if (owned.byteOffset !== 0 || owned.buffer.byteLength !== n || !owned.equals(model.subarray(0, n))) return false;
          model = model.subarray(n);
        }
        if (queue.length !== model.length) return false;
      }
      return model.length === 0 || queue.peekByte(0) === model[0];
    }),
    RUNS,
  );
  const queue = new ByteQueue();
  for (let i = 0; i < 100_000; i++) queue.push(Buffer.from([i & 0xff]));
  t.is(queue.length, 100_000);
  t.true(queue.chunkCount <= 100_000 / 4096 + 2, `${queue.chunkCount} chunks for 100,000 one-byte pushes`);
  const all = queue.take(100_000);
  t.is(all[99_999], 99_999 & 0xff);
});

test('JPEG inspector: mutated real JPEGs are accepted with sane dimensions or rejected with a reason, never a crash', (t) => {
  const jpegs = [blockPatternJpeg(64, 48, 8), blockPatternJpeg(40, 24, 4, { colour: true })];
  fc.assert(
    fc.property(fc.constantFrom(...jpegs), fc.array(mutation, { minLength: 1, maxLength: 3 }), (jpeg, ms) => {
      const bytes = ms.reduce<Buffer>((acc, m) => m(acc), jpeg);
      try {
        const info = inspectJpeg(bytes);
        return info.width >= 1 && info.height >= 1 && info.width <= 65535 && info.height <= 65535 && info.scans >= 1;
      } catch (err) {
        return err instanceof JpegRejected && err.message.length > 0;
      }
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('JPEG inspector: names what is wrong', (t) => {
  const jpeg = blockPatternJpeg(64, 48, 8);
  t.throws(() => inspectJpeg(Buffer.from('GIF89a')), { message: /SOI marker/ });
  t.throws(() => inspectJpeg(jpeg.subarray(0, jpeg.length - 2)), { message: /no EOI marker|truncated/ });
  const twelveBit = Buffer.from(jpeg);
  const sof = twelveBit.indexOf(Buffer.from([0xff, 0xc0]));
  twelveBit[sof + 4] = 12;
  t.throws(() => inspectJpeg(twelveBit), { message: /12-bit samples/ });
  const lossless = Buffer.from(jpeg);
  lossless[sof + 1] = 0xc3;
  t.throws(() => inspectJpeg(lossless), { message: /lossless/ });
  t.like(inspectJpeg(jpeg), { width: 64, height: 48, components: 1, progressive: false, scans: 1 });
});
