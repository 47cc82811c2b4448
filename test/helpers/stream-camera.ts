/**
 * A network camera made on this machine: ffmpeg serving the sample video as
 * MPEG-TS over TCP on 127.0.0.1, in real time, looping. Like a real camera it
 * serves whoever connects and is there again after a client leaves; the test
 * can kill it (down until start()), freeze it (SIGSTOP) and thaw it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../bench/sample-video.js';
import { SAMPLE_VIDEO } from '../../src/app/paths.js';

/**
 * The sample video as MPEG-TS (MPEG-2 video, cheap to decode) with frequent key
 * frames, so a new viewer gets a picture at once; made once per machine and size.
 * Tests use 320x240; the soak bench the original 768x576.
 */
export function testClip(size = '320x240'): string {
  const clip = path.join(os.tmpdir(), `crowdline-test-clip-${size}-g5.ts`);
  if (!fs.existsSync(clip)) {
    const partial = `${clip}.${process.pid}.part`;
    const scale = `scale=${size.replace('x', ':')}`;
    runFfmpeg(['-i', SAMPLE_VIDEO, '-vf', scale, '-c:v', 'mpeg2video', '-q:v', '4', '-g', '5', '-an', '-f', 'mpegts', partial], 'cannot make the test clip');
    fs.renameSync(partial, clip);
  }
  return clip;
}

/** A port nobody listens on (yet). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class StreamCamera {
  private child: ChildProcess | undefined;
  private up = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly port: number,
    private readonly clip: string,
  ) {}

  /** A camera on a free port; down until start(). */
  static async create(clip = testClip()): Promise<StreamCamera> {
    return new StreamCamera(await freePort(), clip);
  }

  /** The serving process (changes each time a viewer leaves). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  start(): void {
    this.up = true;
    this.spawn();
  }

  /** Camera off: the process is killed and not restarted. */
  kill(): void {
    this.up = false;
    clearTimeout(this.respawnTimer);
    this.child?.kill('SIGKILL');
  }

  /** The stream freezes: connection open, no data. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  private spawn(): void {
    const child = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'quiet', '-nostdin', '-re', '-stream_loop', '-1', '-i', this.clip, '-c', 'copy', '-f', 'mpegts', `${this.url}?listen=1`],
      { stdio: 'ignore' },
    );
    this.child = child;
    child.on('exit', () => {
      if (this.child !== child || !this.up) return;
      // The viewer left (or was killed): serve the next one.
      this.respawnTimer = setTimeout(() => this.up && this.spawn(), 100);
    });
  }
}
