/**
 * Structure-aware inputs for the parsers and codecs, shared by the property
 * tests (bounded runs in the suite) and the fuzz campaign (bench/fuzz.ts):
 * valid client streams, the same with one field corrupted, random splits.
 */
import fc from 'fast-check';
import {
  DensityFormat,
  encodeBye,
  encodeFrame,
  encodeHello,
  encodeLegacyFrame,
  HEADER_BYTES,
  type DensityFormatCode,
} from '../src/framing/index.js';

export const densityFormat: fc.Arbitrary<DensityFormatCode> = fc.constantFrom(
  DensityFormat.Float32,
  DensityFormat.Float16,
  DensityFormat.Uint8Scaled,
  DensityFormat.None,
);

const hello = fc
  .record({
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    densityFormat,
    countOnly: fc.boolean(),
    window: fc.integer({ min: 0, max: 0xffff }),
    cameraName: fc.string({ maxLength: 40, unit: 'binary' }),
  })
  .map((m) => encodeHello(m));

const frame = (seq: number): fc.Arbitrary<Buffer> =>
  fc.record({ captureTimeMs: fc.double(), jpeg: fc.uint8Array({ minLength: 1, maxLength: 300 }) }).map((m) => encodeFrame({ seq, captureTimeMs: m.captureTimeMs, jpeg: m.jpeg }));

/** A valid v1 client stream: HELLO, 0-8 FRAMEs with increasing seq, maybe BYE. */
export const validClientStream: fc.Arbitrary<Buffer> = fc
  .tuple(hello, fc.integer({ min: 0, max: 8 }), fc.boolean())
  .chain(([h, n, bye]) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => frame(i * 3))).map((frames) => Buffer.concat([h, ...frames, ...(bye ? [encodeBye()] : [])])),
  );

/** One corruption of a stream: overwrite a byte, a header field, truncate, or splice garbage. */
export const mutation: fc.Arbitrary<(bytes: Buffer) => Buffer> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => (b: Buffer) => {
    const out = Buffer.from(b);
    if (out.length > 0) out[at % out.length] = value;
    return out;
  }),
  // A header field: the length word of the message starting at a header boundary guess.
  fc.tuple(fc.nat(), fc.constantFrom(0, 0xffffffff, 0x7fffffff, 1, 12, 4096, 4097), fc.nat(8)).map(([at, value, field]) => (b: Buffer) => {
    const out = Buffer.from(b);
    const start = Math.max(0, (at % Math.max(1, out.length)) - (at % HEADER_BYTES));
    if (start + 8 <= out.length) {
      if (field < 4) out.writeUInt32LE(value >>> 0, start + 4);
      else out.writeUInt8(value & 0xff, start + (field % 4));
    }
    return out;
  }),
  fc.nat().map((at) => (b: Buffer) => b.subarray(0, b.length === 0 ? 0 : at % b.length)),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, junk]) => (b: Buffer) => {
    const cut = b.length === 0 ? 0 : at % b.length;
    return Buffer.concat([b.subarray(0, cut), junk, b.subarray(cut)]);
  }),
);

export const mutatedClientStream: fc.Arbitrary<Buffer> = fc.tuple(validClientStream, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));

/** Cut points for splitting a stream into chunks (sorted, within the stream). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

export const splits = fc.array(fc.nat(), { maxLength: 12 });

/** A legacy stream: frames with space-padded decimal headers, sometimes corrupted. */
export const legacyStream: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 6 }), fc.option(mutation, { nil: undefined }))
  .map(([jpegs, m]) => {
    const valid = Buffer.concat(jpegs.map((j) => encodeLegacyFrame(j)));
    return m ? m(valid) : valid;
  });

/** Density maps with the awkward values: NaN, infinities, negatives, subnormals, huge. */
export const densityValues: fc.Arbitrary<Float32Array> = fc.float32Array({ maxLength: 200 });
