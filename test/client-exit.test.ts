/**
 * Exit statuses, one per class of outcome, and names that do not depend on
 * the order of the sources. The real CLI in a child process.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { exitCodeFor } from '../cli/client-run.js';
import { PACKAGE_ROOT, SAMPLE_VIDEO } from '../src/app/paths.js';
import type { BatchRunner } from '../src/batcher/types.js';
import type { BatchResult } from '../src/workers/types.js';
import { RunningCli, runCli } from './helpers/cli.js';
import { knownAnswerModel, startKnownAnswerServer, startServerWithRunner, tempDir } from './helpers/server.js';
import { freePort } from './helpers/stream-camera.js';
import { haveFfmpeg } from '../bench/sample-video.js';

const usageCases: Array<[string, string[], RegExp]> = [
  ['bad port', ['--server', 'gpu-box:99999', '--source', '0'], /--server gpu-box:99999: port must be 1-65535/],
  ['bad URL', ['--source', 'rtsp://[cam/stream'], /--source rtsp:\/\/\[cam\/stream: .*not a valid URL/],
  ['missing config', ['--config', '/no/such/cameras.yaml'], /--config \/no\/such\/cameras\.yaml: cannot read it/],
  ['no camera', [], /--source: give at least one camera/],
  ['bad option value', ['--source', '0', '--stall-timeout', '0'], /--stall-timeout 0: must be/],
  ['unknown option', ['--source', '0', '--sauce', 'x'], /Unknown argument: sauce/],
  ['duplicate name', ['--source', 'a=rtsp://x/1', '--source', 'a=rtsp://y/2'], /camera name "a" is already used/],
];

for (const [what, args, message] of usageCases) {
  test(`usage error (${what}): exit 2 at once, naming the option`, async (t) => {
    const run = await runCli(['client', '--no-display', ...args]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
    t.notRegex(run.stderr, /retrying|reconnecting/);
  });
}

test('runtime failure (a file that cannot be opened): exit 1', async (t) => {
  const run = await runCli(['client', '--no-display', '--server', `127.0.0.1:${await freePort()}`, '--source', '/no/such/clip.mp4']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stdout, /FAILED: cannot open source "\/no\/such\/clip\.mp4"/);
});

test('a handle left open after the summary does not keep the client: it names it and exits with the run code', async (t) => {
  // A timer nobody clears, planted before the client starts, stands for a socket or timer some path forgot.
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=data:text/javascript,setInterval(()=>{},1000)` };
  const run = await runCli(['client', '--no-display', '--server', `127.0.0.1:${await freePort()}`, '--source', '/no/such/clip.mp4'], { env });
  t.is(run.code, 1, run.stderr);
  t.regex(run.stdout, /FAILED: cannot open source/);
  t.regex(run.stderr, /still running 10 s after the end \(open: [^)]*Timeout/);
});

test("client log lines start with the time, ISO 8601 UTC, as the server's do", async (t) => {
  const run = await runCli(['client', '--no-display', '--server', `127.0.0.1:${await freePort()}`, '--source', 'gone=/no/such/clip.mp4']);
  const lines = run.stderr.trim().split('\n');
  t.true(
    lines.some((l) => l.includes('gone: cannot open source')),
    run.stderr,
  );
  for (const line of lines) t.regex(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
});

/** Accepts frames and answers none until release() (so the server can close at the end): frames stay in flight. */
class SilentRunner implements BatchRunner {
  readonly size = 1;
  private readonly held: Array<() => void> = [];
  runBatch(): Promise<BatchResult> {
    return new Promise((_resolve, reject) => this.held.push(() => reject(new Error('released'))));
  }
  release(): void {
    for (const fail of this.held.splice(0)) fail();
  }
  /** Batches waiting: frames the client has in flight. */
  get holding(): number {
    return this.held.length;
  }
}

/** A server whose batches never finish while the test runs. */
async function silentServer(t: ExecutionContext): Promise<{ port: number; runner: SilentRunner }> {
  const runner = new SilentRunner();
  const { port } = await startServerWithRunner(t, runner);
  t.teardown(() => runner.release());
  return { port, runner };
}

const startClient = (t: ExecutionContext, args: string[]): RunningCli => new RunningCli(t, ['client', '--no-display', ...args]);

test('interrupted before any frame was answered: exit 3, with the summary', async (t) => {
  const { port } = await silentServer(t);
  const client = startClient(t, ['--server', `127.0.0.1:${port}`, '--source', SAMPLE_VIDEO, '--fps', '5']);
  await client.untilLog(/crowdline client: 1 camera \(vtest\)/);
  client.signal('SIGINT');
  t.is(await client.exited, 3, client.stderr);
  t.regex(client.stderr, /received SIGINT: stopping capture/);
  t.regex(client.stdout, /crowdline client summary/);
  t.regex(client.stdout, /ok 0,/);
});

for (const live of [false, true]) {
  test(`stopped with frames in flight that never get an answer (${live ? 'file played live' : 'file'}): each has a lost row, the summary counts them`, async (t) => {
    const { port, runner } = await silentServer(t);
    const out = tempDir('crowdline-lost-');
    const client = startClient(t, [
      '--server',
      `127.0.0.1:${port}`,
      '--source',
      `clip=${SAMPLE_VIDEO}`,
      '--fps',
      '5',
      '--out',
      out,
      ...(live ? ['--live'] : []),
    ]);
    await client.until('a frame in flight', () => runner.holding > 0);
    // The server never answers: after the grace period the client cuts the connection.
    client.signal('SIGTERM');
    t.is(await client.exited, 3, client.stderr);
    const counts = /sent (\d+), ok 0, dropped 0, skipped \d+, errors 0, lost (\d+),/.exec(client.stdout);
    t.truthy(counts, client.stdout);
    const sent = Number(counts![1]);
    t.true(sent > 0);
    t.is(Number(counts![2]), sent, 'every frame sent is counted lost');
    const rows = fs
      .readFileSync(path.join(out, 'clip.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    t.is(rows.length, sent, 'one CSV row per frame sent');
    t.deepEqual(
      rows.map((r) => r[6]),
      rows.map(() => 'lost'),
    );
    const frames = rows.map((r) => Number(r[1]));
    t.true(
      frames.every((f, i) => i === 0 || f > frames[i - 1]),
      `in frame order: ${frames.join(' ')}`,
    );
  });
}

test('a second signal exits at once (128 + signal number)', async (t) => {
  const { port, runner } = await silentServer(t);
  const client = startClient(t, ['--server', `127.0.0.1:${port}`, '--source', SAMPLE_VIDEO, '--fps', '5']);
  // Frames in flight: the first signal then waits for their answers.
  await client.until('a frame in flight', () => runner.holding > 0);
  client.signal('SIGTERM');
  await client.untilLog(/received SIGTERM: stopping capture/);
  client.signal('SIGTERM');
  t.is(await client.exited, 143, client.stderr);
  t.regex(client.stderr, /received SIGTERM again: exiting at once/);
});

(haveFfmpeg() ? test : test.skip)('a live camera that never came up: stopped, exit 1 (a failed source wins over 3); its summary says why', async (t) => {
  const { port } = await silentServer(t);
  const client = startClient(t, ['--server', `127.0.0.1:${port}`, '--source', `ghost=tcp://127.0.0.1:${await freePort()}`]);
  await client.untilLog(/ghost: cannot open the camera .*attempt 2/);
  client.signal('SIGTERM');
  t.is(await client.exited, 1, client.stderr);
  t.regex(client.stdout, /FAILED: the camera never gave a frame \(cannot open the camera/);
});

test('exit status: which code for which outcome, as client/README.md and --help say', async (t) => {
  const cases: Array<[string, Parameters<typeof exitCodeFor>[0], number]> = [
    ['sources ended', { failedSources: 0, answered: 10 }, 0],
    ['stopped after answers', { failedSources: 0, answered: 10, stoppedBy: 'SIGTERM' }, 0],
    ['a file failed, others answered', { failedSources: 1, answered: 10 }, 1],
    ['a lone camera that never gave a frame, stopped', { failedSources: 1, answered: 0, stoppedBy: 'SIGINT' }, 1],
    ['a camera that never gave a frame, others answered, stopped', { failedSources: 1, answered: 5, stoppedBy: 'SIGTERM' }, 1],
    ['stopped before any answer, every source working', { failedSources: 0, answered: 0, stoppedBy: 'quit' }, 3],
  ];
  for (const [what, report, code] of cases) t.is(exitCodeFor(report), code, what);
  // The README's table names the camera that never gave a frame under 1, and says 3 only when no source failed.
  const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'client', 'README.md'), 'utf8');
  const row = (code: number): string => new RegExp(`^\\| ${code} \\|(.*)$`, 'm').exec(readme)?.[1] ?? '';
  t.regex(row(1), /never gave a frame/);
  t.regex(row(1), /wins over 3/);
  t.regex(row(3), /no source failed/);
  t.notRegex(row(3), /never gave a frame/);
  const help = (await runCli(['client', '--help'])).stdout.replace(/\s+/g, ' ');
  t.regex(help, /1 a source failed or a live camera never gave a frame \(wins over 3\);/);
  t.regex(help, /3 stopped before any frame was answered, no source having failed/);
});

test('reordering sources keeps file names, CSV names and the server metrics names', async (t) => {
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }), metrics: true });
  const frames = tempDir('crowdline-names-');
  fs.copyFileSync(SAMPLE_VIDEO, path.join(frames, 'second.avi'));
  const sources = [`entrance=${SAMPLE_VIDEO}`, path.join(frames, 'second.avi')];
  const csvNames: string[][] = [];
  for (const order of [sources, [...sources].reverse()]) {
    const out = tempDir('crowdline-names-out-');
    const run = await runCli([
      'client',
      '--no-display',
      '--server',
      `127.0.0.1:${server.address.port}`,
      '--max-frames',
      '3',
      '--out',
      out,
      ...order.flatMap((s) => ['--source', s]),
    ]);
    t.is(run.code, 0, run.stderr);
    csvNames.push(fs.readdirSync(out).sort());
    for (const name of ['entrance', 'second']) {
      const rows = fs
        .readFileSync(path.join(out, `${name}.csv`), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      t.deepEqual(
        rows.map((r) => r.split(',')[0]),
        [name, name, name],
      );
    }
  }
  t.deepEqual(csvNames[0], ['entrance.avi', 'entrance.csv', 'second.avi', 'second.csv']);
  t.deepEqual(csvNames[1], csvNames[0]);
  const metrics = await (await fetch(`http://127.0.0.1:${server.metrics!.address.port}/metrics`)).text();
  const labels = [...metrics.matchAll(/crowdline_camera_people\{camera="([^"]+)"\}/g)].map((m) => m[1]).sort();
  t.deepEqual(labels, ['entrance', 'second']);
});
