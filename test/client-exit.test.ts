/**
 * Exit statuses, one per class of outcome, and names that do not depend on
 * the order of the sources. The real CLI in a child process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SAMPLE_VIDEO } from '../src/app/paths.js';
import type { BatchRunner } from '../src/batcher/types.js';
import type { BatchResult } from '../src/workers/types.js';
import { CLI, runCli } from './helpers/cli.js';
import { knownAnswerModel, startKnownAnswerServer, startServerWithRunner, tempDir } from './helpers/server.js';
import { freePort, haveFfmpeg } from './helpers/stream-camera.js';

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
    const run = await runCli(['client', '--no-display', ...args], { timeoutMs: 30_000 });
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
}

/** A server whose batches never finish while the test runs. */
async function silentServer(t: import('ava').ExecutionContext): Promise<number> {
  const runner = new SilentRunner();
  const { port } = await startServerWithRunner(t, runner);
  t.teardown(() => runner.release());
  return port;
}

function startClient(args: string[]) {
  const env = { ...process.env };
  delete env.DISPLAY;
  const child = spawn(process.execPath, [CLI, 'client', '--no-display', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (pattern: RegExp): Promise<void> => {
    for (let waited = 0; !pattern.test(stderr); waited += 100) {
      if (waited > 60_000) throw new Error(`no ${pattern} in:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, until, out: () => ({ stdout, stderr }) };
}

test('interrupted before any frame was answered: exit 3, with the summary', async (t) => {
  const port = await silentServer(t);
  const client = startClient(['--server', `127.0.0.1:${port}`, '--source', SAMPLE_VIDEO, '--fps', '5']);
  t.teardown(() => client.child.kill('SIGKILL'));
  await client.until(/crowdline client: 1 camera \(vtest\)/);
  client.child.kill('SIGINT');
  t.is(await client.exited, 3, client.out().stderr);
  t.regex(client.out().stderr, /received SIGINT: stopping capture/);
  t.regex(client.out().stdout, /crowdline client summary/);
  t.regex(client.out().stdout, /ok 0,/);
});

test('a second signal exits at once (128 + signal number)', async (t) => {
  const port = await silentServer(t);
  const client = startClient(['--server', `127.0.0.1:${port}`, '--source', SAMPLE_VIDEO, '--fps', '5']);
  t.teardown(() => client.child.kill('SIGKILL'));
  await client.until(/crowdline client: 1 camera/);
  client.child.kill('SIGTERM');
  await client.until(/received SIGTERM: stopping capture/);
  client.child.kill('SIGTERM');
  t.is(await client.exited, 143, client.out().stderr);
  t.regex(client.out().stderr, /received SIGTERM again: exiting at once/);
});

(haveFfmpeg() ? test : test.skip)('a live camera that never came up: stopped, exit 3; its summary says why', async (t) => {
  const port = await silentServer(t);
  const client = startClient(['--server', `127.0.0.1:${port}`, '--source', `ghost=tcp://127.0.0.1:${await freePort()}`]);
  t.teardown(() => client.child.kill('SIGKILL'));
  await client.until(/ghost: cannot open the camera .*attempt 2/);
  client.child.kill('SIGTERM');
  t.is(await client.exited, 3, client.out().stderr);
  t.regex(client.out().stdout, /FAILED: the camera never gave a frame \(cannot open the camera/);
});

test('reordering sources keeps file names, CSV names and the server metrics names', async (t) => {
  const server = await startKnownAnswerServer(t, { model: knownAnswerModel({ channels: 3, width: 96, height: 72 }), metrics: true });
  const frames = tempDir('crowdline-names-');
  fs.copyFileSync(SAMPLE_VIDEO, path.join(frames, 'second.avi'));
  const sources = [`entrance=${SAMPLE_VIDEO}`, path.join(frames, 'second.avi')];
  const csvNames: string[][] = [];
  for (const order of [sources, [...sources].reverse()]) {
    const out = tempDir('crowdline-names-out-');
    const run = await runCli(['client', '--no-display', '--server', `127.0.0.1:${server.address.port}`, '--max-frames', '3', '--out', out, ...order.flatMap((s) => ['--source', s])]);
    t.is(run.code, 0, run.stderr);
    csvNames.push(fs.readdirSync(out).sort());
    for (const name of ['entrance', 'second']) {
      const rows = fs.readFileSync(path.join(out, `${name}.csv`), 'utf8').trim().split('\n').slice(1);
      t.deepEqual(
        rows.map((r) => r.split(',')[0]),
        [name, name, name],
      );
    }
  }
  t.deepEqual(csvNames[0], ['entrance.avi', 'entrance.csv', 'second.avi', 'second.csv']);
  t.deepEqual(csvNames[1], csvNames[0]);
  const metrics = await (await fetch(`http://127.0.0.1:${server.metrics!.address.port}/metrics`)).text();
  const labels = [...metrics.matchAll(/crowdline_camera_head_count\{camera="([^"]+)"\}/g)].map((m) => m[1]).sort();
  t.deepEqual(labels, ['entrance', 'second']);
});
