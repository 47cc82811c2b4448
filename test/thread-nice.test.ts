/**
 * --worker-nice: the worker and decode threads, and every thread they create
 * (ONNX Runtime's intra-op threads), run below the main thread; the main
 * thread and every thread that was there before the pool (V8's platform
 * threads, libuv's threadpool) keep the process's priority. Read from
 * /proc/<pid>/task/<tid>/stat (field 19) of real processes (Linux, with the
 * native addon built); the fallback (no addon, a refused call) as plain
 * functions.
 */
import os from 'node:os';
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nativeAddon } from '../src/workers/native-resize.js';
import { checkWorkerNice, DEFAULT_WORKER_NICE, lowerThisThread, planWorkerNice, type LowerThreadPriority } from '../src/workers/thread-nice.js';
import { runCli, startServeProcess } from './helpers/cli.js';
import { knownAnswerModel } from './helpers/server.js';
import type { ProbeReport, ProbeRequest } from './helpers/thread-nice-probe.js';

const PROBE = fileURLToPath(new URL('./helpers/thread-nice-probe.js', import.meta.url));
const canNice = process.platform === 'linux' && nativeAddon()?.lowerThreadPriority !== undefined;
const linuxTest = canNice ? test.serial : test.serial.skip;

/** Runs the probe (under `nice -n base` when base > 0) with libuv's threadpool sized `uvThreads`. */
async function probe(request: ProbeRequest, base: number, uvThreads: number): Promise<ProbeReport> {
  const args = [process.execPath, PROBE, JSON.stringify(request)];
  const [file, ...rest] = base > 0 ? ['nice', '-n', String(base), ...args] : args;
  const { stdout } = await promisify(execFile)(file, rest, { env: { ...process.env, UV_THREADPOOL_SIZE: String(uvThreads) }, timeout: 60_000 });
  return JSON.parse(stdout) as ProbeReport;
}

/** Sorts a report's threads: those there before the pool started, and those it started. */
function split(report: ProbeReport): { old: number[]; started: number[]; main: number | undefined } {
  const before = new Set(report.before);
  return {
    old: report.threads.filter((t) => before.has(t.tid)).map((t) => t.nice),
    started: report.threads.filter((t) => !before.has(t.tid)).map((t) => t.nice),
    main: report.threads.find((t) => t.tid === report.pid)?.nice,
  };
}

const POOL: ProbeRequest = { workers: 2, intraOpThreads: 2, decodeThreads: 1 };
/** Threads the pool starts: each worker and the threads of its session (intra-op 2: the worker and one more), and each decode thread. */
const POOL_THREADS = POOL.workers * POOL.intraOpThreads + POOL.decodeThreads;

linuxTest('workers, their ONNX Runtime threads and decode threads run at the process nice + --worker-nice; every other thread keeps it', async (t) => {
  const plain = await probe({ ...POOL, workerNice: 7 }, 0, 3);
  const s = split(plain);
  t.is(s.main, 0, 'the main thread keeps the priority');
  t.deepEqual(
    s.old,
    s.old.map(() => 0),
    'threads from before the pool (V8 platform, libuv threadpool) keep it',
  );
  t.deepEqual(
    s.started,
    Array.from({ length: POOL_THREADS }, () => 7),
    'exactly the workers, their intra-op threads and the decode thread are niced',
  );
  t.true(
    plain.lines.some((l) => /worker threads at nice 7: the process's 0 \+ --worker-nice 7/.test(l)),
    plain.lines.join('\n'),
  );

  // Relative to the process's own (a systemd unit's Nice=5): 5 and 12. A threadpool of 6 instead of 3 adds
  // exactly 3 threads to those from before the pool, so the threadpool is among them (never niced).
  const underFive = await probe({ ...POOL, workerNice: 7 }, 5, 6);
  const u = split(underFive);
  t.is(u.main, 5);
  t.is(underFive.before.length - plain.before.length, 3, "libuv's threadpool was running before the pool started");
  t.deepEqual(
    u.old,
    u.old.map(() => 5),
  );
  t.deepEqual(
    u.started,
    Array.from({ length: POOL_THREADS }, () => 12),
  );
});

linuxTest('a worker that dies is replaced by one at the same nice, its ONNX Runtime threads too', async (t) => {
  const report = await probe({ ...POOL, workerNice: 7, replaceOne: true }, 0, 4);
  const s = split(report);
  t.true(report.lines.some((l) => /restarted, ready/.test(l)));
  t.is(s.main, 0);
  t.deepEqual(
    s.old,
    s.old.map(() => 0),
  );
  t.deepEqual(
    s.started,
    Array.from({ length: POOL_THREADS }, () => 7),
    'the dead worker and its threads are gone, the replacement and its own are niced',
  );
});

linuxTest('the native call takes a whole number 0-19 only', (t) => {
  const lower = nativeAddon()?.lowerThreadPriority;
  if (!lower) return t.fail('no addon');
  // Only refused values: a valid call would lower this test process's main thread.
  for (const bad of [-1, 20, 1.5, Number.NaN, '3' as unknown as number]) t.throws(() => lower(bad), { instanceOf: RangeError }, String(bad));
});

linuxTest('--worker-nice is clamped at 19 (and says so); 0 leaves every thread where it was', async (t) => {
  const high = await probe({ ...POOL, workerNice: 7 }, 15, 4);
  const h = split(high);
  t.is(h.main, 15);
  t.deepEqual(
    h.started,
    Array.from({ length: POOL_THREADS }, () => 19),
  );
  t.true(
    high.lines.some((l) => /worker threads at nice 19: the process's 15 \+ --worker-nice 7 \(clamped/.test(l)),
    high.lines.join('\n'),
  );

  const off = await probe({ ...POOL, workerNice: 0 }, 0, 4);
  t.deepEqual(
    off.threads.map((th) => th.nice),
    off.threads.map(() => 0),
  );
  t.false(
    off.lines.some((l) => /worker threads at/.test(l)),
    'nothing to say when it is off',
  );
});

/** Nice of every thread of a process, the main thread apart. */
function serverThreads(pid: number): { main: number; others: number[] } {
  const niceOf = (tid: string): number => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
  };
  const tids = readdirSync(`/proc/${pid}/task`);
  return { main: niceOf(String(pid)), others: tids.filter((tid) => tid !== String(pid)).map(niceOf) };
}

linuxTest('crowdline serve: the default nice reaches the workers and their intra-op threads, and only them', async (t) => {
  const model = knownAnswerModel();
  const server = await startServeProcess(['--port', '0', '--model', model.onnxPath, '--device', 'cpu', '--workers', '2', '--intra-op-threads', '2']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const threads = serverThreads(server.child.pid!);
  // Relative to the nice the tests run at (a CI runner may itself run niced).
  const base = os.getPriority();
  const worker = Math.min(19, base + DEFAULT_WORKER_NICE);
  t.is(threads.main, base);
  t.is(threads.others.filter((n) => n === worker).length, 2 * 2, 'two sessions of two threads');
  t.is(threads.others.filter((n) => n !== worker && n !== base).length, 0);
  t.regex(server.log(), new RegExp(`worker threads at nice ${DEFAULT_WORKER_NICE}`));
});

test('serve refuses a --worker-nice outside 0-19 or not whole, before loading the model', async (t) => {
  for (const value of ['20', '-1', '2.5', 'low']) {
    const run = await runCli(['serve', '--model', '/nonexistent/model.onnx', `--worker-nice=${value}`], { timeoutMs: 30_000 });
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, /--worker-nice must be a whole number from 0 \(off\) to 19/);
  }
  t.throws(() => checkWorkerNice(19.5), { instanceOf: RangeError });
  t.notThrows(() => checkWorkerNice(0));
});

test('without the call (no addon, not Linux) or where the kernel refuses it, workers stay at the main thread priority, said once', (t) => {
  const missing = planWorkerNice(10, 'the native addon is not built');
  t.is(missing.increment, 0, 'the workers are told to do nothing');
  t.false(missing.applied);
  t.regex(missing.line, /--worker-nice 10 not applied: the native addon is not built/);

  const refused: LowerThreadPriority = () => {
    throw new Error('lowerThreadPriority: setpriority: Operation not permitted');
  };
  const denied = planWorkerNice(10, refused);
  t.is(denied.increment, 0);
  t.regex(denied.line, /not applied: .*Operation not permitted/);

  const calls: number[] = [];
  const fake: LowerThreadPriority = (n) => (calls.push(n), { before: 2, after: Math.min(19, 2 + n) });
  const plan = planWorkerNice(10, fake);
  t.deepEqual(calls, [0], 'the main thread only asks, with an increment of 0');
  t.like(plan, { increment: 10, mainNice: 2, workerNice: 12, applied: true });

  t.is(lowerThisThread(0, fake), undefined);
  t.deepEqual(calls, [0], 'nothing to do at 0');
  t.is(lowerThisThread(4, fake), undefined);
  t.deepEqual(calls, [0, 4]);
  t.regex(lowerThisThread(4, 'not Linux') ?? '', /priority not lowered: not Linux/);
  t.regex(lowerThisThread(4, refused) ?? '', /Operation not permitted/);
});
