/**
 * The well-behaved camera of bench/fair-attacks.ts, run on a worker thread
 * (workerData: GoodCameraJob; posts one CameraRun back): 5 fps of the given
 * frames, window 2, a frame due while two are unanswered skipped as a live
 * camera does. Its share is frames answered ok / frames due.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type ClientSecurity, V1Connection } from '../client/connection/connection.js';
import { FrameStatus } from '../src/framing/index.js';

export interface GoodCameraJob {
  host: string;
  port: number;
  seconds: number;
  security: ClientSecurity;
  jpegs: readonly Uint8Array[];
}

export interface CameraRun {
  due: number;
  ok: number;
  /** End-to-end latency of each frame answered ok, ms. */
  latencies: number[];
  /** Connect to WELCOME, ms. */
  connectMs: number;
  /** Why it could not connect, if it could not. */
  refused?: string;
}

const FPS = 5;
const WINDOW = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runGoodCamera(job: GoodCameraJob): Promise<CameraRun> {
  // Buffers arrive on a worker thread as plain Uint8Arrays; TLS wants Buffers back.
  const tls = job.security.tls;
  const security: ClientSecurity = tls?.ca ? { ...job.security, tls: { ...tls, ca: Buffer.from(tls.ca) } } : job.security;
  const t0 = performance.now();
  let conn: V1Connection;
  try {
    conn = await V1Connection.connect({ host: job.host, port: job.port, cameraName: 'good', window: WINDOW, connectTimeoutMs: 20_000, ...security });
  } catch (err) {
    return { due: job.seconds * FPS, ok: 0, latencies: [], connectMs: performance.now() - t0, refused: (err as Error).message };
  }
  const run: CameraRun = { due: 0, ok: 0, latencies: [], connectMs: performance.now() - t0 };
  const sentAt = new Map<number, number>();
  conn.on('result', (r) => {
    const at = sentAt.get(r.seq);
    sentAt.delete(r.seq);
    if (at !== undefined && r.status === FrameStatus.Ok) {
      run.ok++;
      run.latencies.push(performance.now() - at);
    }
  });
  const start = performance.now();
  for (let i = 0; i < job.seconds * FPS; i++) {
    await sleep(start + (i * 1000) / FPS - performance.now());
    run.due++;
    if (!conn.closed && sentAt.size < WINDOW) sentAt.set(conn.send(job.jpegs[i % job.jpegs.length]), performance.now());
  }
  // Replies to the last frames may come up to one second late and still count.
  const deadline = performance.now() + 1000;
  while (sentAt.size > 0 && !conn.closed && performance.now() < deadline) await sleep(20);
  conn.destroy();
  return run;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void runGoodCamera(workerData as GoodCameraJob).then((run) => port.postMessage(run));
}
