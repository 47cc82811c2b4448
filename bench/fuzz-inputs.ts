/**
 * Structure-aware inputs for the parsers and codecs, shared by the property
 * tests (bounded runs in the suite) and the fuzz campaign (bench/fuzz.ts):
 * valid client streams, the same with one field corrupted, random splits.
 */
import jpeg from '@julusian/jpeg-turbo';
import fc from 'fast-check';
import {
  DensityFormat,
  encodeBye,
  encodeFrame,
  encodeHello,
  encodeLegacyFrame,
  encodeResult,
  encodeWelcome,
  FrameStatus,
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
  fc
    .record({ captureTimeMs: fc.double(), jpeg: fc.uint8Array({ minLength: 1, maxLength: 300 }) })
    .map((m) => encodeFrame({ seq, captureTimeMs: m.captureTimeMs, jpeg: m.jpeg }));

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

export const mutatedClientStream: fc.Arbitrary<Buffer> = fc
  .tuple(validClientStream, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));

/** A server stream (WELCOME, RESULTs with maps of awkward values in every format) with 0-2 corruptions. */
export const mutatedServerStream: fc.Arbitrary<Buffer> = fc
  .tuple(densityFormat, fc.array(fc.float32Array({ maxLength: 200 }), { maxLength: 4 }), fc.array(mutation, { maxLength: 2 }))
  .map(([format, maps, ms]) => {
    const valid = Buffer.concat([
      encodeWelcome({
        version: 1,
        densityFormat: format,
        countOnly: false,
        window: 4,
        maxFrameBytes: 1000,
        inputWidth: 64,
        inputHeight: 48,
        outputStride: 8,
        modelName: 'm',
        provider: 'cpu',
      }),
      ...maps.map((values, seq) =>
        encodeResult({
          seq,
          status: FrameStatus.Ok,
          captureTimeMs: 0,
          count: 1,
          timings: { queueUs: 0, decodeUs: 0, inferUs: 0, serverUs: 0 },
          densityFormat: format,
          density: format === DensityFormat.None ? undefined : { height: 1, width: values.length, values },
        }),
      ),
    ]);
    return ms.reduce<Buffer>((acc, m) => m(acc), valid);
  });

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

/** Small real JPEGs (grey and colour, every subsampling) to mutate. */
export function jpegCorpus(): Buffer[] {
  const out: Buffer[] = [];
  const shapes: Array<[number, number]> = [
    [32, 24],
    [64, 48],
    [80, 60],
    [17, 9],
  ];
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (const [width, height] of shapes) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i % 97) * 2 + (rand() & 31);
    const grey = Buffer.alloc(width * height);
    for (let i = 0; i < grey.length; i++) grey[i] = (i * 7) & 0xff;
    for (const subsampling of [jpeg.SAMP_444, jpeg.SAMP_420, jpeg.SAMP_422]) {
      out.push(jpeg.compressSync(rgb, { format: jpeg.FORMAT_RGB, width, height, quality: 80, subsampling }));
    }
    out.push(jpeg.compressSync(grey, { format: jpeg.FORMAT_GRAY, width, height, quality: 90, subsampling: jpeg.SAMP_GRAY }));
  }
  return out;
}

/** Offsets of every marker segment (FFxx with a length) before the first scan. */
function segments(bytes: Buffer): number[] {
  const out: number[] = [];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    out.push(at);
    if (bytes[at + 1] === 0xda) break;
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return out;
}

/** JPEG-aware corruptions: header bytes, frame dimensions, segment lengths, duplicated or dropped segments. */
export const jpegMutation: fc.Arbitrary<(bytes: Buffer) => Buffer> = fc.oneof(
  mutation,
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => (b: Buffer) => {
    const out = Buffer.from(b);
    const header = segments(out);
    const end = header.length > 0 ? header[header.length - 1] + 4 : out.length;
    out[at % Math.max(1, end)] = value;
    return out;
  }),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([w, h]) => (b: Buffer) => {
    const out = Buffer.from(b);
    const sof = segments(out).find((at) => out[at + 1] >= 0xc0 && out[at + 1] <= 0xc2);
    if (sof !== undefined && sof + 9 <= out.length) {
      out.writeUInt16BE(h, sof + 5);
      out.writeUInt16BE(w, sof + 7);
    }
    return out;
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffff })).map(([which, length]) => (b: Buffer) => {
    const out = Buffer.from(b);
    const segs = segments(out);
    const at = segs.length > 0 ? segs[which % segs.length] + 2 : out.length;
    if (at + 2 <= out.length) out.writeUInt16BE(length, at);
    return out;
  }),
  fc.tuple(fc.nat(), fc.boolean()).map(([which, duplicate]) => (b: Buffer) => {
    const segs = segments(b);
    if (segs.length < 2) return b;
    const k = which % (segs.length - 1);
    const seg = b.subarray(segs[k], segs[k + 1]);
    const before = b.subarray(0, segs[k]);
    const after = b.subarray(segs[k + 1]);
    return Buffer.concat(duplicate ? [before, seg, seg, after] : [before, after]);
  }),
);

/** A mutated JPEG, never empty (a FRAME must carry at least one byte, §3.3). */
export const mutatedJpeg = (corpus: Buffer[]): fc.Arbitrary<Buffer> =>
  fc
    .tuple(fc.constantFrom(...corpus), fc.array(jpegMutation, { minLength: 1, maxLength: 3 }))
    .map(([j, ms]) => ms.reduce<Buffer>((acc, m) => m(acc), j))
    .map((b) => (b.length > 0 ? b : Buffer.from([0xff])));
