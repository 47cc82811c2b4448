/**
 * Simulated cameras over real TCP connections (protocol v1).
 * Closed loop: each camera keeps `window` frames in flight, sending the next
 * as soon as a reply comes (measures capacity). Open loop: each camera sends
 * at a fixed fps whether or not replies come, like a real camera (measures
 * behaviour under a given offered load). Every run is bounded in time.
 */
import { performance } from 'node:perf_hooks';
import { V1Connection, type ClientSecurity } from '../client/connection/connection.js';
import { frameStatusName, type DensityFormatCode, type ResultMessage } from '../src/framing/index.js';
import type { ReplyCounts } from './report-types.js';

export interface LoadOptions {
  host: string;
  port: number;
  mode: 'closed' | 'open';
  cameras: number;
  /** Closed: frames in flight per camera. Open: the window asked for in HELLO. */
  window: number;
  /** Open loop only: frames per second per camera. */
  fpsPerCamera?: number;
  /** Open loop only: a camera skips a frame when this many are unanswered (bounds client memory). */
  maxPending?: number;
  jpegs: readonly Uint8Array[];
  warmupS: number;
  durationS: number;
  /** After the window, how long to wait for outstanding replies. */
  drainTimeoutS?: number;
  densityFormat?: DensityFormatCode;
  cameraPrefix?: string;
  /** Token and TLS settings for the cameras. */
  security?: ClientSecurity;
  onTick?(elapsedS: number, okInWindow: number): void;
}

/** Per-frame samples (ms) of the ok replies that arrived inside the window. */
export interface LatencySamples {
  endToEnd: number[];
  queue: number[];
  decode: number[];
  inference: number[];
  reply: number[];
  network: number[];
}

export interface LoadResult extends ReplyCounts {
  okInWindow: number;
  windowS: number;
  latency: LatencySamples;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    sent: 0,
    answered: 0,
    ok: 0,
    dropped: 0,
    failed: 0,
    skippedAtCamera: 0,
    unanswered: 0,
    duplicates: 0,
    okInWindow: 0,
    windowS: options.durationS,
    latency: { endToEnd: [], queue: [], decode: [], inference: [], reply: [], network: [] },
  };
  const connections = await Promise.all(
    Array.from({ length: options.cameras }, (_, c) =>
      V1Connection.connect({
        host: options.host,
        port: options.port,
        cameraName: `${options.cameraPrefix ?? 'bench'}-${c}`,
        window: options.window,
        densityFormat: options.densityFormat,
        ...options.security,
      }),
    ),
  );
  const t0 = performance.now();
  const windowStart = t0 + options.warmupS * 1000;
  const windowEnd = windowStart + options.durationS * 1000;
  const timers: NodeJS.Timeout[] = [];
  let sending = true;

  const cameras = connections.map((conn, c) => {
    const sentAt = new Map<number, number>();
    // Cameras start at different frames so batches mix different images.
    let nextFrame = Math.floor((c * options.jpegs.length) / options.cameras);
    const send = (): void => {
      const seq = conn.send(options.jpegs[nextFrame++ % options.jpegs.length]);
      sentAt.set(seq, performance.now());
      result.sent++;
    };
    conn.on('result', (m) => {
      const now = performance.now();
      const at = sentAt.get(m.seq);
      if (at === undefined) {
        result.duplicates++;
        return;
      }
      sentAt.delete(m.seq);
      record(result, m, now - at, now >= windowStart && now <= windowEnd);
      if (options.mode === 'closed' && sending && now < windowEnd) send();
    });
    return { conn, sentAt, send };
  });

  if (options.mode === 'closed') {
    for (const cam of cameras) for (let i = 0; i < options.window; i++) cam.send();
  } else {
    const fps = options.fpsPerCamera ?? 0;
    if (!(fps > 0)) throw new RangeError('open loop needs fpsPerCamera > 0');
    const periodMs = 1000 / fps;
    const maxPending = options.maxPending ?? 32;
    cameras.forEach((cam, c) => {
      // Stagger the cameras across one period, as unsynchronised cameras are.
      let due = t0 + (periodMs * c) / cameras.length;
      const tick = (): void => {
        if (!sending) return;
        const now = performance.now();
        // Catch up on frames that fell due while the loop was busy, as a camera would.
        while (due <= now && due < windowEnd) {
          if (cam.conn.pending >= maxPending || cam.conn.closed) result.skippedAtCamera++;
          else cam.send();
          due += periodMs;
        }
        if (due < windowEnd) timers.push(setTimeout(tick, Math.max(0, due - performance.now())));
      };
      tick();
    });
  }

  const progress = setInterval(() => options.onTick?.((performance.now() - t0) / 1000, result.okInWindow), 250);
  await sleep(windowEnd - performance.now());
  sending = false;
  for (const t of timers) clearTimeout(t);

  // Drain: every frame sent must be answered exactly once.
  const drainEnd = performance.now() + (options.drainTimeoutS ?? 30) * 1000;
  while (performance.now() < drainEnd && connections.some((c) => c.pending > 0 && !c.closed)) await sleep(20);
  clearInterval(progress);
  options.onTick?.((performance.now() - t0) / 1000, result.okInWindow);
  await Promise.all(connections.map((c) => closeGracefully(c)));
  result.unanswered = cameras.reduce((n, cam) => n + cam.sentAt.size, 0);
  return result;
}

function record(result: LoadResult, m: ResultMessage, e2eMs: number, inWindow: boolean): void {
  result.answered++;
  const status = frameStatusName(m.status);
  if (status === 'dropped') result.dropped++;
  else if (status !== 'ok') result.failed++;
  if (status !== 'ok') return;
  result.ok++;
  if (!inWindow) return;
  result.okInWindow++;
  const { queueUs, decodeUs, inferUs, serverUs } = m.timings;
  const l = result.latency;
  l.endToEnd.push(e2eMs);
  l.queue.push(queueUs / 1000);
  l.decode.push(decodeUs / 1000);
  l.inference.push(inferUs / 1000);
  l.reply.push(Math.max(0, serverUs - queueUs - decodeUs - inferUs) / 1000);
  l.network.push(Math.max(0, e2eMs - serverUs / 1000));
}

function closeGracefully(conn: V1Connection): Promise<void> {
  if (conn.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      conn.destroy();
      resolve();
    }, 5_000);
    conn.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    conn.bye();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
