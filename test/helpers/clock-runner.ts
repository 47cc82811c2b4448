/**
 * A BatchRunner whose worker time is virtual, so fairness tests count shares
 * of work rather than time (a loaded machine cannot flip them). A frame is
 * the text `c<cost>:<tag>`: it "costs" <cost> units of worker time (reported
 * as decode time, cost x 1 ms), and the runner records whose frame ran.
 * The runner's progress in units is the clock of liveCamera().
 */
import type { BatchRunner } from '../../src/batcher/types.js';
import type { BatchResult, FrameOutcome } from '../../src/workers/types.js';
import { V1Connection } from '../../client/connection/connection.js';
import { FrameStatus } from '../../src/framing/index.js';

export const clockFrame = (cost: number, tag: string): Buffer => Buffer.from(`c${cost}:${tag}`, 'latin1');

/** The tag of a clock frame, or undefined for any other bytes. */
export function clockTag(bytes: Uint8Array): { cost: number; tag: string } | undefined {
  const m = /^c(\d+):(.*)$/s.exec(Buffer.from(bytes.subarray(0, 64)).toString('latin1'));
  return m ? { cost: Number(m[1]), tag: m[2] } : undefined;
}

export class ClockRunner implements BatchRunner {
  /** Units of work done so far: the clock. */
  units = 0;
  /** Tags of the frames run, in order. */
  readonly served: string[] = [];
  private readonly listeners = new Set<() => void>();
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(readonly size = 1) {}

  /** Calls `listener` after every batch. */
  onProgress(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Holds every batch until resume(). */
  hold(): void {
    this.gate ??= new Promise((resolve) => (this.open = resolve));
  }

  resume(): void {
    this.open?.();
    this.gate = undefined;
  }

  countServed(tagPrefix: string): number {
    return this.served.filter((t) => t.startsWith(tagPrefix)).length;
  }

  async runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    const startedAtMs = Date.now();
    if (this.gate) await this.gate;
    // One batch per turn of the event loop: clients and the server interleave with the "worker".
    await new Promise((resolve) => setImmediate(resolve));
    const outcomes: FrameOutcome[] = jpegs.map((bytes, i) => {
      const frame = clockTag(bytes);
      const cost = frame?.cost ?? 1;
      this.units += cost;
      this.served.push(frame?.tag ?? '?');
      return { ok: true, count: cost, decodeUs: cost * 1000, height: 1, width: 1, densityOffset: i };
    });
    for (const listener of this.listeners) listener();
    return { outcomes, densities: new Float32Array(jpegs.length), inferUs: 0, startedAtMs, batchSize: jpegs.length };
  }
}

export interface LiveCameraResult {
  /** Frames due (one every `everyUnits` of the runner's work). */
  offered: number;
  /** Frames sent (a frame due while the window is full is skipped, as a live camera does). */
  sent: number;
  /** Frames answered ok. */
  answered: number;
}

/**
 * A live camera whose frame rate follows the runner's clock: one frame due
 * every `everyUnits` units of work done (by anyone); sent if fewer than
 * `window` are unanswered, else skipped. Its share: answered / offered.
 */
export async function liveCamera(
  port: number,
  runner: ClockRunner,
  o: { name: string; window: number; everyUnits: number; frames: number; localAddress?: string; token?: string },
): Promise<LiveCameraResult> {
  const conn = await V1Connection.connect({
    host: '127.0.0.1',
    port,
    cameraName: o.name,
    window: o.window,
    localAddress: o.localAddress,
    token: o.token,
    connectTimeoutMs: 60_000,
  });
  const result: LiveCameraResult = { offered: 0, sent: 0, answered: 0 };
  let outstanding = 0;
  let nextTick = runner.units + o.everyUnits;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const check = (): void => {
    if (result.offered >= o.frames && outstanding === 0) finish();
  };
  conn.on('result', (r) => {
    outstanding--;
    if (r.status === FrameStatus.Ok) result.answered++;
    check();
  });
  const stop = runner.onProgress(() => {
    while (runner.units >= nextTick && result.offered < o.frames) {
      nextTick += o.everyUnits;
      result.offered++;
      if (outstanding < o.window) {
        outstanding++;
        result.sent++;
        conn.send(clockFrame(1, `${o.name}#${result.offered}`));
      }
    }
    check();
  });
  try {
    await done;
  } finally {
    stop();
    conn.destroy();
  }
  return result;
}

/** A v1 client that keeps `window` frames of `cost` (padded with `padBytes`) in flight until stopped. */
export async function greedyPeer(
  port: number,
  o: { name: string; window: number; cost: number; localAddress?: string; padBytes?: number; token?: string },
): Promise<{ stop(): void; answered(): number }> {
  const pad = Buffer.alloc(o.padBytes ?? 0, 0x20);
  const conn = await V1Connection.connect({
    host: '127.0.0.1',
    port,
    cameraName: o.name,
    window: o.window,
    localAddress: o.localAddress,
    token: o.token,
    connectTimeoutMs: 60_000,
  });
  let n = 0;
  let answered = 0;
  let stopped = false;
  const send = (): void => {
    if (!stopped && !conn.closed)
      conn.send(pad.length > 0 ? Buffer.concat([clockFrame(o.cost, `${o.name}#${n++}:`), pad]) : clockFrame(o.cost, `${o.name}#${n++}`));
  };
  conn.on('result', () => {
    answered++;
    send();
  });
  for (let i = 0; i < o.window; i++) send();
  return {
    stop: () => {
      stopped = true;
      conn.destroy();
    },
    answered: () => answered,
  };
}
