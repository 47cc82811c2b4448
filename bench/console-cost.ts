/**
 * What the operator's console costs the server (docs/performance.md#console):
 *
 * - server CPU per answered frame with N cameras and 0, 1 and 10 viewers,
 *   against the same load on a server without a console;
 * - the memory a viewer that never reads makes the server hold;
 * - RSS before and after many viewers connect and disconnect.
 *
 * The server runs in this process (its CPU is this process's, workers
 * included); cameras and viewers run in a child process, so their CPU is
 * not counted. Cameras stream the sample video's frames (768x576 JPEGs).
 *
 *   node --expose-gc dist/bench/console-cost.js [--cameras 8] [--fps 5] [--phase-s 15] [--model crowdline-v1] [--churn 200]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import WebSocket from 'ws';
import { modelPath } from '../src/app/paths.js';
import { startServer, type RunningServer } from '../src/app/start-server.js';
import { DEFAULT_CONSOLE_LIMITS, DEFAULT_CONSOLE_SETTINGS } from '../src/console/options.js';
import { FileCamera, sampleFrames } from './file-camera.js';

const argv = yargs(hideBin(process.argv))
  .option('cameras', { type: 'number', default: 8 })
  .option('fps', { type: 'number', default: 5, describe: 'frames per second per camera' })
  .option('phase-s', { type: 'number', default: 15, describe: 'seconds measured per phase (after 3 s of warm-up)' })
  .option('model', { type: 'string', default: 'crowdline-v1', coerce: modelPath })
  .option('churn', { type: 'number', default: 200, describe: 'viewer connects/disconnects for the RSS check' })
  .option('load', { type: 'boolean', default: false, hidden: true, describe: '(internal) run as the load process' })
  .strict()
  .parseSync();

// ---------------- the load process: cameras and viewers, driven by commands on stdin ----------------

async function runLoad(): Promise<void> {
  const frames = sampleFrames(120);
  let cameras: FileCamera[] = [];
  let viewers: WebSocket[] = [];
  let updates = 0;
  let consoleUrl = '';
  const say = (o: object): void => void process.send?.(o);
  const openViewer = (read: boolean): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${consoleUrl.replace(/^http/, 'ws')}ws`, { origin: new URL(consoleUrl).origin });
      ws.on('error', () => undefined);
      ws.once('open', () => {
        if (!read) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        resolve(ws);
      });
      ws.once('unexpected-response', () => reject(new Error('viewer refused')));
      if (read) ws.on('message', (_d, binary) => binary && updates++);
    });
  process.on('message', (raw) => {
    const cmd = raw as { op: string; port?: number; url?: string; n?: number };
    void (async () => {
      if (cmd.op === 'cameras') {
        cameras.forEach((c) => c.close());
        cameras = [];
        for (let i = 0; i < argv.cameras; i++) {
          const cam = new FileCamera(`cam-${i + 1}`, frames, { fps: argv.fps, start: i * 13, keep: false });
          await cam.connect(cmd.port!);
          cam.start();
          cameras.push(cam);
        }
        consoleUrl = cmd.url ?? '';
      } else if (cmd.op === 'viewers') {
        viewers.forEach((v) => v.terminate());
        viewers = [];
        for (let i = 0; i < cmd.n!; i++) viewers.push(await openViewer(true));
      } else if (cmd.op === 'stalled') {
        viewers.push(await openViewer(false));
      } else if (cmd.op === 'churn') {
        for (let i = 0; i < cmd.n!; i++) {
          const ws = await openViewer(true);
          await new Promise<void>((resolve) => ws.once('message', () => resolve()));
          ws.terminate();
          await new Promise<void>((resolve) => ws.once('close', () => resolve()));
        }
      } else if (cmd.op === 'stop') {
        cameras.forEach((c) => c.close());
        viewers.forEach((v) => v.terminate());
        process.exit(0);
      }
      say({ done: cmd.op, updates });
    })().catch((err: Error) => say({ error: err.message }));
  });
  say({ ready: true });
}

// ---------------- the server side: phases and measurements ----------------

function command(child: ChildProcess, cmd: object): Promise<{ updates: number }> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const r = m as { done?: string; error?: string; updates: number };
      if (r.error) reject(new Error(r.error));
      else if (r.done) resolve(r);
      else return;
      child.off('message', onMessage);
    };
    child.on('message', onMessage);
    child.send(cmd);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

async function serve(withConsole: boolean, counter: { frames: number }): Promise<RunningServer> {
  return startServer({
    modelPath: argv.model,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 0,
    server: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    observer: { frameAnswered: () => void counter.frames++ },
    console: withConsole ? { settings: { ...DEFAULT_CONSOLE_SETTINGS, port: 0, limits: { ...DEFAULT_CONSOLE_LIMITS, viewerStallMs: 3_600_000 } } } : undefined,
  });
}

async function measure(child: ChildProcess, counter: { frames: number }): Promise<{ cpuUsPerFrame: number; fps: number; updatesPerS: number }> {
  await sleep(3_000);
  const before = await command(child, { op: 'noop' }).catch(() => ({ updates: 0 }));
  const cpu0 = process.cpuUsage();
  const frames0 = counter.frames;
  const t0 = performance.now();
  await sleep(argv['phase-s'] * 1000);
  const cpu = process.cpuUsage(cpu0);
  const frames = counter.frames - frames0;
  const seconds = (performance.now() - t0) / 1000;
  const after = await command(child, { op: 'noop' }).catch(() => ({ updates: 0 }));
  return { cpuUsPerFrame: (cpu.user + cpu.system) / Math.max(1, frames), fps: frames / seconds, updatesPerS: (after.updates - before.updates) / seconds };
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const rows: string[] = [];
  const counter = { frames: 0 };
  process.stderr.write(`console cost: ${argv.cameras} cameras x ${argv.fps} fps, ${argv['phase-s']} s per phase, model ${argv.model}\n`);

  // Baseline: the same load on a server with no console at all.
  let running = await serve(false, counter);
  await command(child, { op: 'cameras', port: running.address.port });
  const none = await measure(child, counter);
  rows.push(`| no console | ${none.fps.toFixed(1)} | ${none.cpuUsPerFrame.toFixed(0)} | - | - |`);
  await running.close();

  running = await serve(true, counter);
  const url = running.console!.url;
  await command(child, { op: 'cameras', port: running.address.port, url });
  let zero: number | undefined;
  for (const n of [0, 1, 10]) {
    await command(child, { op: 'viewers', n });
    const m = await measure(child, counter);
    zero ??= m.cpuUsPerFrame;
    const extra = ((m.cpuUsPerFrame - none.cpuUsPerFrame) / none.cpuUsPerFrame) * 100;
    rows.push(
      `| console, ${n} viewer(s) | ${m.fps.toFixed(1)} | ${m.cpuUsPerFrame.toFixed(0)} | ${extra >= 0 ? '+' : ''}${extra.toFixed(1)} % | ${m.updatesPerS.toFixed(1)} |`,
    );
  }
  await command(child, { op: 'viewers', n: 0 });
  process.stdout.write(
    `\n| server | frames/s answered | server CPU per frame (µs) | vs no console | updates/s received by all viewers |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`,
  );

  // A viewer that never reads: what the server holds for it.
  gc();
  const rssStart = process.memoryUsage().rss;
  await command(child, { op: 'stalled' });
  let maxBuffered = 0;
  let maxPending = 0;
  let maxRss = 0;
  const until = performance.now() + argv['phase-s'] * 1000;
  while (performance.now() < until) {
    for (const s of running.console!.http.viewerStats()) {
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
      maxPending = Math.max(maxPending, s.pending);
    }
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    await sleep(100);
  }
  const sentToStalled = running.console!.http.viewerStats()[0]?.sent ?? 0;
  process.stdout.write(
    `\nA viewer that never reads, ${argv['phase-s']} s with ${argv.cameras} cameras: at most ${maxPending} update(s) waiting for it, ` +
      `${mib(maxBuffered)} MiB not taken (server side; the rest sits in the kernel's socket buffers), ${sentToStalled} updates written before it stopped taking them; ` +
      `RSS ${mib(rssStart)} -> at most ${mib(maxRss)} MiB.\n`,
  );
  await command(child, { op: 'viewers', n: 0 });

  // Viewers coming and going.
  await sleep(1000);
  gc();
  const rssBefore = process.memoryUsage().rss;
  await command(child, { op: 'churn', n: argv.churn });
  await sleep(1000);
  gc();
  const rssAfter = process.memoryUsage().rss;
  process.stdout.write(
    `\n${argv.churn} viewers connected (each waited for its first message) and disconnected, one after another, cameras streaming: ` +
      `RSS ${mib(rssBefore)} -> ${mib(rssAfter)} MiB; viewers left: ${running.console!.http.viewerCount}.\n`,
  );
  await command(child, { op: 'stop' }).catch(() => undefined);
  await running.close();
}

if (argv.load) void runLoad();
else
  main().catch((err: Error) => {
    process.stderr.write(`console-cost: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
