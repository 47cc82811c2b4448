/**
 * Child process for test/thread-nice.test.ts: lists this process's threads
 * (Linux /proc), starts a real WorkerPool (known-answer model), runs one
 * batch through it, and prints one JSON line: the threads that were there
 * before the pool, every thread now with its nice value (/proc/<pid>/task/
 * <tid>/stat field 19), and the pool's log lines. A process of its own, so
 * that nothing has started libuv's threadpool before the pool does.
 *
 *   node dist/test/helpers/thread-nice-probe.js '{"workers":2,"intraOpThreads":2,"decodeThreads":1,"workerNice":7}'
 */
import { readdirSync, readFileSync } from 'node:fs';
import { WorkerPool } from '../../src/workers/pool.js';
import { blockPatternJpeg } from './images.js';
import { knownAnswerModel } from './server.js';

export interface ProbeRequest {
  workers: number;
  intraOpThreads: number;
  decodeThreads: number;
  workerNice?: number;
  /** Terminate the first worker and wait for Piscina's replacement before reporting. */
  replaceOne?: boolean;
}

export interface ProbeReport {
  pid: number;
  before: number[];
  threads: Array<{ tid: number; nice: number }>;
  lines: string[];
}

const tids = (): number[] => readdirSync('/proc/self/task').map(Number);
/** Field 19 of /proc/PID/task/TID/stat; the name (field 2) may hold spaces, so count from its closing parenthesis. */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19 - 3]);
}

const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
const before = tids();
const lines: string[] = [];
const model = knownAnswerModel({ channels: 1, width: 64, height: 48 });
const pool = await WorkerPool.start({
  modelPath: model.onnxPath,
  device: 'cpu',
  workers: request.workers,
  intraOpThreads: request.intraOpThreads,
  decodeThreads: request.decodeThreads,
  workerNice: request.workerNice,
  maxBatch: 1,
  log: (line) => lines.push(line),
});
if (request.replaceOne) {
  await pool.threads[0]?.terminate();
  const deadline = Date.now() + 30_000;
  while (!lines.some((l) => /restarted, ready/.test(l))) {
    if (Date.now() > deadline) throw new Error(`no replacement worker: ${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
// Every worker and decode thread has started and run its start-up (a decode thread loads its module on its first task).
const jpeg = blockPatternJpeg(64, 48, 8);
await Promise.all(Array.from({ length: request.workers + request.decodeThreads }, () => pool.runBatch([jpeg])));
const report: ProbeReport = { pid: process.pid, before, threads: tids().map((tid) => ({ tid, nice: niceOf(tid) })), lines };
process.stdout.write(JSON.stringify(report) + '\n');
await pool.close();
