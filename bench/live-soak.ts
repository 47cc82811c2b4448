/**
 * Soak test of `crowdline client` with live network cameras: N healthy
 * cameras and one "flaky" camera that is killed, restarted, frozen (SIGSTOP)
 * and thawed on a schedule, for several minutes, headless, recording. Prints
 * per-camera frame rate per minute, how long the flaky camera took to come
 * back each time, and the client's memory at start and end.
 *
 *   node dist/bench/live-soak.js [--minutes 10] [--cameras 4] [--size 768x576] [--max-width 0] [--record mp4|avi] [--out DIR]
 *
 * The server runs the known-answer test model (cheap inference), so the
 * client is what is measured. Cameras are ffmpeg serving the sample video
 * as MPEG-TS over TCP on 127.0.0.1 at its own 10 fps.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeKnownAnswerModel } from '../test/helpers/onnx-builder.js';
import { StreamCamera, testClip } from '../test/helpers/stream-camera.js';
import { startChildServer } from './server-process.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    cameras: { type: 'string', default: '4' },
    size: { type: 'string', default: '768x576' },
    record: { type: 'string', default: 'mp4' },
    'max-width': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});
const minutes = Number(args.minutes);
const healthyCount = Number(args.cameras);
const out = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'crowdline-soak-'));
fs.mkdirSync(out, { recursive: true });
const MAIN_JS = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const startedAt = Date.now();
const elapsed = (): number => (Date.now() - startedAt) / 1000;
const note = (line: string): void => console.error(`[${elapsed().toFixed(1).padStart(6)} s] ${line}`);

/** The flaky camera's schedule, as fractions of the run: killed/restarted twice, frozen once. */
const CHAOS: Array<{ at: number; act: 'kill' | 'start' | 'freeze' | 'thaw' }> = [
  { at: 0.1, act: 'kill' },
  { at: 0.2, act: 'start' },
  { at: 0.4, act: 'freeze' },
  { at: 0.5, act: 'thaw' },
  { at: 0.7, act: 'kill' },
  { at: 0.75, act: 'start' },
];

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function childrenRssKb(pid: number): number {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'rss='], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .reduce((a, l) => a + Number(l.trim()), 0);
  } catch {
    return 0;
  }
}

const model = writeKnownAnswerModel(out, 'known-answer', { channels: 3, stride: 8, width: 96, height: 72 });
const server = await startChildServer({
  model: model.onnxPath,
  device: 'cpu',
  workers: 1,
  intraOpThreads: 1,
  maxBatch: 4,
  maxBatchDelayMs: 2,
  overload: 'drop-oldest',
  window: 2,
});
const clip = testClip(args.size);
const healthy = await Promise.all(Array.from({ length: healthyCount }, () => StreamCamera.create(clip)));
const flaky = await StreamCamera.create(clip);
const all = [...healthy, flaky];
all.forEach((c) => c.start());
const names = [...healthy.map((_, i) => `cam${i + 1}`), 'flaky'];
const clientArgs = [
  MAIN_JS,
  'client',
  '--no-display',
  '--server',
  `${server.host}:${server.port}`,
  '--out',
  out,
  '--record',
  String(args.record),
  '--segment-seconds',
  '60',
  '--keep-segments',
  '5',
  '--stall-timeout',
  '5',
  '--max-width',
  String(args['max-width']),
  ...all.flatMap((c, i) => ['--source', `${names[i]}=${c.url}`]),
];
note(`client: node ${clientArgs.join(' ')}`);
const client = spawn(process.execPath, clientArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
const log: Array<{ t: number; line: string }> = [];
client.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
client.stderr.on('data', (c: Buffer) => {
  for (const line of c.toString().split('\n').filter(Boolean)) {
    log.push({ t: Date.now(), line });
    note(`client: ${line}`);
  }
});
const exited = new Promise<number | null>((resolve) => client.on('exit', (code) => resolve(code)));

const rss: Array<{ t: number; clientMb: number; capturesMb: number }> = [];
const sample = (): void => {
  if (client.pid === undefined || client.exitCode !== null) return;
  rss.push({ t: elapsed(), clientMb: rssKb(client.pid) / 1024, capturesMb: childrenRssKb(client.pid) / 1024 });
};
const sampler = setInterval(sample, 10_000);
const events: Array<{ t: number; act: string }> = [];
for (const step of CHAOS) {
  setTimeout(
    () => {
      events.push({ t: Date.now(), act: step.act });
      note(`flaky camera: ${step.act}`);
      if (step.act === 'kill') flaky.kill();
      else if (step.act === 'start') flaky.start();
      else if (step.act === 'freeze') flaky.freeze();
      else flaky.thaw();
    },
    step.at * minutes * 60_000,
  );
}
await new Promise((r) => setTimeout(r, 10_000));
sample();
await new Promise((r) => setTimeout(r, minutes * 60_000 - 10_000));
sample();
clearInterval(sampler);
client.kill('SIGTERM');
const code = await exited;
all.forEach((c) => c.kill());
await server.stop();

// Per camera: answered frames per minute, from the CSVs.
const perMinute = names.map((name) => {
  const rows = fs
    .readFileSync(path.join(out, `${name}.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const counts = new Array<number>(Math.ceil(minutes)).fill(0);
  for (const row of rows) {
    const minute = Math.floor((Date.parse(row.split(',')[2]) - startedAt) / 60_000);
    if (minute >= 0 && minute < counts.length) counts[minute]++;
  }
  return { name, fps: counts.map((n) => n / 60), total: rows.length };
});
// Recovery: from the flaky camera coming back (start/thaw) to its next frame in the CSV.
const flakyTimes = fs
  .readFileSync(path.join(out, 'flaky.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((r) => Date.parse(r.split(',')[2]));
const recoveries = events
  .filter((e) => e.act === 'start' || e.act === 'thaw')
  .map((e) => ({ act: e.act, at: (e.t - startedAt) / 1000, seconds: ((flakyTimes.find((t) => t > e.t) ?? NaN) - e.t) / 1000 }));

const lines = [
  `exit status ${code}; ${minutes} min, ${healthyCount} healthy cameras + 1 flaky, ${args.size}, max width ${args['max-width']}, record ${args.record}; output in ${out}`,
  '',
  `| camera | ${perMinute[0].fps.map((_, i) => `min ${i + 1}`).join(' | ')} | frames |`,
  `|---|${perMinute[0].fps.map(() => '---').join('|')}|---|`,
  ...perMinute.map((c) => `| ${c.name} | ${c.fps.map((f) => f.toFixed(1)).join(' | ')} | ${c.total} |`),
  '',
  `flaky camera back (first frame after the camera returned): ${recoveries.map((r) => `${r.act} at ${r.at.toFixed(0)} s -> ${r.seconds.toFixed(1)} s`).join('; ')}`,
  `client RSS MB: ${rss.map((r) => `${r.t.toFixed(0)} s ${r.clientMb.toFixed(0)}`).join(', ')}`,
  `capture ffmpeg RSS MB (all children): ${rss.map((r) => r.capturesMb.toFixed(0)).join(', ')}`,
  '',
  stdout,
];
fs.writeFileSync(path.join(out, 'soak-report.md'), lines.join('\n'));
fs.writeFileSync(path.join(out, 'soak-report.json'), JSON.stringify({ perMinute, recoveries, rss, events, log }, null, 1));
console.log(lines.join('\n'));
