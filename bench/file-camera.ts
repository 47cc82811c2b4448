/**
 * Cameras made of JPEG files for the console's tests and bench: protocol v1
 * with zones and the float32 density map, paced like a camera (one frame in
 * flight), every RESULT kept by frame number; and the sample video cut into
 * JPEG frames once per machine.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ClientSideParser,
  DensityFormat,
  encodeFrame,
  encodeHello,
  PROTOCOL_VERSION,
  type LinesMessage,
  type ResultMessage,
  type ServerMessage,
  type ZonesMessage,
} from '../src/framing/index.js';
import { cutSampleVideo, jpegsIn } from './sample-video.js';

/** The sample video's first `count` frames as JPEG files (made once per machine with ffmpeg), read into memory. */
export function sampleFrames(count: number, size = '768x576'): Buffer[] {
  const dir = path.join(os.tmpdir(), `crowdline-console-frames-${size}-${count}`);
  if (fs.existsSync(path.join(dir, 'done'))) return jpegsIn(dir);
  const frames = cutSampleVideo(dir, { count, size, quality: 4 });
  fs.writeFileSync(path.join(dir, 'done'), '');
  return frames;
}

/**
 * A camera: HELLO (asking for zones and the float32 density map), then the
 * frames in a loop at `fps`, paced like a camera, one in flight at a time.
 * Every RESULT is kept by seq.
 */
export class FileCamera {
  readonly results = new Map<number, ResultMessage>();
  zones: ZonesMessage | undefined;
  /** v1.4: the camera's counting lines (LINES), when the server has them. */
  lines: LinesMessage | undefined;
  private socket: net.Socket | undefined;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiting = false;
  private readonly parser = new ClientSideParser();
  readonly sent: Buffer[] = [];
  /** RESULTs received. */
  answered = 0;

  constructor(
    readonly name: string,
    private readonly frames: readonly Buffer[],
    private readonly options: { fps: number; token?: string; start?: number /** Keep every RESULT (tests) or only count them (the bench). */; keep?: boolean },
  ) {}

  connect(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      this.socket = socket;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        let messages: ServerMessage[];
        try {
          messages = this.parser.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const m of messages) {
          if (m.type === 'welcome') resolve();
          else if (m.type === 'zones') this.zones = m;
          else if (m.type === 'lines') this.lines = m;
          else if (m.type === 'result') {
            this.answered++;
            if (this.options.keep !== false) this.results.set(m.seq, m);
            this.waiting = false;
          } else if (m.type === 'error') reject(new Error(`camera ${this.name} refused: ${m.reason}`));
        }
      });
      socket.once('close', () => reject(new Error(`camera ${this.name}: connection closed`)));
      socket.write(
        encodeHello({
          version: PROTOCOL_VERSION,
          densityFormat: DensityFormat.Float32,
          countOnly: false,
          window: 1,
          cameraName: this.name,
          token: this.options.token,
          wantsZones: true,
          wantsLines: true,
        }),
      );
    });
  }

  /** Streams until stop(): one frame every 1/fps s, skipping a tick while the previous one is unanswered. */
  start(): void {
    this.timer = setInterval(() => {
      if (this.waiting || !this.socket || this.socket.destroyed) return;
      this.waiting = true;
      const frame = this.frames[((this.options.start ?? 0) + this.seq) % this.frames.length];
      this.seq++;
      if (this.options.keep !== false) this.sent.push(frame);
      this.socket.write(encodeFrame({ seq: this.seq, captureTimeMs: Date.now(), jpeg: frame }));
    }, 1000 / this.options.fps);
  }

  /** The camera stops sending; its connection stays open (as a frozen camera's would). */
  stop(): void {
    clearInterval(this.timer);
  }

  close(): void {
    this.stop();
    this.socket?.destroy();
  }
}
