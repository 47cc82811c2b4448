/**
 * Counting lines through the accept layer (fake runner: each "JPEG" is a
 * number): frames of a camera with lines are sent to the workers asking for
 * a grey copy, others are not; every ok frame reaches the lines in reply
 * order with its capture time, and each connection is told apart (so a
 * camera that reconnects restarts its motion instead of pairing frames
 * across the break).
 */
import net from 'node:net';
import test from 'ava';
import { CrowdServer } from '../src/accept/server.js';
import type { LineSource } from '../src/accept/session-deps.js';
import { ClientSideParser, DensityFormat, encodeFrame, encodeHello, MessageType, PROTOCOL_VERSION } from '../src/framing/index.js';
import type { BatchResult } from '../src/workers/types.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';

class RecordingRunner extends FakeRunner {
  readonly motion: boolean[] = [];
  override runBatch(jpegs: readonly Uint8Array[], motion?: readonly boolean[]): Promise<BatchResult> {
    this.motion.push(...(motion ?? jpegs.map(() => false)));
    return super.runBatch(jpegs);
  }
}

/** HELLO, the frames one at a time, BYE; resolves when the server closes. */
function stream(port: number, camera: string, times: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const parser = new ClientSideParser();
    let sent = 0;
    const next = (): void => {
      if (sent === times.length) socket.end(Buffer.from([MessageType.Bye, 0, 0, 0, 0, 0, 0, 0]));
      else socket.write(encodeFrame({ seq: ++sent, captureTimeMs: times[sent - 1], jpeg: numberFrame(sent) }));
    };
    socket.on('data', (c: Buffer) => {
      for (const m of parser.push(c)) if (m.type === 'welcome' || m.type === 'result') next();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.write(encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.None, countOnly: true, window: 0, cameraName: camera }));
  });
}

test('frames of a camera with lines ask for grey copies and reach the lines in order, one connection told from the next', async (t) => {
  const runner = new RecordingRunner(1, 0);
  const seen: Array<{ camera: string; connection: number; timeMs: number }> = [];
  const lines: LineSource = {
    wantsMotion: (camera) => camera === 'gate',
    observe: (camera, connection, timeMs) => {
      seen.push({ camera, connection, timeMs });
    },
  };
  const server = new CrowdServer({
    runner,
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    lines,
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  await stream(port, 'gate', [1000, 1100, 1200]);
  await stream(port, 'lobby', [1000, 1100]);
  await stream(port, 'gate', [1300, 1400]);
  t.deepEqual(runner.motion, [true, true, true, false, false, true, true]);
  // Every named camera's ok frames reach the lines, in order (the tracker ignores cameras without lines).
  t.deepEqual(
    seen.map((s) => [s.camera, s.timeMs]),
    [
      ['gate', 1000],
      ['gate', 1100],
      ['gate', 1200],
      ['lobby', 1000],
      ['lobby', 1100],
      ['gate', 1300],
      ['gate', 1400],
    ],
  );
  const connections = [...new Set(seen.filter((s) => s.camera === 'gate').map((s) => s.connection))];
  t.is(connections.length, 2);
});
