/**
 * Live sources run in real time: against a server slower than the camera the
 * client sends the newest frame and skips the rest, so latency stays bounded
 * instead of growing with a backlog.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { BatchRunner } from '../src/batcher/types.js';
import { PACKAGE_ROOT, SAMPLE_VIDEO } from '../src/app/paths.js';
import type { BatchResult } from '../src/workers/types.js';
import { startServerWithRunner, tempDir } from './helpers/server.js';

const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
const SERVICE_MS = 100;

/** One frame at a time, SERVICE_MS each: a 10 fps server. */
class SlowRunner implements BatchRunner {
  readonly size = 1;
  async runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    const startedAtMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, SERVICE_MS));
    return {
      outcomes: jpegs.map((_, i) => ({ ok: true as const, count: 1, decodeUs: 1, height: 1, width: 1, densityOffset: i })),
      densities: new Float32Array(jpegs.length).fill(1),
      inferUs: SERVICE_MS * 1000,
      startedAtMs,
      batchSize: jpegs.length,
    };
  }
}

test('live source against a slow server: newest frame wins, no backlog', async (t) => {
  const { port } = await startServerWithRunner(t, new SlowRunner());
  const out = tempDir('crowdline-live-');
  const startedAt = Date.now();
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const child = spawn(
      process.execPath,
      [CLI, 'client', '--server', `127.0.0.1:${port}`, '--source', SAMPLE_VIDEO, '--live', '--fps', '25', '--max-frames', '50', '--no-display', '--out', out],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const seconds = (Date.now() - startedAt) / 1000;
  t.is(run.code, 0, run.stderr);
  const rows = fs
    .readFileSync(path.join(out, 'vtest.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  const frames = rows.map((r) => Number(r[1]));
  const latencies = rows.map((r) => Number(r[5]));
  t.log(`${rows.length} of 50 frames sent in ${seconds.toFixed(1)} s; latencies ${latencies.join(' ')}`);
  // 50 frames at 25 fps is 2 s of video; the server answers ~10 a second.
  t.true(rows.length < 40, `sent ${rows.length}: frames should have been skipped`);
  t.true(rows.length >= 8, `sent only ${rows.length}`);
  t.true(
    frames.every((f, i) => i === 0 || f > frames[i - 1]),
    'frames in order, with gaps',
  );
  t.true(frames[frames.length - 1] >= 40, `the last frames sent are recent (last ${frames[frames.length - 1]})`);
  // Live window is 2: a frame waits for at most the two sent before it, never for a backlog. Counted from the
  // CSV's own clock (answered = captured + latency), so a slow machine cannot fail it and a backlog cannot pass it.
  const captured = rows.map((r) => Number(r[3]));
  const answered = captured.map((c, i) => c + latencies[i]);
  const ahead = captured.map((c, i) => answered.slice(0, i).filter((a) => a > c).length);
  t.log(`unanswered frames ahead of each one when it was captured: ${ahead.join(' ')}`);
  t.true(Math.max(...ahead) <= 2, `a frame found ${Math.max(...ahead)} earlier frames unanswered`);
  t.regex(run.stdout, /skipped [1-9]\d*/);
});
