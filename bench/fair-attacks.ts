/**
 * Issue 27's attack table, rerun: each attack (bench/attack-peers.ts) beside
 * a good camera streaming vtest.avi's 768x576 frames at 5 fps (window 2: a
 * frame due while two are unanswered is skipped, as a live camera does), on
 * a default `crowdline serve` child process (default model, CPU). For each:
 * the good camera's share (frames answered ok / frames due) and p50 latency
 * while the attack runs and, where the issue measured it, after the
 * attackers left; plus what the attack is about (RSS, probes, log lines...).
 * Every attack is bounded in time and count, on 127.0.0.0/8 only.
 *
 *   node dist/bench/fair-attacks.js [--seconds 10] [--only greedy,tls-hold] [--server OTHER/dist/cli/main.js] [--server-args='--worker-nice 0']
 *
 * Rows (--only keys): alone, greedy, bomb, costly, costly-8, legacy-8,
 * large, vanish, metrics-keepalive, metrics-slow (plain server); tls-alone,
 * tls-hold, tls-garbage, tls-renegotiate (TLS); auth-alone, auth-rst-flood
 * (--auth); cap-alone, cap-fps, cap-pixels (rate caps, on builds that have
 * them).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Worker } from 'node:worker_threads';
import { type ClientSecurity, V1Connection } from '../client/connection/connection.js';
import { loadOpenCV } from '../client/opencv.js';
import { addClient } from '../src/auth/edit-credentials.js';
import { newToken } from '../src/auth/token.js';
import {
  garbageTlsHandshakes,
  greedyLegacy,
  greedyV1,
  holdTlsHandshake,
  idleKeepAlives,
  type Peer,
  probeReadyz,
  renegotiations,
  rstHelloFlood,
  sendWindowAndVanish,
  sleep,
  slowHeaders,
} from './attack-peers.js';
import { costliestAllowedJpeg, paddedJpeg, progressiveDeclaring } from './costly-jpegs.js';
import { loadFrames } from './frames.js';
import type { CameraRun, GoodCameraJob } from './good-camera.js';
import { scrape as scrapeOnce, type Samples, windowQuantile } from './scrape.js';
import { CPU_BENCH_SERVER, type ChildServer, startChildServer } from './server-process.js';
import { summarize } from './stats.js';
import { makePki } from './throwaway-pki.js';

const argv = yargs(hideBin(process.argv))
  .option('seconds', { type: 'number', default: 10, describe: 'how long each attack runs (and the good camera with it)' })
  .option('after-seconds', { type: 'number', default: 5, describe: 'how long the good camera is measured after the attackers left' })
  .option('only', { type: 'string', describe: 'comma-separated scenario keys (default: all)' })
  .option('video', { type: 'string', default: '/usr/share/doc/opencv-doc/examples/data/vtest.avi' })
  .option('server', { type: 'string', describe: "another build's dist/cli/main.js to attack (before/after comparisons; default: this build's)" })
  .option('own-session', {
    type: 'boolean',
    default: false,
    describe: "start each server in a session of its own (a scheduling group, as a systemd service is), apart from this bench's load generators",
  })
  .option('server-args', {
    type: 'string',
    default: '',
    describe: "more `crowdline serve` options for every server started, space-separated, given with = (--server-args='--worker-nice 0')",
  })
  .strict()
  .parseSync();

const only = argv.only ? new Set(argv.only.split(',')) : undefined;
const serverArgs = argv['server-args'].split(' ').filter((a) => a !== '');
const MB = 2 ** 20;
const frames = await loadFrames(argv.video, 20);
const cv = await loadOpenCV();
const costly = costliestAllowedJpeg(cv, frames.jpegs[0]);
const bomb = progressiveDeclaring(7680, 4320, 43);

/**
 * The good camera: 5 fps, window 2, for `seconds`, on a worker thread of its
 * own, so the attackers' load on this process's event loop does not delay
 * its frames or its clock (only the machine's CPU is shared).
 */
function goodCamera(server: ChildServer, seconds: number, security: ClientSecurity = {}): Promise<CameraRun> {
  const job: GoodCameraJob = { host: server.host, port: server.port, seconds, security, jpegs: frames.jpegs };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./good-camera.js', import.meta.url), { workerData: job });
    worker.once('message', (run: CameraRun) => resolve(run));
    worker.once('error', reject);
  });
}

/**
 * The metrics port may close an idle keep-alive connection to let a probe
 * in, and a server under attack may answer late: a scrape waits up to 15 s
 * and is retried on a fresh connection.
 */
async function scrape(url: string): Promise<Samples> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await scrapeOnce(url, 15_000);
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(300);
    }
  }
}

const share = (r: CameraRun): string =>
  r.refused
    ? `could not connect (${r.refused.slice(0, 60)})`
    : `${(r.ok / r.due).toFixed(2)}; p50 ${r.latencies.length ? summarize(r.latencies).p50.toFixed(0) : '-'} ms`;
const rssMb = (s: Samples): number => (s.get('process_resident_memory_bytes') ?? 0) / MB;
const metric = (s: Samples, name: string): number => s.get(name) ?? 0;
const sumMatching = (s: Samples, prefix: string): number => [...s].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

interface Row {
  key: string;
  attack: string;
  before: string;
  during: string;
  after: string;
  notes: string;
}

type Scenario = (server: ChildServer) => Promise<Omit<Row, 'key' | 'attack' | 'before'>>;

/**
 * Runs `peers` for --seconds beside the good camera, stops them, then
 * measures the camera --after-seconds more; with the server's event-loop
 * delay p99 during the attack.
 */
async function beside(
  server: ChildServer,
  start: () => Promise<Peer[]>,
  withAfter: boolean,
): Promise<{ during: CameraRun; after?: CameraRun; peers: Peer[]; loopP99Ms: string; window: MainThreadWindow }> {
  const before = await scrape(server.metricsUrl);
  const cpuBefore = server.mainThreadCpuSeconds();
  const waitBefore = server.mainThreadWaitSeconds();
  const peers = await start();
  const during = await goodCamera(server, argv.seconds);
  const cpuEnd = server.mainThreadCpuSeconds();
  const waitEnd = server.mainThreadWaitSeconds();
  const end = await scrape(server.metricsUrl);
  const loop = windowQuantile(before, end, 'crowdline_event_loop_delay_seconds', 0.99);
  for (const p of peers) p.stop();
  const after = withAfter ? await goodCamera(server, argv['after-seconds']) : undefined;
  const cpuS = cpuBefore !== undefined && cpuEnd !== undefined ? cpuEnd - cpuBefore : undefined;
  const waitS = waitBefore !== undefined && waitEnd !== undefined ? waitEnd - waitBefore : undefined;
  return { during, after, peers, loopP99Ms: loop ? (loop.value * 1000).toFixed(0) : '?', window: { before, end, cpuS, waitS } };
}

/** Two scrapes around an attack, and the server main thread's CPU seconds between them (undefined off Linux). */
interface MainThreadWindow {
  before: Samples;
  end: Samples;
  cpuS: number | undefined;
  /** Seconds the main thread was runnable but waited for a core (/proc schedstat). */
  waitS: number | undefined;
}

/**
 * The server main thread while `peers` sent `frameBytes`-byte frames:
 * event-loop delay p99 and the bucket its largest delay fell in (the
 * histogram's), and its CPU time (/proc) per MB of their frames received,
 * the good camera's frames taken out (its CPU is counted: it is small).
 */
function mainThread(w: MainThreadWindow, goodFrames: number, frameBytes: number): string {
  const p99 = windowQuantile(w.before, w.end, 'crowdline_event_loop_delay_seconds', 0.99);
  const max = windowQuantile(w.before, w.end, 'crowdline_event_loop_delay_seconds', 1);
  const frames = metric(w.end, 'crowdline_frames_received_total') - metric(w.before, 'crowdline_frames_received_total') - goodFrames;
  const mb = (frames * frameBytes) / MB;
  const maxText = !max ? '?' : max.value >= 1 ? '> 1000' : `<= ${(max.value * 1000).toFixed(0)}`;
  return (
    `event-loop delay p99 ${p99 ? (p99.value * 1000).toFixed(0) : '?'} ms, max ${maxText} ms; ` +
    (w.cpuS === undefined
      ? 'main-thread CPU not measured (no /proc)'
      : `main-thread CPU ${w.cpuS.toFixed(2)} s for ${mb.toFixed(0)} MB of their frames received (${mb > 0 ? ((w.cpuS * 1000) / mb).toFixed(2) : '-'} ms per MB)`) +
    `; ${waited(w)}`
  );
}

/** How long the server's main thread was ready to run but had no core, while the attack ran. */
const waited = (w: MainThreadWindow): string =>
  w.waitS === undefined ? 'main-thread wait for a core not measured' : `main thread waited ${w.waitS.toFixed(2)} s for a core`;

const answeredBy = (peers: Peer[]): number => peers.reduce((n, p) => n + p.answered(), 0);

const plain: Array<{ key: string; attack: string; before: string; run: Scenario }> = [
  {
    key: 'alone',
    attack: 'none: the good camera alone',
    before: '1.00; p50 45 ms',
    run: async (server) => ({ during: share(await goodCamera(server, argv.seconds)), after: '', notes: '' }),
  },
  {
    key: 'greedy',
    attack: 'one v1 connection, the largest window granted (32), sending frames as fast as it can',
    before: '0.28-0.32 of its rate; p50 1.2 s',
    run: async (server) => {
      const r = await beside(server, async () => [await greedyV1(server.port, { name: 'greedy', window: 32, frames: frames.jpegs })], false);
      return {
        during: share(r.during),
        after: '',
        notes: `greedy peer: ${(answeredBy(r.peers) / argv.seconds).toFixed(1)} frames/s answered; event-loop p99 ${r.loopP99Ms} ms`,
      };
    },
  },
  {
    key: 'bomb',
    attack: 'the same with the costliest frame the limits allowed before: 7680x4320 progressive, 43 scans',
    before: '0 frames for 10 s (1.9-3.6 s of a worker and ~300 MB per frame)',
    run: async (server) => {
      const before = await scrape(server.metricsUrl);
      const r = await beside(server, async () => [await greedyV1(server.port, { name: 'bomber', window: 32, frames: [bomb] })], false);
      const after = await scrape(server.metricsUrl);
      const refused = metric(after, 'crowdline_frames_failed_total{cause="too-large"}') - metric(before, 'crowdline_frames_failed_total{cause="too-large"}');
      return {
        during: share(r.during),
        after: '',
        notes: `${refused} bombs refused from their header (--max-frame-work), none decoded; RSS ${rssMb(before).toFixed(0)} -> ${rssMb(after).toFixed(0)} MB`,
      };
    },
  },
  {
    key: 'costly',
    attack: `the costliest frame the limits allow now: 3840x2160 progressive, 10 scans, ${(costly.length / MB).toFixed(1)} MB`,
    before: '(not in the issue)',
    run: async (server) => {
      const before = await scrape(server.metricsUrl);
      const r = await beside(server, async () => [await greedyV1(server.port, { name: 'costly', window: 32, frames: [costly] })], false);
      const after = await scrape(server.metricsUrl);
      const workerS = metric(after, 'crowdline_worker_seconds_total{identity="costly"}') - metric(before, 'crowdline_worker_seconds_total{identity="costly"}');
      const n = answeredBy(r.peers);
      return {
        during: share(r.during),
        after: '',
        notes: `${n} answered, ${n ? ((workerS / n) * 1000).toFixed(0) : '-'} ms of a worker each; RSS ${rssMb(before).toFixed(0)} -> ${rssMb(after).toFixed(0)} MB`,
      };
    },
  },
  {
    key: 'costly-8',
    attack: '8 such connections (costliest allowed frames) from one address, window 32',
    before: '0 frames for 10 s; still 0 for 5 s after they left',
    run: async (server) => {
      const r = await beside(
        server,
        () =>
          Promise.all(
            Array.from({ length: 8 }, (_, i) => greedyV1(server.port, { name: `costly${i}`, window: 32, frames: [costly], localAddress: '127.0.0.2' })),
          ),
        true,
      );
      return {
        during: share(r.during),
        after: share(r.after!),
        notes: `their frames answered: ${answeredBy(r.peers)}; event-loop p99 ${r.loopP99Ms} ms; ${waited(r.window)}`,
      };
    },
  },
  {
    key: 'legacy-8',
    attack: 'the same over the legacy protocol (8 connections, 8 frames pipelined each)',
    before: '0 frames; 3-5 s stall after they left',
    run: async (server) => {
      const r = await beside(
        server,
        () => Promise.resolve(Array.from({ length: 8 }, () => greedyLegacy(server.port, { inFlight: 8, frames: [costly], localAddress: '127.0.0.2' }))),
        true,
      );
      return {
        during: share(r.during),
        after: share(r.after!),
        notes: `their frames answered: ${answeredBy(r.peers)}; event-loop p99 ${r.loopP99Ms} ms; ${waited(r.window)}`,
      };
    },
  },
  {
    key: 'large',
    attack: '8 connections filling the queue with 8 MB frames (a real frame padded), window 8; then the same attack again',
    before: '0 frames; RSS +2.6 GB, still +2.6 GB after they left',
    run: async (server) => {
      const big = paddedJpeg(frames.jpegs[0], 8 * MB - 1024);
      const base = await scrape(server.metricsUrl);
      let peakRss = rssMb(base);
      let peakQueue = 0;
      const sampler = setInterval(() => {
        scrape(server.metricsUrl)
          .then((s) => ((peakRss = Math.max(peakRss, rssMb(s))), (peakQueue = Math.max(peakQueue, metric(s, 'crowdline_queue_bytes')))))
          .catch(() => undefined);
      }, 250);
      const attack = (): Promise<Peer[]> =>
        Promise.all(Array.from({ length: 8 }, (_, i) => greedyV1(server.port, { name: `large${i}`, window: 8, frames: [big], localAddress: '127.0.0.3' })));
      const r = await beside(server, attack, true);
      const left = await scrape(server.metricsUrl);
      // The same attack again: RSS that stays after the first must not grow with the second (allocator reuse, not a leak).
      await beside(server, attack, true);
      clearInterval(sampler);
      const again = await scrape(server.metricsUrl);
      const workerS = sumMatching(left, 'crowdline_worker_seconds_total{identity="large') - sumMatching(base, 'crowdline_worker_seconds_total{identity="large');
      const n = answeredBy(r.peers);
      return {
        during: share(r.during),
        after: share(r.after!),
        notes:
          `RSS ${rssMb(base).toFixed(0)} MB before, peak ${peakRss.toFixed(0)} MB during, ${rssMb(left).toFixed(0)} MB ${argv['after-seconds']} s after they left, ` +
          `${rssMb(again).toFixed(0)} MB after the same attack again; queue bytes peak ${(peakQueue / MB).toFixed(0)} MB (--max-queue-bytes 256 MiB), ` +
          `${(metric(left, 'crowdline_queue_bytes') / MB).toFixed(0)} MB after; ${n} of their frames answered, ${n ? ((workerS / n) * 1000).toFixed(0) : '-'} ms of a worker each; ` +
          mainThread(r.window, r.during.ok, big.length),
      };
    },
  },
  {
    key: 'vanish',
    attack: '8 connections each sending a window of 32 frames and going at once (FIN, nothing read)',
    before: 'nothing for 15 s after they left: their frames kept both workers busy 50 s',
    run: async (server) => {
      const before = await scrape(server.metricsUrl);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          sendWindowAndVanish(server.port, { name: `vanish${i}`, count: 32, frames: frames.jpegs, localAddress: '127.0.0.4' }),
        ),
      );
      // Frames that ran while they were still there were fair work; what runs after they left is what departure detection is about.
      const left = await scrape(server.metricsUrl);
      const after = await goodCamera(server, 15);
      const s = await scrape(server.metricsUrl);
      const theirs = (x: Samples): number => sumMatching(x, 'crowdline_worker_seconds_total{identity="vanish');
      return {
        during: '',
        after: `${share(after)} (15 s)`,
        notes: `worker time spent on their 256 frames: ${(theirs(s) - theirs(before)).toFixed(2)} s, of which ${(theirs(s) - theirs(left)).toFixed(2)} s after they had all left`,
      };
    },
  },
  {
    key: 'metrics-keepalive',
    attack: '16 keep-alive connections to the metrics port, held idle',
    before: '/readyz answered 0-1 % of probes for 35 s',
    run: async (server) => {
      const sockets = await idleKeepAlives(server.metricsPort, 16, '127.0.0.2');
      const p = await probeReadyz(server.metricsPort, { seconds: argv.seconds, everyMs: 100, timeoutMs: 1000 });
      sockets.forEach((s) => s.destroy());
      return { during: '', after: '', notes: `/readyz answered ${((100 * p.answered) / p.sent).toFixed(0)} % of ${p.sent} probes (1 s timeout, every 100 ms)` };
    },
  },
  {
    key: 'metrics-slow',
    attack: 'one header byte per second on 64 sockets to the metrics port',
    before: '/readyz answered 5-7 %',
    run: async (server) => {
      const slow = slowHeaders(server.metricsPort, 64, '127.0.0.2');
      await sleep(1000);
      const p = await probeReadyz(server.metricsPort, { seconds: argv.seconds, everyMs: 100, timeoutMs: 1000 });
      slow.stop();
      return { during: '', after: '', notes: `/readyz answered ${((100 * p.answered) / p.sent).toFixed(0)} % of ${p.sent} probes` };
    },
  },
];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'crowdline-fair-attacks-'));
const pki = await makePki(tmp);
const ca = readFileSync(pki.caCert);
const tlsArgs = ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey];
const tlsScenarios: typeof plain = [
  {
    key: 'tls-alone',
    attack: 'none: the good camera alone, over TLS',
    before: '',
    run: async (server) => {
      const r = await goodCamera(server, argv.seconds, { tls: { ca } });
      return { during: share(r), after: '', notes: `connected in ${r.connectMs.toFixed(0)} ms` };
    },
  },
  {
    key: 'tls-hold',
    attack: 'TLS handshakes held open from two addresses (2 x 40)',
    before: 'the good TLS camera cannot connect',
    run: async (server) => {
      const holders = [
        ...Array.from({ length: 40 }, () => holdTlsHandshake(server.port, '127.0.0.2')),
        ...Array.from({ length: 40 }, () => holdTlsHandshake(server.port, '127.0.0.3')),
      ];
      await sleep(1000);
      const r = await goodCamera(server, argv.seconds, { tls: { ca } });
      const held = holders.filter((s) => !s.destroyed).length;
      holders.forEach((s) => s.destroy());
      return { during: share(r), after: '', notes: `connected in ${r.connectMs.toFixed(0)} ms; ${held} of 80 handshakes still held at the end` };
    },
  },
  {
    key: 'tls-garbage',
    attack: '2,000 garbage TLS handshakes',
    before: '2,000 log lines',
    run: async (server) => {
      const lines = server.stderrLineCount();
      const [r] = await Promise.all([goodCamera(server, argv.seconds, { tls: { ca } }), garbageTlsHandshakes(server.port, 2000)]);
      await sleep(11_000); // one log interval, so the "suppressed" summary is out
      return { during: share(r), after: '', notes: `${server.stderrLineCount() - lines} server log lines` };
    },
  },
  {
    key: 'tls-renegotiate',
    attack: 'TLS renegotiation on one connection (TLS 1.2)',
    before: '2,300 renegotiations on one connection, the socket kept',
    run: async (server) => {
      const r = await renegotiations(server.port, ca, 2300, 5);
      return { during: '', after: '', notes: `${r.succeeded} renegotiations succeeded; connection ${r.closed ? 'closed by the server' : 'still open'}` };
    },
  },
];

const credentials = path.join(tmp, 'credentials.yaml');
const goodToken = await addClient(credentials, 'good');
const otherToken = await addClient(credentials, 'other');
const wrongSecret = goodToken.replace(/[^.]+$/, newToken().secret);
const authScenarios: typeof plain = [
  {
    key: 'auth-alone',
    attack: 'none: a valid camera alone, under --auth',
    before: '',
    run: async (server) => {
      const r = await goodCamera(server, argv.seconds, { token: goodToken });
      return { during: share(r), after: '', notes: `WELCOME after ${r.connectMs.toFixed(0)} ms` };
    },
  },
  {
    key: 'auth-rst-flood',
    attack: 'RST flood of HELLOs under --auth (2,000 HELLOs, known key, wrong secret, each connection reset at once)',
    before:
      'a valid camera waited 12.5-14.6 s for WELCOME; 5 of 12 connects from another address refused "server is full"; 400-850 token checks of vanished connections ran 12-36 s after at 1.2-1.9 cores',
    run: async (server) => {
      const flood = rstHelloFlood(server.port, { token: wrongSecret, count: 2000, perTick: 20, seconds: argv.seconds, localAddress: '127.0.0.2' });
      await sleep(500);
      const camera = goodCamera(server, argv.seconds, { token: goodToken });
      const others = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          sleep(i * 200).then(() =>
            V1Connection.connect({
              host: server.host,
              port: server.port,
              cameraName: `other${i}`,
              token: otherToken,
              localAddress: '127.0.0.3',
              connectTimeoutMs: 20_000,
            }).then(
              (c) => (c.destroy(), 'ok'),
              (err: Error) => err.message,
            ),
          ),
        ),
      );
      const [sent, r] = await Promise.all([flood, camera]);
      const cpu0 = metric(await scrape(server.metricsUrl), 'process_cpu_seconds_total');
      await sleep(10_000);
      const cpu1 = metric(await scrape(server.metricsUrl), 'process_cpu_seconds_total');
      return {
        during: share(r),
        after: '',
        notes:
          `${sent} HELLOs; the valid camera's WELCOME after ${r.connectMs.toFixed(0)} ms; ${others.filter((o) => o === 'ok').length} of 12 connects from another address got in` +
          `${others.some((o) => o !== 'ok') ? ` (${[...new Set(others.filter((o) => o !== 'ok'))].join('; ').slice(0, 80)})` : ''}; server CPU in the 10 s after the flood: ${((cpu1 - cpu0) / 10).toFixed(2)} cores`,
      };
    },
  },
];

/** Rate caps per sender (issue 27): set low here so one greedy peer is over them; the good camera (5 fps of 768x576, its own address) is under both. */
const CAP_FPS = 6;
const CAP_PIXELS = 3840 * 2160; // one 4K frame a second
const capArgs = ['--unauth-max-fps', String(CAP_FPS), '--unauth-max-pixel-rate', String(CAP_PIXELS)];
/** How often connections paused for a cap since `before` (--overload queue: the sender waits, nothing is dropped). */
async function capWaits(server: ChildServer, before: Samples): Promise<string> {
  const after = await scrape(server.metricsUrl);
  const waits = (cap: string): number =>
    metric(after, `crowdline_rate_cap_waits_total{cap="${cap}"}`) - metric(before, `crowdline_rate_cap_waits_total{cap="${cap}"}`);
  return `paused ${waits('frame-rate-cap')} times for the frame-rate cap, ${waits('pixel-rate-cap')} for the pixel-rate cap`;
}

const capScenarios: typeof plain = [
  {
    key: 'cap-alone',
    attack: `none: the good camera alone, caps for unauthenticated addresses at ${CAP_FPS} fps and ${CAP_PIXELS} pixels/s`,
    before: '',
    run: async (server) => ({ during: share(await goodCamera(server, argv.seconds)), after: '', notes: '' }),
  },
  {
    key: 'cap-fps',
    attack: `a greedy v1 peer (window 32) over its frame-rate cap (--unauth-max-fps ${CAP_FPS})`,
    before: '(caps are new)',
    run: async (server) => {
      const before = await scrape(server.metricsUrl);
      const r = await beside(
        server,
        async () => [await greedyV1(server.port, { name: 'greedy', window: 32, frames: frames.jpegs, localAddress: '127.0.0.2' })],
        false,
      );
      return {
        during: share(r.during),
        after: '',
        notes: `greedy peer: ${(answeredBy(r.peers) / argv.seconds).toFixed(1)} frames/s answered (cap ${CAP_FPS}); ${await capWaits(server, before)}; event-loop p99 ${r.loopP99Ms} ms`,
      };
    },
  },
  {
    key: 'cap-pixels',
    attack: `the costliest allowed frames (4K progressive) over a pixel-rate cap of one 4K frame a second (--unauth-max-pixel-rate ${CAP_PIXELS})`,
    before: '(caps are new)',
    run: async (server) => {
      const before = await scrape(server.metricsUrl);
      const r = await beside(
        server,
        async () => [await greedyV1(server.port, { name: 'costly', window: 32, frames: [costly], localAddress: '127.0.0.2' })],
        false,
      );
      return {
        during: share(r.during),
        after: '',
        notes: `costly peer: ${(answeredBy(r.peers) / argv.seconds).toFixed(2)} frames/s answered; ${await capWaits(server, before)}; event-loop p99 ${r.loopP99Ms} ms`,
      };
    },
  },
];

const rows: Row[] = [];
async function runAll(scenarios: typeof plain, extraArgs: string[]): Promise<void> {
  const chosen = scenarios.filter((s) => !only || only.has(s.key));
  if (chosen.length === 0) return;
  const server = await startChildServer({
    ...CPU_BENCH_SERVER,
    extraArgs: [...extraArgs, ...serverArgs],
    mainJs: argv.server,
    ownSession: argv['own-session'],
  });
  try {
    await goodCamera(server, 2); // warm-up
    for (const s of chosen) {
      process.stderr.write(`${s.key}...\n`);
      const r = await s.run(server);
      rows.push({ key: s.key, attack: s.attack, before: s.before, ...r });
      if (server.exitStatus()) {
        rows.push({
          key: 'died',
          attack: 'server died',
          before: '',
          during: server.exitStatus() ?? '',
          after: '',
          notes: server.stderrTail().slice(-3).join(' '),
        });
        break;
      }
      await sleep(2000); // let the queue and the workers settle between attacks
    }
  } finally {
    await server.stop();
  }
}

const loadStart = os
  .loadavg()
  .map((v) => v.toFixed(2))
  .join(' ');
const started = new Date().toISOString();
await runAll(plain, []);
await runAll(tlsScenarios, tlsArgs);
await runAll(authScenarios, ['--auth', credentials]);
try {
  await runAll(capScenarios, capArgs);
} catch (err) {
  // A build without rate caps refuses the options and exits before it is ready.
  process.stderr.write(`rate-cap rows skipped: ${(err as Error).message.split('\n')[0]}\n`);
}
console.log(
  `${started}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})${serverArgs.length ? `, servers with ${serverArgs.join(' ')}` : ''}${argv['own-session'] ? ' in sessions of their own' : ''}; load average ${loadStart} at the start, ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')} at the end`,
);
console.log('');
console.log('| attack | before (issue 27) | good camera during: share of its frames; p50 | after the attackers left | what the attack got |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.attack} | ${r.before} | ${r.during} | ${r.after} | ${r.notes} |`);
