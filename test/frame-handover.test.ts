/**
 * A frame's bytes are copied once on the main thread, out of the received
 * chunks into a buffer of their own, and that buffer is moved (transferred)
 * to the worker, not copied again (issue 27: an 8 MB frame copied twice cost
 * ~50 ms of main thread and half a second of event-loop delay under load).
 * Moving is only safe for memory nothing else holds: these tests pin who may
 * be moved (a frame the parser took for it, not kept by the console) and
 * what never is (a slab of Node's Buffer pool, a view of a larger buffer).
 */
import test from 'ava';
import fc from 'fast-check';
import net from 'node:net';
import { V1Connection } from '../client/connection/connection.js';
import type { AnsweredFrame, ResultTap } from '../src/accept/result-tap.js';
import type { BatchRunner } from '../src/batcher/types.js';
import { encodeFrame, encodeHello, encodeLegacyFrame, LegacyFrameParser, LegacyReplyParser, ServerSideParser } from '../src/framing/index.js';
import { handOver, handOverAll } from '../src/workers/handover.js';
import type { BatchResult, FrameOutcome } from '../src/workers/types.js';
import { collectResults } from './helpers/results.js';
import { startServerWithRunner } from './helpers/server.js';

const MB = 1024 * 1024;

/** Spans a plain ArrayBuffer of its own, exactly: what may be moved to another thread. */
const ownsItsBuffer = (bytes: Uint8Array): boolean =>
  bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;

/** Deterministic bytes: frame i of n bytes. */
const pattern = (n: number, salt: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt) & 0xff;
  return b;
};

/** Cuts `bytes` at the given offsets (sorted, deduplicated, in range). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    // Copies, as a socket's reads are buffers of their own.
    if (c > from) out.push(Buffer.from(bytes.subarray(from, c)));
    from = c;
  }
  return out;
}

test('v1 and legacy parsers give every frame a buffer of its own, however the stream was split; moving one leaves the rest intact', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (sizes, cuts) => {
      const jpegs = sizes.map((n, i) => pattern(n, i));
      const v1 = Buffer.concat([
        encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 4, cameraName: 'cam' }),
        ...jpegs.map((jpeg, seq) => encodeFrame({ seq, captureTimeMs: seq, jpeg })),
      ]);
      const legacy = Buffer.concat(jpegs.map((jpeg) => encodeLegacyFrame(jpeg)));
      const v1Parser = new ServerSideParser({ maxFrameBytes: 1 << 20 });
      const fromV1 = split(v1, cuts)
        .flatMap((c) => v1Parser.push(c))
        .flatMap((m) => (m.type === 'frame' ? [m.jpeg] : []));
      const legacyParser = new LegacyFrameParser(1 << 20);
      const fromLegacy = split(legacy, cuts).flatMap((c) => legacyParser.push(c));
      for (const frames of [fromV1, fromLegacy]) {
        if (frames.length !== jpegs.length) return false;
        // Move each in turn (as Piscina's postMessage does); the ones after it must be untouched.
        for (let i = 0; i < frames.length; i++) {
          if (!ownsItsBuffer(frames[i]) || !Buffer.from(frames[i]).equals(jpegs[i])) return false;
          const moved = structuredClone(frames[i].buffer, { transfer: [frames[i].buffer as ArrayBuffer] });
          if (frames[i].byteLength !== 0 || !Buffer.from(moved).equals(jpegs[i])) return false;
        }
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('handOver moves only a buffer given away that fills a plain ArrayBuffer of its own; anything else is copied', (t) => {
  const own = Buffer.allocUnsafeSlow(10_000).fill(7);
  t.is(handOver(own, true), own.buffer, 'given away, whole: moved');
  t.not(handOver(own, false), own.buffer, 'not given away: copied');
  // A small Buffer lives in a slab of Node's pool beside other buffers: never moved.
  const pooled = Buffer.from('a pooled frame');
  t.true(pooled.buffer.byteLength > pooled.length);
  const copy = handOver(pooled, true);
  t.not(copy, pooled.buffer);
  t.is(Buffer.from(copy).toString(), 'a pooled frame');
  // A view of part of a buffer (a frame inside a received chunk): copied, the chunk untouched.
  const chunk = pattern(4096, 1);
  const view = chunk.subarray(100, 200);
  const viewCopy = handOver(view, true);
  t.not(viewCopy, chunk.buffer);
  t.true(Buffer.from(viewCopy).equals(chunk.subarray(100, 200)));
  // Shared memory is never moved.
  const shared = new Uint8Array(new SharedArrayBuffer(64)).fill(3);
  const fromShared = handOver(shared, true);
  t.true(fromShared instanceof ArrayBuffer);
  t.deepEqual([...new Uint8Array(fromShared)], [...shared]);
  t.deepEqual(
    handOverAll([own, pooled]).map((b) => b.byteLength),
    [10_000, pooled.length],
    'no movable flags: all copied',
  );
});

/**
 * Moves what it is given the way the worker pool does (handOverAll, then a
 * transfer, as Piscina posts the task) and answers with each frame's byte
 * sum, so a corrupted or emptied frame shows in the count.
 */
/**
 * Position-weighted, modulo a prime under 2^24 so it survives the RESULT's
 * float32 count exactly: reordered, shifted or changed bytes change it (a
 * plain byte sum would not see chunks swapped).
 */
const checksum = (b: Uint8Array): number => b.reduce((a, v, i) => (a + (i + 1) * v) % 16_777_213, 0);

class MovingRunner implements BatchRunner {
  readonly size = 1;
  /** Per frame: was it moved without a copy, and was the caller's view emptied by the move. */
  readonly seen: Array<{ moved: boolean; emptied: boolean }> = [];

  async runBatch(
    jpegs: readonly Uint8Array[],
    _motion?: readonly boolean[],
    _policies?: readonly unknown[],
    movable?: readonly boolean[],
  ): Promise<BatchResult> {
    const startedAtMs = Date.now();
    const buffers = handOverAll(jpegs, movable);
    const moved = buffers.map((b, i) => b === jpegs[i].buffer);
    const arrived = structuredClone(buffers, { transfer: buffers });
    jpegs.forEach((j, i) => this.seen.push({ moved: moved[i], emptied: j.byteLength === 0 }));
    const densities = new Float32Array(jpegs.length);
    const outcomes: FrameOutcome[] = arrived.map((b, i) => {
      const sum = checksum(new Uint8Array(b));
      densities[i] = sum;
      return { ok: true, count: sum, decodeUs: 1, height: 1, width: 1, densityOffset: i };
    });
    await new Promise((resolve) => setImmediate(resolve));
    return { outcomes, densities, inferUs: 1, startedAtMs, batchSize: jpegs.length };
  }
}

test('frames reach the worker moved, not copied, whole and correct: a small one, a 3 MB one over many reads, and over legacy', async (t) => {
  const runner = new MovingRunner();
  const { port } = await startServerWithRunner(t, runner);
  const frames = [pattern(2000, 1), pattern(3 * MB, 2), pattern(70_000, 3)];
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'cam', window: 4 });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, frames.length);
  for (const f of frames) conn.send(f);
  const got = await results;
  t.deepEqual(
    got.map((r) => r.count),
    frames.map(checksum),
    'every frame arrived whole',
  );

  const legacy = net.connect(port, '127.0.0.1');
  t.teardown(() => legacy.destroy());
  const parser = new LegacyReplyParser();
  const big = pattern(2 * MB, 4);
  const answered = new Promise<number>((resolve) => legacy.on('data', (c: Buffer) => parser.push(c).forEach((m) => resolve(m.values[0]))));
  legacy.write(encodeLegacyFrame(big));
  t.is(await answered, checksum(big));

  t.is(runner.seen.length, 4);
  t.true(
    runner.seen.every((s) => s.moved && s.emptied),
    `every frame moved (its buffer transferred, the server's view emptied): ${JSON.stringify(runner.seen)}`,
  );
});

test('a frame the console keeps for its watchers is copied to the worker, not moved: the watchers get it whole', async (t) => {
  const runner = new MovingRunner();
  const answered: AnsweredFrame[] = [];
  const tap: ResultTap = {
    watching: true,
    wantsJpeg: true,
    cameraOpened: () => undefined,
    answered: (f) => answered.push(f),
    cameraClosed: () => undefined,
  };
  const { port } = await startServerWithRunner(t, runner, { tap });
  const frame = pattern(MB, 5);
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'watched' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(frame);
  const [r] = await results;
  t.is(r.count, checksum(frame));
  t.deepEqual(runner.seen, [{ moved: false, emptied: false }]);
  t.is(answered.length, 1);
  t.true(Buffer.from(answered[0].jpeg ?? new Uint8Array(0)).equals(frame), 'the console got the frame as received');
});
