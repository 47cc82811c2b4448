/**
 * Soak (issue 8): 64 connections against a `crowdline serve` child process
 * until --frames frames have been answered on well-behaved connections.
 * Every connection slot loops through lives of one kind, drawn at random:
 *   good        HELLO, 5-60 frames in a window of 4, BYE: every reply checked
 *   disconnect  like good, but the socket is destroyed after a random frame
 *   mid-frame   HELLO, some frames, then half a FRAME and a close
 *   garbage     random bytes (v1- or legacy-looking first byte, or neither)
 * It reports replies lost or misordered on the good connections (must be 0),
 * the server's RSS at start and end and along the way, its event-loop delay,
 * and the attack counts. Slots connect from 127.0.0.2-127.0.0.5 so the
 * per-address limit is exercised with its default.
 *
 *   node dist/bench/soak.js [--connections 64] [--frames 20000] [--seed 1]
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { V1Connection } from '../client/connection/connection.js';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { encodeFrameHead, encodeHello, FrameStatus } from '../src/framing/index.js';
import { jpegCorpus } from './fuzz-inputs.js';
import { scrape, windowQuantile, type Samples } from './scrape.js';
import { startChildServer } from './server-process.js';

const argv = yargs(hideBin(process.argv))
  .option('connections', { type: 'number', default: 64 })
  .option('frames', { type: 'number', default: 20_000, describe: 'stop once this many frames were answered on good connections' })
  .option('seed', { type: 'number', default: 1 })
  .option('model', { type: 'string', default: DEFAULT_MODEL_PATH })
  .option('input-size', { type: 'string', default: '128x96', describe: 'network input (small, so the soak exercises the server rather than the model)' })
  .strict()
  .parseSync();

let state = argv.seed >>> 0 || 1;
const random = (): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x100000000;
};
const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

const counts = { good: 0, disconnect: 0, midFrame: 0, garbage: 0, refused: 0 };
const good = { sent: 0, answered: 0, lost: 0, misordered: 0, notOk: 0 };
const corpus = jpegCorpus();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One well-behaved life; with `cutAfter`, the socket is destroyed after that many frames (not checked). */
async function goodLife(port: number, localAddress: string, cutAfter: number | undefined): Promise<void> {
  let conn: V1Connection;
  try {
    conn = await V1Connection.connect({ host: '127.0.0.1', port, localAddress, cameraName: `soak-${localAddress}`, window: 4, connectTimeoutMs: 30_000 });
  } catch {
    counts.refused++;
    return;
  }
  const n = between(5, 60);
  let sent = 0;
  let expectSeq = 0;
  let answered = 0;
  let bad = 0;
  let notOk = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < n && sent - answered < 4) {
        if (cutAfter !== undefined && sent >= cutAfter) {
          conn.destroy();
          return;
        }
        conn.send(corpus[sent % corpus.length]);
        sent++;
      }
      if (sent === n && answered === n) conn.bye();
    };
    conn.on('result', (r) => {
      if (r.seq !== expectSeq) bad++;
      expectSeq = r.seq + 1;
      if (r.status !== FrameStatus.Ok) notOk++;
      answered++;
      pump();
    });
    conn.on('close', () => resolve());
    pump();
  });
  if (cutAfter !== undefined) {
    counts.disconnect++;
    return;
  }
  counts.good++;
  good.sent += n;
  good.answered += answered;
  good.lost += n - answered;
  good.misordered += bad;
  good.notOk += notOk;
}

/** Writes `bytes` then either closes (mid-frame) or waits for the server to close (garbage). */
function hostileLife(port: number, localAddress: string, bytes: Buffer, closeAfterWrite: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(bytes);
      if (closeAfterWrite) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.setTimeout(30_000, () => socket.destroy());
    socket.on('close', () => resolve());
  });
}

function midFrameBytes(): Buffer {
  const frames = Array.from({ length: between(0, 3) }, (_, i) => Buffer.concat([encodeFrameHead(i, 0, corpus[0].length), corpus[0]]));
  const half = Buffer.concat([encodeFrameHead(99, 0, corpus[1].length), corpus[1]]);
  return Buffer.concat([
    encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 4, cameraName: 'mid' }),
    ...frames,
    half.subarray(0, between(1, half.length - 1)),
  ]);
}

function garbageBytes(): Buffer {
  const bytes = Buffer.alloc(between(1, 2000));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  const first = random();
  if (first < 0.33)
    bytes[0] = 0x01; // looks like v1
  else if (first < 0.66) bytes[0] = 0x31; // looks like legacy
  return bytes;
}

async function slot(port: number, index: number, done: () => boolean): Promise<void> {
  const localAddress = `127.0.0.${2 + (index % 4)}`;
  while (!done()) {
    const roll = random();
    if (roll < 0.7) await goodLife(port, localAddress, undefined);
    else if (roll < 0.8) await goodLife(port, localAddress, between(1, 20));
    else if (roll < 0.9) {
      counts.midFrame++;
      await hostileLife(port, localAddress, midFrameBytes(), true);
    } else {
      counts.garbage++;
      await hostileLife(port, localAddress, garbageBytes(), false);
    }
  }
}

const server = await startChildServer({
  model: argv.model,
  device: 'cpu',
  workers: 2,
  inputSize: argv['input-size'],
  maxBatch: 1,
  maxBatchDelayMs: 1,
  overload: 'queue',
  window: 4,
  // Closed connections take a moment to leave; headroom above the 64 slots.
  extraArgs: ['--max-connections', String(argv.connections * 2)],
});
const rss = (s: Samples): number => Math.round((s.get('process_resident_memory_bytes') ?? 0) / 2 ** 20);
const start = await scrape(server.metricsUrl);
const rssSeries: number[] = [rss(start)];
const t0 = performance.now();
const sampler = setInterval(() => {
  void scrape(server.metricsUrl).then(
    (s) => rssSeries.push(rss(s)),
    () => undefined,
  );
}, 5_000);
const done = (): boolean => good.answered >= argv.frames || server.exitStatus() !== undefined;
await Promise.all(Array.from({ length: argv.connections }, (_, i) => slot(server.port, i, done)));
clearInterval(sampler);
await sleep(1_000);
const end = await scrape(server.metricsUrl);
const seconds = (performance.now() - t0) / 1000;
const loop = windowQuantile(start, end, 'crowdline_event_loop_delay_seconds', 0.99);
const ended = [...end].filter(([k]) => k.startsWith('crowdline_connections_ended_by_server_total')).map(([k, v]) => `${k.slice(k.indexOf('"') + 1, -2)} ${v}`);
const protocolErrors = [...end].filter(([k]) => k.startsWith('crowdline_protocol_errors_total')).reduce((a, [, v]) => a + v, 0);
console.log(`soak: ${argv.connections} connections, ${seconds.toFixed(0)} s, server ${server.exitStatus() ?? 'alive'}`);
console.log(
  `lives: good ${counts.good}, random disconnect ${counts.disconnect}, mid-frame close ${counts.midFrame}, garbage ${counts.garbage}, refused ${counts.refused}`,
);
console.log(`good connections: ${good.sent} frames sent, ${good.answered} answered, lost ${good.lost}, misordered ${good.misordered}, not ok ${good.notOk}`);
console.log(`server RSS MB: start ${rssSeries[0]}, end ${rss(end)}, max ${Math.max(...rssSeries, rss(end))} (every 5 s: ${rssSeries.join(' ')})`);
console.log(
  `event-loop delay p99: ${loop ? (loop.value * 1000).toFixed(1) : '?'} ms; protocol errors ${protocolErrors}; ended by server: ${ended.join(', ') || 'none'}`,
);
await server.stop();
process.exit(good.lost === 0 && good.misordered === 0 && !server.exitStatus() ? 0 : 1);
