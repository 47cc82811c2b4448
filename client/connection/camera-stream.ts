/**
 * One camera: its source, its server connection and the frames in flight.
 *
 * - Pipelined: up to the server-granted window of frames in flight.
 * - Live sources keep only the newest unsent frame while the window is full
 *   (older ones are skipped), so a slow server never builds a backlog.
 * - Recorded sources (files, folders) wait for room instead and send every
 *   frame in order; frames lost with a connection are sent again.
 * - When the connection goes, it reconnects with exponential backoff and
 *   jitter, so cameras cut off together (a server restart) do not all come
 *   back in the same instant.
 * - Every frame sent gets exactly one answer: the server's, or `lost` when
 *   it never can come (a live camera's connection went, or the client is
 *   stopping or failing), so the CSV has one row per frame sent.
 *
 * Frames come in two ways: in-process sources (files, folders, files played
 * live) are pulled by pump(), which the client loop calls between event-loop
 * turns; live cameras push theirs from a capture process through offer().
 */
import { Backoff } from '../capture/backoff.js';
import { ServerRefusedError, V1Connection } from './connection.js';
import { Frame, type RawFrame } from '../capture/frame.js';
import { scaleToMaxWidth } from '../capture/scale-down.js';
import type { StreamInput } from '../capture/stream-input.js';
import { errorText, type OpenCV } from '../opencv.js';
import { DensityFormat, frameStatusName, type LinesMessage, type ResultMessage, type ZonesMessage } from '../../src/framing/index.js';
import type { ClientCost } from '../run/cost.js';
import type { Answer, CameraStreamOptions, SentFrame, StreamState } from './stream-types.js';

export interface CameraStreamEvents {
  answer(stream: CameraStream, answer: Answer): void;
  /** A frame was read; `sent` is false when it was kept back or skipped (live sources). */
  captured(stream: CameraStream, frame: Frame, sent: boolean): void;
  log(line: string): void;
  /** Something happened that may let the loop do more work now. */
  wake(): void;
}

/** Server reconnects: 250 ms doubling to 5 s, each delay scaled by a random 0.5..1 (client/capture/backoff.ts). */
export const SERVER_RETRY = { firstMs: 250, maxMs: 5000 } as const;
const LIVE_DEFAULT_WINDOW = 2;

export class CameraStream {
  state: StreamState = 'connecting';
  failure: string | undefined;
  /** Why the connection is down (shown on the tile). */
  disconnectReason: string | undefined;
  framesRead = 0;
  /** Frames sent (a frame sent again after a reconnect counts once): each gets one answer. */
  framesSent = 0;
  skipped = 0;
  reconnects = 0;
  /** v1.2: the latest ZONES of the current connection (undefined: none, e.g. an older server). */
  zones: ZonesMessage | undefined;
  /** v1.4: the latest LINES of the current connection (undefined: none, e.g. an older server). */
  lines: LinesMessage | undefined;

  private connection: V1Connection | undefined;
  private window = 1;
  private readonly inFlight: SentFrame[] = [];
  /** Recorded sources: frames whose connection went before they were answered. */
  private readonly resend: Frame[] = [];
  /** Live sources: the newest frame not yet sent (encoded only if it is sent). */
  private newest: Frame | undefined;
  private sourceEnded = false;
  private stopping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private nextReadAt = 0;
  private everConnected = false;

  constructor(
    private readonly cv: OpenCV,
    readonly source: StreamInput,
    readonly options: CameraStreamOptions,
    private readonly events: CameraStreamEvents,
    private readonly cost: ClientCost,
    /** Delays between reconnects (tests pass one with a fixed random source). */
    private readonly retry: Backoff = new Backoff(SERVER_RETRY),
  ) {}

  get name(): string {
    return this.options.name;
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  get connected(): boolean {
    return this.state === 'streaming';
  }

  start(): void {
    void this.connect();
  }

  /** Stop reading; let the server answer what is in flight, then close. */
  stop(): void {
    if (this.finished) return;
    this.stopping = true;
    this.newest = undefined;
    // Frames waiting to be sent again will not be: they were sent once, so they get their `lost` row.
    // Those in flight stay: the server may still answer them (abort() gives them up).
    this.giveUpUnanswered('waiting');
    this.source.close();
    if (this.state !== 'streaming') {
      clearTimeout(this.retryTimer);
      this.connection?.destroy();
      this.finish('done');
      return;
    }
    this.maybeFinish();
  }

  /** Forced end (quit timeout): drop the connection; frames still in flight are answered `lost`. */
  abort(): void {
    clearTimeout(this.retryTimer);
    this.connection?.destroy();
    if (this.finished) return;
    this.finish('done');
    this.giveUpUnanswered();
  }

  /** Marks the stream failed (bad source), e.g. when a read throws. */
  fail(reason: string): void {
    if (this.finished) return;
    this.failure = reason;
    this.events.log(`${this.name}: ${reason}; the other cameras go on`);
    clearTimeout(this.retryTimer);
    this.connection?.destroy();
    this.finish('failed');
    this.giveUpUnanswered();
  }

  /**
   * Frames sent that no answer will come for now: each is answered `lost` (its CSV row, the summary's
   * count), in frame order. `waiting`: only those lost with a connection and waiting to be sent again.
   */
  private giveUpUnanswered(which: 'all' | 'waiting' = 'all'): void {
    const inFlight = which === 'all' ? this.inFlight.splice(0).map((sent) => sent.frame) : [];
    const frames = [...inFlight, ...this.resend.splice(0)].sort((a, b) => a.index - b.index);
    for (const frame of frames) this.events.answer(this, { frame, status: 'lost', latencyMs: Number.NaN });
  }

  /**
   * Pulled sources: does at most one frame's work: read (live files always
   * read at their pace, to stay current), then send if the window has room.
   * Returns true if it did anything.
   */
  pump(now: number): boolean {
    if (this.finished || this.stopping || !this.source.read) return false;
    if (this.source.live) return this.pumpLive(now);
    return this.pumpRecorded(now);
  }

  /** Pushed (live) sources: a new frame; it replaces any not yet sent. */
  offer(raw: RawFrame): void {
    if (this.finished || this.stopping || this.sourceEnded) return;
    const frame = this.accept(raw);
    if (frame) this.takeNewest(frame);
  }

  /** Earliest time pump() may have work again for a paced source (0: unknown / now). */
  get wakeAt(): number {
    return this.nextReadAt;
  }

  private pumpLive(now: number): boolean {
    // Files played live are paced at their frame rate.
    if (now < this.nextReadAt) return false;
    const frame = this.readFrame();
    if (!frame) return false;
    const period = 1000 / (this.options.fps || this.source.fps || 25);
    // Catch up at most one frame after a late tick; never burst.
    this.nextReadAt = Math.max(this.nextReadAt, now - period) + period;
    this.takeNewest(frame);
    return true;
  }

  private takeNewest(frame: Frame): void {
    if (this.newest) this.skipped++;
    this.newest = frame;
    const sent = this.sendNewest();
    this.events.captured(this, frame, sent);
  }

  private pumpRecorded(now: number): boolean {
    if (!this.hasRoom() || now < this.nextReadAt) return false;
    let frame = this.resend.shift();
    const again = frame !== undefined;
    if (!frame) {
      frame = this.readFrame();
      if (!frame) return false;
      this.events.captured(this, frame, true);
    }
    if (this.options.fps > 0) {
      const period = 1000 / this.options.fps;
      this.nextReadAt = Math.max(this.nextReadAt, now - period) + period;
    }
    this.send(frame, again);
    return true;
  }

  private hasRoom(): boolean {
    const conn = this.connection;
    return this.state === 'streaming' && conn !== undefined && this.inFlight.length < this.window && !conn.congested;
  }

  /** Reads the next frame of a pulled source; undefined at the end (or on failure). */
  private readFrame(): Frame | undefined {
    if (this.sourceEnded) return undefined;
    let raw: RawFrame | undefined;
    const t0 = performance.now();
    try {
      raw = this.source.read!();
    } catch (err) {
      this.fail(errorText(err));
      return undefined;
    }
    this.cost.add('capture', performance.now() - t0);
    if (!raw) {
      if (this.framesRead === 0) this.fail(`source "${this.source.text}" gave no frames`);
      else this.endOfSource();
      return undefined;
    }
    return this.accept(raw);
  }

  /** Numbers and scales a new frame; undefined once --max-frames is reached. */
  private accept(raw: RawFrame): Frame | undefined {
    if (this.options.maxFrames > 0 && this.framesRead >= this.options.maxFrames) {
      this.endOfSource();
      return undefined;
    }
    const t0 = performance.now();
    const input = scaleToMaxWidth(this.cv, raw, this.options.maxWidth);
    this.cost.add('capture', performance.now() - t0);
    return new Frame(this.cv, this.framesRead++, raw.capturedAtMs ?? Date.now(), input);
  }

  private endOfSource(): void {
    this.sourceEnded = true;
    this.source.close();
    this.maybeFinish();
  }

  private sendNewest(): boolean {
    if (!this.newest || !this.hasRoom()) return false;
    const frame = this.newest;
    this.newest = undefined;
    this.send(frame);
    return true;
  }

  /** `again`: a frame lost with a connection, sent once more (counted once in framesSent). */
  private send(frame: Frame, again = false): void {
    const jpeg = frame.needsEncoding ? this.cost.time('encode', () => frame.jpeg(this.options.jpegQuality)) : frame.jpeg(this.options.jpegQuality);
    const seq = this.connection!.send(jpeg, frame.captureTimeMs);
    this.inFlight.push({ frame, seq });
    if (!again) this.framesSent++;
  }

  private onResult(result: ResultMessage): void {
    const sent = this.inFlight.shift();
    if (!sent) return;
    if (sent.seq !== result.seq) {
      this.events.log(`${this.name}: answer for frame seq ${result.seq} while expecting ${sent.seq}; reconnecting`);
      this.inFlight.unshift(sent); // still unanswered: sent again (files) or marked lost (live)
      this.connection?.destroy();
      return;
    }
    const { frame } = sent;
    this.events.answer(this, {
      frame,
      status: frameStatusName(result.status),
      result,
      latencyMs: Date.now() - frame.captureTimeMs,
      zones: this.zones,
      lines: this.lines,
    });
    if (this.source.live) this.sendNewest();
    this.maybeFinish();
    this.events.wake();
  }

  private maybeFinish(): void {
    if (this.finished) return;
    if (this.stopping) {
      if (this.state === 'streaming' && this.inFlight.length > 0) return;
    } else {
      if (!this.sourceEnded || this.inFlight.length > 0 || this.resend.length > 0 || this.newest) return;
    }
    if (this.state === 'streaming') this.connection?.bye();
    this.finish('done');
  }

  private finish(state: 'done' | 'failed'): void {
    this.state = state;
    this.source.close();
    this.events.wake();
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    const { host, port } = this.options;
    let conn: V1Connection;
    try {
      conn = await V1Connection.connect({
        host,
        port,
        cameraName: this.name,
        densityFormat: this.options.densityFormat,
        countOnly: this.options.densityFormat === DensityFormat.None,
        // Live: a short pipeline keeps latency low (frames waiting at the server only age).
        window: this.options.window || (this.source.live ? LIVE_DEFAULT_WINDOW : 0),
        connectTimeoutMs: 5000,
        wantsZones: this.options.wantsZones,
        wantsLines: this.options.wantsLines,
        inputPolicy: this.options.inputPolicy,
        ...this.options.security,
      });
    } catch (err) {
      // A wrong token or a plain client at a TLS-only server: retrying would only be slowed down.
      if (err instanceof ServerRefusedError && err.permanent) return this.fail(err.message);
      this.retryLater(`cannot reach the server at ${host}:${port} (${errorText(err)})`);
      return;
    }
    if (this.finished || this.stopping) {
      conn.destroy();
      return;
    }
    this.connection = conn;
    this.window = Math.max(1, conn.welcome.window);
    this.state = 'streaming';
    this.disconnectReason = undefined;
    this.retry.reset();
    if (this.everConnected) {
      this.reconnects++;
      this.events.log(`${this.name}: reconnected to ${host}:${port}; going on`);
    }
    this.everConnected = true;
    // A new connection's server sends its zones again (or, if older, none).
    this.zones = undefined;
    this.lines = undefined;
    conn.on('zones', (zones) => (this.zones = zones));
    conn.on('lines', (lines) => (this.lines = lines));
    conn.on('result', (result) => this.onResult(result));
    conn.on('close', (err) => this.onClose(conn, err));
    this.events.wake();
  }

  private onClose(conn: V1Connection, err: Error | undefined): void {
    if (conn !== this.connection) return;
    this.connection = undefined;
    if (this.finished) return;
    // Frames in flight went with the connection: a live camera's are lost, a file's are sent again (unless stopping).
    if (this.stopping) {
      this.finish('done');
      this.giveUpUnanswered();
      return;
    }
    const lost = this.inFlight.splice(0).map((sent) => sent.frame);
    if (this.source.live) {
      for (const frame of lost) this.events.answer(this, { frame, status: 'lost', latencyMs: NaN });
    } else {
      this.resend.unshift(...lost);
    }
    this.retryLater(`lost the server at ${this.options.host}:${this.options.port}${err ? ` (${err.message})` : ''}`);
  }

  private retryLater(reason: string): void {
    if (this.finished) return;
    this.state = 'waiting-to-retry';
    this.disconnectReason = reason;
    const delay = this.retry.next();
    this.events.log(`${this.name}: ${reason}; retrying in ${(delay / 1000).toFixed(delay < 1000 ? 2 : 1)} s`);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
