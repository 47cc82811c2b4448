/**
 * Fuzz campaign (issue 8): structure-aware generated and mutated inputs
 *  1. through the parsers, codecs and JPEG inspector in-process (--parser-inputs,
 *     default 1,000,000), and
 *  2. through a live `crowdline serve` child process (--live-inputs, default
 *     100,000): mutated JPEGs as FRAMEs on pipelined v1 connections, plus
 *     mutated v1 and legacy streams each on a fresh connection, with a canary
 *     camera checking the server still answers correctly throughout.
 * Reports inputs/s and every crash (an exception other than a ProtocolError or
 * JpegRejected, or the server process dying) or hang (an input or connection
 * taking longer than --hang-ms). Failing inputs are written to --save-dir;
 * copy them into test/fixtures/fuzz-regressions/ so the suite replays them.
 *
 *   node dist/bench/fuzz.js [--parser-inputs 1000000] [--live-inputs 100000] [--seed 1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { V1Connection } from '../client/connection/connection.js';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import {
  ClientSideParser,
  decodeDensity,
  DensityFormat,
  encodeDensity,
  FrameStatus,
  LegacyFrameParser,
  ProtocolError,
  ServerSideParser,
} from '../src/framing/index.js';
import { checkJpegLimits, DEFAULT_JPEG_LIMITS, inspectJpeg, JpegRejected } from '../src/workers/jpeg-inspect.js';
import { densityValues, jpegCorpus, legacyStream, mutatedClientStream, mutatedJpeg, mutatedServerStream, splitAt, splits } from './fuzz-inputs.js';
import { startChildServer } from './server-process.js';

const argv = yargs(hideBin(process.argv))
  .option('parser-inputs', { type: 'number', default: 1_000_000 })
  .option('live-inputs', { type: 'number', default: 100_000 })
  .option('seed', { type: 'number', default: 1 })
  .option('hang-ms', { type: 'number', default: 10_000, describe: 'an input or connection slower than this counts as a hang' })
  .option('save-dir', { type: 'string', default: 'bench-results/fuzz-failures' })
  .option('model', { type: 'string', default: DEFAULT_MODEL_PATH })
  .strict()
  .parseSync();

interface Finding {
  target: string;
  kind: 'crash' | 'hang';
  detail: string;
  input: Buffer;
}
const findings: Finding[] = [];

function record(target: string, kind: Finding['kind'], detail: string, input: Buffer): void {
  findings.push({ target, kind, detail, input });
  mkdirSync(argv['save-dir'], { recursive: true });
  writeFileSync(path.join(argv['save-dir'], `${target}-${kind}-${findings.length}.bin`), input);
  process.stderr.write(`FINDING ${target} ${kind}: ${detail}\n`);
}

/** Draws `total` values from `arb` in batches (a fresh seed per batch keeps memory flat). */
function* draw<T>(arb: fc.Arbitrary<T>, total: number, seed: number): Generator<T> {
  const batch = 5_000;
  for (let done = 0, k = 0; done < total; k++) {
    const n = Math.min(batch, total - done);
    for (const value of fc.sample(arb, { numRuns: n, seed: seed * 1_000_003 + k })) yield value;
    done += n;
  }
}

const expected = (err: unknown): boolean => err instanceof ProtocolError || err instanceof JpegRejected;

/** One in-process target: feed every input, time each, keep what crashes or hangs. */
function runTarget<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  total: number,
  run: (input: T) => void,
  bytesOf: (input: T) => Buffer,
): { name: string; inputs: number; perSecond: number } {
  const t0 = performance.now();
  let count = 0;
  for (const input of draw(arb, total, argv.seed)) {
    const s = performance.now();
    try {
      run(input);
    } catch (err) {
      if (!expected(err)) record(name, 'crash', err instanceof Error ? (err.stack ?? err.message) : String(err), bytesOf(input));
    }
    const took = performance.now() - s;
    if (took > argv['hang-ms']) record(name, 'hang', `${took.toFixed(0)} ms`, bytesOf(input));
    count++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { name, inputs: count, perSecond: Math.round(count / seconds) };
}

function parserCampaign(total: number): Array<{ name: string; inputs: number; perSecond: number }> {
  const corpus = jpegCorpus();
  const share = (fraction: number): number => Math.round(total * fraction);
  return [
    runTarget(
      'v1-server-parser',
      fc.tuple(mutatedClientStream, splits),
      share(0.4),
      ([bytes, cuts]) => {
        const parser = new ServerSideParser({ maxFrameBytes: 1 << 20 });
        for (const chunk of splitAt(bytes, cuts)) {
          parser.feed(chunk);
          while (parser.next() !== undefined);
        }
      },
      ([bytes]) => bytes,
    ),
    runTarget(
      'legacy-parser',
      fc.tuple(legacyStream, splits),
      share(0.2),
      ([bytes, cuts]) => {
        const parser = new LegacyFrameParser(1 << 20);
        for (const chunk of splitAt(bytes, cuts)) {
          parser.feed(chunk);
          while (parser.next() !== undefined);
        }
      },
      ([bytes]) => bytes,
    ),
    runTarget(
      'client-parser',
      fc.tuple(mutatedServerStream, splits),
      share(0.1),
      ([bytes, cuts]) => {
        const parser = new ClientSideParser({ maxResultBytes: 1 << 20 });
        for (const chunk of splitAt(bytes, cuts)) parser.push(chunk);
      },
      ([bytes]) => bytes,
    ),
    runTarget(
      'density-codec',
      fc.tuple(densityValues, fc.constantFrom(DensityFormat.Float32, DensityFormat.Float16, DensityFormat.Uint8Scaled)),
      share(0.1),
      ([values, format]) => {
        const { bytes, scale } = encodeDensity(values, format);
        const back = decodeDensity(bytes, format, values.length, scale);
        if (format === DensityFormat.Uint8Scaled && !back.every(Number.isFinite)) throw new Error('u8 decoded a non-finite value');
      },
      ([values]) => Buffer.from(values.buffer, values.byteOffset, values.byteLength),
    ),
    runTarget(
      'jpeg-inspector',
      mutatedJpeg(corpus),
      share(0.2),
      (bytes) => checkJpegLimits(inspectJpeg(bytes), DEFAULT_JPEG_LIMITS),
      (bytes) => bytes,
    ),
  ];
}

/** Writes `bytes` on a fresh connection; resolves when the server closes it (or records a hang). */
function oneShot(port: number, bytes: Buffer, target: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      record(target, 'hang', `connection still open after ${argv['hang-ms']} ms`, bytes);
      socket.destroy();
    }, argv['hang-ms']);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    // Then half-close: a server must answer what it accepted and close.
    socket.end(bytes);
  });
}

async function liveCampaign(total: number): Promise<{ inputs: number; perSecond: number; frames: Record<string, number>; serverStatus: string }> {
  const server = await startChildServer({
    model: argv.model,
    device: 'cpu',
    workers: 2,
    inputSize: '64x48',
    maxBatch: 1,
    maxBatchDelayMs: 1,
    overload: 'queue',
    window: 16,
    extraArgs: ['--max-connections', '256', '--max-connections-per-ip', '256', '--log-burst', '5'],
  });
  const corpus = jpegCorpus();
  const frames: Record<string, number> = { ok: 0, 'frame-error': 0, other: 0 };
  const t0 = performance.now();
  let inputs = 0;
  const jpegInputs = Math.round(total * 0.8);
  const streamInputs = total - jpegInputs;

  // A canary camera: known frames, every reply must be ok and in order.
  const canary = await V1Connection.connect({ host: server.host, port: server.port, cameraName: 'canary', window: 1 });
  let canaryBad = 0;
  let canarySeq = 0;
  canary.on('result', (r) => {
    if (r.status !== FrameStatus.Ok || r.seq !== canarySeq++) canaryBad++;
    canary.send(corpus[1]);
  });
  canary.send(corpus[1]);

  // 1. Mutated JPEGs as FRAMEs on 4 pipelined connections.
  const lanes = 4;
  const perLane = Math.ceil(jpegInputs / lanes);
  const jpegs = draw(mutatedJpeg(corpus), jpegInputs, argv.seed + 1);
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const conn = await V1Connection.connect({ host: server.host, port: server.port, cameraName: `fuzz-${lane}`, window: 16 });
      const sent: Buffer[] = [];
      let answered = 0;
      await new Promise<void>((resolve, reject) => {
        let watchdog = setTimeout(() => undefined, 0);
        const arm = (): void => {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => reject(new Error(`lane ${lane}: no reply for ${argv['hang-ms']} ms`)), argv['hang-ms']);
        };
        const pump = (): void => {
          while (sent.length - answered < 16 && sent.length < perLane) {
            const next = jpegs.next();
            if (next.done) break;
            sent.push(next.value);
            conn.send(next.value);
          }
          if (answered >= sent.length) {
            clearTimeout(watchdog);
            resolve();
          }
        };
        conn.on('result', (r) => {
          arm();
          const key = r.status === FrameStatus.Ok ? 'ok' : r.status === FrameStatus.FrameError ? 'frame-error' : 'other';
          frames[key]++;
          if (key === 'other') record('live-jpeg', 'crash', `status ${r.status}: ${r.reason ?? ''}`, sent[answered]);
          sent[answered] = Buffer.alloc(0); // keep memory flat
          answered++;
          inputs++;
          pump();
        });
        conn.on('close', (err) => (answered < sent.length ? reject(new Error(`lane ${lane} closed: ${err?.message ?? 'by server'}`)) : undefined));
        arm();
        pump();
      }).catch((err: Error) =>
        record(
          'live-jpeg',
          server.exitStatus() ? 'crash' : 'hang',
          `${err.message}; server ${server.exitStatus() ?? 'alive'}`,
          sent[answered] ?? Buffer.alloc(0),
        ),
      );
      conn.destroy();
    }),
  );

  // 2. Mutated v1 and legacy streams, each on its own connection, 32 at a time.
  const streams = draw(fc.oneof(mutatedClientStream, legacyStream), streamInputs, argv.seed + 2);
  const inFlight = new Set<Promise<void>>();
  for (const bytes of streams) {
    const p = oneShot(server.port, bytes, 'live-stream').then(() => {
      inputs++;
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= 32) await Promise.race(inFlight);
    if (server.exitStatus()) {
      record('live-stream', 'crash', `server ${server.exitStatus()}`, bytes);
      break;
    }
  }
  await Promise.all(inFlight);
  canary.destroy();
  if (canaryBad > 0) record('live-canary', 'crash', `${canaryBad} canary replies wrong or out of order`, Buffer.alloc(0));
  const perSecond = Math.round(inputs / ((performance.now() - t0) / 1000));
  const serverStatus = server.exitStatus() ?? 'alive';
  if (serverStatus !== 'alive') process.stderr.write(server.stderrTail().join('\n') + '\n');
  await server.stop();
  return { inputs, perSecond, frames, serverStatus };
}

const parser = parserCampaign(argv['parser-inputs']);
for (const t of parser) console.log(`${t.name.padEnd(18)} ${String(t.inputs).padStart(9)} inputs  ${String(t.perSecond).padStart(7)} /s`);
const parserTotal = parser.reduce((a, t) => a + t.inputs, 0);
console.log(`parsers total      ${String(parserTotal).padStart(9)} inputs`);
if (argv['live-inputs'] > 0) {
  const live = await liveCampaign(argv['live-inputs']);
  console.log(
    `live server        ${String(live.inputs).padStart(9)} inputs  ${String(live.perSecond).padStart(7)} /s  (frames ok ${live.frames.ok}, frame-error ${live.frames['frame-error']}, other ${live.frames.other}; server ${live.serverStatus})`,
  );
}
console.log(
  `findings: ${findings.length} (${findings.filter((f) => f.kind === 'crash').length} crashes, ${findings.filter((f) => f.kind === 'hang').length} hangs)`,
);
process.exit(findings.length === 0 ? 0 : 1);
