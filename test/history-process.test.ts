/**
 * History through a real server process (test/helpers/history-server.ts: the
 * accept layer over the fake runner, zones, the store on its own timers):
 * what a killed process keeps, and a full disk (a file-size limit) that
 * stops history but not serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { tempDir } from './helpers/server.js';
import { HISTORY_CHILD_SCRIPT, numberCamera, type HistoryChildSettings } from './helpers/history-server.js';

interface Child {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** Sends `metrics` on stdin and resolves to the Prometheus text. */
  metrics(): Promise<string>;
}

function startChild(settings: HistoryChildSettings, fileSizeLimitKiB?: number): Promise<Child> {
  const env = { ...process.env, HISTORY_CHILD: JSON.stringify(settings) };
  // The file-size limit (RLIMIT_FSIZE) is set by the shell for the node it execs; node ignores SIGXFSZ, so a write past it fails with EFBIG.
  const child =
    fileSizeLimitKiB === undefined
      ? spawn(process.execPath, [HISTORY_CHILD_SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -f ${fileSizeLimitKiB} && exec "$0" "$1"`, process.execPath, HISTORY_CHILD_SCRIPT], {
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start: ${stderr}`)), 20_000);
    child.on('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}): ${stderr}`)));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /port (\d+)/.exec(stdout);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(m[1]),
          stderr: () => stderr,
          metrics: () =>
            new Promise((done) => {
              const before = stdout.length;
              const poll = setInterval(() => {
                const text = stdout.slice(before);
                if (text.includes('\nend\n')) {
                  clearInterval(poll);
                  done(text);
                }
              }, 20);
              child.stdin.write('metrics\n');
            }),
        });
      }
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rows(dir: string): Array<{ zone: string; t: number; frames: number; people_max: number }> {
  const db = new Database(path.join(dir, 'history.db'));
  try {
    return db.prepare('SELECT s.zone, f.t, f.frames, f.people_max FROM fine f JOIN series s ON s.id = f.series ORDER BY s.zone, f.t').all() as Array<{
      zone: string;
      t: number;
      frames: number;
      people_max: number;
    }>;
  } finally {
    db.close();
  }
}

test('SIGKILL mid-run: every frame answered more than 2 s before the kill is in the database after a restart', async (t) => {
  const dir = tempDir();
  const server = await startChild({ dir, zones: 2 });
  const camera = numberCamera(server.port, { camera: 'cam', intervalMs: 40, frame: (i) => ({ value: i % 50, captureTimeMs: Date.now() }) });
  await sleep(3700);
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  const killedAt = Date.now();
  await exited;
  await camera.stop();
  // Frames answered (so recorded) at least 2 s before the kill, counted per second of capture time.
  const promised = new Map<number, number>();
  for (const a of camera.answered) {
    if (a.captureTimeMs < killedAt - 2000) promised.set(Math.floor(a.captureTimeMs / 1000), (promised.get(Math.floor(a.captureTimeMs / 1000)) ?? 0) + 1);
  }
  t.true(promised.size >= 1, 'the run lasted long enough to promise something');
  // A restart opens the same file (the WAL is replayed) without moving it aside.
  const restarted = await startChild({ dir, zones: 2 });
  restarted.child.kill('SIGTERM');
  t.notRegex(restarted.stderr(), /moved aside/);
  const stored = rows(dir).filter((r) => r.zone === 'z0');
  const frames = new Map(stored.map((r) => [r.t, r.frames]));
  for (const [second, n] of promised) t.true((frames.get(second) ?? 0) >= n, `second ${second}: ${n} frames answered, ${frames.get(second) ?? 0} stored`);
});

test('a full disk (a file-size limit) stops history writes with a log line and a metric; frames are still answered', async (t) => {
  const dir = tempDir();
  // 64 zones written 10 times a second fill 256 KiB of database and WAL within a second or two.
  const server = await startChild({ dir, zones: 64, flushIntervalMs: 100, retryMs: 200 }, 256);
  t.teardown(() => void server.child.kill('SIGKILL'));
  const camera = numberCamera(server.port, { camera: 'cam', intervalMs: 5, frame: (i) => ({ value: i % 50, captureTimeMs: Date.now() }) });
  const deadline = Date.now() + 30_000;
  while (!/history: writes stopped/.test(server.stderr()) && Date.now() < deadline) await sleep(100);
  t.regex(server.stderr(), /history: writes stopped \((disk-full|io-error): [^)]*\); serving goes on/);
  const answeredAtFailure = camera.answered.length;
  await sleep(1500);
  t.true(camera.answered.length > answeredAtFailure + 20, `frames still answered after the failure (${answeredAtFailure} -> ${camera.answered.length})`);
  t.true(
    camera.answered.every((a) => a.zones.length === 64),
    'every RESULT still has its zone block',
  );
  const metrics = await server.metrics();
  t.regex(metrics, /crowdline_history_writing 0/);
  t.regex(metrics, /crowdline_history_write_failures_total\{reason="(disk-full|io-error)"\} [1-9]/);
  t.regex(metrics, /crowdline_history_dropped_total\{kind="sample",reason="write-failed"\} [1-9]/);
  t.is(server.child.exitCode, null, 'the process is alive');
  t.is(server.child.signalCode, null);
  await camera.stop();
});
