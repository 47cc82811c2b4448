/**
 * One browser watching over a WebSocket. Updates are latest-only per camera:
 * an update not yet sent is replaced by a newer one, so however slowly the
 * browser reads, this viewer holds at most one pending update per camera.
 * Updates are written only while less than one frame's worth is on its way
 * (send callbacks say when bytes left for the kernel); state messages always
 * queue. Past `maxBufferedBytes` unsent, or with nothing taken for `stallMs`,
 * the viewer is cut.
 */
import type { WebSocket } from 'ws';
import type { ViewerSink } from './hub.js';
import { parseViewerRequest, type ServerMessage } from './wire.js';

export interface ViewerOptions {
  maxBufferedBytes: number;
  stallMs: number;
  /** Updates on their way at once (sent, not yet handed to the kernel). */
  inFlight?: number;
  now?: () => number;
  /** Why the viewer was cut (logs, metrics). */
  onCut?(reason: 'buffer' | 'stall' | 'bad-message'): void;
}

export class Viewer implements ViewerSink {
  private readonly pending = new Map<string, Buffer>();
  private watching: '*' | ReadonlySet<string> = '*';
  private inFlight = 0;
  /** Bytes of sends whose callbacks have not come back. */
  private inFlightBytes = 0;
  /** When the oldest of the sends in flight was made (undefined: none). */
  private waitingSince: number | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  /** Updates sent (tests and the bench read it). */
  sent = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: ViewerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxInFlight = options.inFlight ?? 2;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.closed = true;
      this.pending.clear();
    });
    ws.on('error', () => ws.terminate());
  }

  /** Updates waiting to be sent (at most one per camera). */
  get pendingCount(): number {
    return this.pending.size;
  }

  offer(camera: string, update: Buffer): void {
    if (this.closed || (this.watching !== '*' && !this.watching.has(camera))) return;
    // Re-inserting moves the camera to the end: cameras take turns.
    this.pending.delete(camera);
    this.pending.set(camera, update);
    this.pump();
  }

  sendState(message: ServerMessage): void {
    if (this.closed) return;
    this.write(JSON.stringify(message), false);
    this.checkBuffer();
  }

  checkStall(nowMs: number): void {
    if (this.closed || this.waitingSince === undefined) return;
    if (nowMs - this.waitingSince >= this.options.stallMs) this.cut('stall', 4008, 'took nothing for too long');
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.maxInFlight && this.pending.size > 0) {
      const [camera, update] = this.pending.entries().next().value as [string, Buffer];
      this.pending.delete(camera);
      this.write(update, true);
    }
    this.checkBuffer();
  }

  private write(data: Buffer | string, update: boolean): void {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.inFlight += update ? 1 : 0;
    this.inFlightBytes += bytes;
    this.waitingSince ??= this.now();
    if (update) this.sent++;
    this.ws.send(data, { binary: update }, () => {
      if (update) this.inFlight--;
      this.inFlightBytes -= bytes;
      // Progress: the stall clock restarts from now while anything is still on its way.
      this.waitingSince = this.inFlightBytes > 0 ? this.now() : undefined;
      if (update) this.pump();
    });
  }

  private checkBuffer(): void {
    if (!this.closed && this.ws.bufferedAmount > this.options.maxBufferedBytes) this.cut('buffer', 4009, 'too many bytes not read');
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const text = isBinary ? undefined : Buffer.isBuffer(data) ? data.toString('utf8') : undefined;
    const request = text === undefined ? undefined : parseViewerRequest(text);
    if (!request) {
      this.cut('bad-message', 1003, 'expected {"type":"watch","cameras":"*"|[names]}');
      return;
    }
    this.watching = request.cameras === '*' ? '*' : new Set(request.cameras);
    if (this.watching !== '*') for (const camera of [...this.pending.keys()]) if (!this.watching.has(camera)) this.pending.delete(camera);
  }

  private cut(reason: 'buffer' | 'stall' | 'bad-message', code: number, why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.options.onCut?.(reason);
    // A polite close for a browser that reads; a reader that does not would never see it, so terminate after a moment.
    if (reason === 'bad-message') {
      this.ws.close(code, why);
      setTimeout(() => this.ws.terminate(), 1_000).unref();
    } else {
      this.ws.terminate();
    }
  }
}
