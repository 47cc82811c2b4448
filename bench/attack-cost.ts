/**
 * What each hostile-peer attack of issue 8 costs a default `crowdline serve`
 * (child process, default model): server RSS growth, worker time spent on
 * the attacker's frames (from its RESULT timings), event-loop delay p99
 * during the attack (from the server's own histogram), and the p50 latency
 * of a well-behaved camera running alongside, against the same camera alone.
 *
 *   node dist/bench/attack-cost.js [--seconds 8]
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { V1Connection } from '../client/connection/connection.js';
import { encodeFrame, encodeHello, FrameStatus } from '../src/framing/index.js';
import { loadFrames } from './frames.js';
import { scrape, windowQuantile } from './scrape.js';
import { CPU_BENCH_SERVER, startChildServer, type ChildServer } from './server-process.js';
import { summarize } from './stats.js';
import { jpegCorpus } from './fuzz-inputs.js';

const argv = yargs(hideBin(process.argv))
  .option('seconds', { type: 'number', default: 8, describe: 'how long each attack runs' })
  .option('video', { type: 'string', default: '/usr/share/doc/opencv-doc/examples/data/vtest.avi' })
  .strict()
  .parseSync();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const frames = await loadFrames(argv.video, 20);

/** A camera at 10 fps, window 1, measuring its own end-to-end latency until stopped. */
async function camera(server: ChildServer, stop: () => boolean): Promise<number[]> {
  const conn = await V1Connection.connect({ host: server.host, port: server.port, cameraName: 'good', window: 1 });
  const latencies: number[] = [];
  for (let i = 0; !stop(); i++) {
    const t0 = performance.now();
    const reply = new Promise<void>((resolve) =>
      conn.once('result', (r) => (r.status === FrameStatus.Ok && latencies.push(performance.now() - t0), resolve())),
    );
    conn.send(frames.jpegs[i % frames.jpegs.length]);
    await reply;
    await sleep(100);
  }
  conn.destroy();
  return latencies;
}

function bombJpeg(width: number, height: number): Buffer {
  const j = Buffer.from(jpegCorpus()[0]);
  const sof = j.indexOf(Buffer.from([0xff, 0xc0]));
  j.writeUInt16BE(height, sof + 5);
  j.writeUInt16BE(width, sof + 7);
  return j;
}

type Attack = (server: ChildServer, stop: () => boolean) => Promise<string>;

const attacks: Record<string, Attack> = {
  none: () => Promise.resolve(''),
  'bomb JPEGs (34179x41887 and 26000x27500), v1, window 8': async (server, stop) => {
    const conn = await V1Connection.connect({ host: server.host, port: server.port, cameraName: 'bomber', window: 8 });
    const workerUs: number[] = [];
    conn.on('result', (r) => workerUs.push(r.timings.decodeUs));
    const bombs = [bombJpeg(34179, 41887), bombJpeg(26000, 27500)];
    let sent = 0;
    while (!stop()) {
      while (sent - workerUs.length < 8) conn.send(bombs[sent++ % 2]);
      await sleep(1);
    }
    conn.destroy();
    const s = summarize(workerUs.map((us) => us / 1000));
    return `${workerUs.length} bombs answered; worker time per bomb p50 ${s.p50.toFixed(3)} ms, max ${s.max.toFixed(3)} ms`;
  },
  'byte trickle: 1 MB frame, 1 byte per write': async (server, stop) => {
    const socket = net.connect({ host: server.host, port: server.port, noDelay: true });
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    const stream = Buffer.concat([
      encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'trickle' }),
      encodeFrame({ seq: 0, captureTimeMs: 0, jpeg: Buffer.alloc(1 << 20, 0x31) }),
    ]);
    let i = 0;
    while (!stop() && i < stream.length) {
      for (let k = 0; k < 256 && i < stream.length; k++) socket.write(stream.subarray(i, ++i));
      await new Promise((r) => setImmediate(r));
    }
    socket.destroy();
    return `${i} bytes trickled`;
  },
  'slowloris: 64 sockets from 127.0.0.2 sending one digit': async (server, stop) => {
    const sockets = Array.from({ length: 64 }, () => {
      const s = net.connect({ host: server.host, port: server.port, localAddress: '127.0.0.2' }, () => s.write('1'));
      s.on('error', () => undefined);
      return s;
    });
    while (!stop()) await sleep(50);
    const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    sockets.forEach((s) => s.destroy());
    return `${open} of 64 still open at the end (per-address limit 32, message timeout 20 s)`;
  },
  'non-reading client: 2000 frames, window 8, never reads': async (server, stop) => {
    const socket = net.connect({ host: server.host, port: server.port });
    socket.on('error', () => undefined);
    socket.pause();
    await new Promise((r) => socket.once('connect', r));
    socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 8, cameraName: 'deaf' }));
    for (let i = 0; i < 2000; i++) socket.write(encodeFrame({ seq: i, captureTimeMs: 0, jpeg: frames.jpegs[i % frames.jpegs.length] }));
    while (!stop()) await sleep(50);
    socket.destroy();
    return '';
  },
  'legacy garbage flood: 3000 connections': async (server, stop) => {
    const linesBefore = server.stderrLineCount();
    let n = 0;
    while (!stop() && n < 3000) {
      await Promise.all(
        Array.from(
          { length: 50 },
          () =>
            new Promise<void>((resolve) => {
              // A legacy header that is not a number: refused as soon as its 16 bytes are in.
              const s = net.connect({ host: server.host, port: server.port }, () => s.write(`1x${' '.repeat(14)}`));
              s.on('error', () => undefined);
              s.on('close', () => resolve());
              s.on('data', () => undefined);
            }),
        ),
      );
      n += 50;
    }
    await sleep(11_000); // one log interval, so the "suppressed" summary is out
    return `${n} connections, ${server.stderrLineCount() - linesBefore} server log lines`;
  },
};

const server = await startChildServer(CPU_BENCH_SERVER);
console.log('| attack | RSS before -> after (MB) | event-loop p99 (ms) | good camera p50 / p99 (ms) | notes |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, attack] of Object.entries(attacks)) {
  const before = await scrape(server.metricsUrl);
  const end = performance.now() + argv.seconds * 1000;
  const stop = (): boolean => performance.now() > end;
  const [latencies, note] = await Promise.all([camera(server, stop), attack(server, stop)]);
  await sleep(500);
  const after = await scrape(server.metricsUrl);
  const mb = (s: Map<string, number>): string => ((s.get('process_resident_memory_bytes') ?? 0) / 2 ** 20).toFixed(0);
  const loop = windowQuantile(before, after, 'crowdline_event_loop_delay_seconds', 0.99);
  const lat = summarize(latencies);
  console.log(
    `| ${name} | ${mb(before)} -> ${mb(after)} | ${loop ? (loop.value * 1000).toFixed(1) : '?'} | ${lat.p50.toFixed(1)} / ${lat.p99.toFixed(1)} | ${note} |`,
  );
  if (server.exitStatus()) {
    console.log(`server died: ${server.exitStatus()}`);
    break;
  }
}
await server.stop();
