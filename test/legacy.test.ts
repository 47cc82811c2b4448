/**
 * A client that behaves byte for byte like the seed's client.py (sections
 * 3.1-3.3 of its report): str(len).ljust(16) + JPEG via sock.send, then one
 * recv(16) per header and recv(1024) until the map is complete.
 */
import net from 'node:net';
import test from 'ava';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { startKnownAnswerServer } from './helpers/server.js';

/** Python-like blocking socket: recv(n) returns up to n bytes (may be fewer). */
class PySocket {
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<PySocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new PySocket(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  send(data: Buffer | string): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  async recv(n: number): Promise<Buffer> {
    while (this.buffered.length === 0 && !this.ended) await new Promise<void>((r) => this.waiters.push(r));
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }

  close(): void {
    this.socket.end();
  }
}

const kHeadLen = 16;
const kMTU = 1024;

// socket_send_recv.py, kSendAll = kRecvAll = True (the pipelined form).
function sendImg(sock: PySocket, encoded: Buffer): void {
  sock.send(String(encoded.length).padEnd(kHeadLen));
  sock.send(encoded);
}

async function recvDataLen(sock: PySocket): Promise<number | undefined> {
  const recv = await sock.recv(kHeadLen);
  if (recv.length === 0) return undefined;
  return Number.parseInt(recv.toString('latin1'), 10);
}

async function recvDensity(sock: PySocket, dataLen: number): Promise<{ h: number; w: number; values: Float32Array }> {
  const h = Number.parseInt((await sock.recv(kHeadLen)).toString('latin1'), 10);
  const w = Number.parseInt((await sock.recv(kHeadLen)).toString('latin1'), 10);
  let data = Buffer.alloc(0);
  while (data.length < dataLen) data = Buffer.concat([data, await sock.recv(kMTU)]);
  const values = new Float32Array(h * w);
  for (let i = 0; i < values.length; i++) values[i] = data.readFloatLE(i * 4);
  return { h, w, values };
}

test('an unchanged seed client gets density maps of the right shape and sum', async (t) => {
  const running = await startKnownAnswerServer(t, { channels: 3 });
  const sock = await PySocket.connect(running.address.port);
  for (let frame = 0; frame < 5; frame++) {
    // The seed sends 3-channel grey frames; 640x480 is resized to the model's 64x48.
    const jpeg = blockPatternJpeg(640, 480, 80, { colour: true, salt: frame });
    sendImg(sock, jpeg);
    const dataLen = await recvDataLen(sock);
    t.is(dataLen, 8 * 6 * 4);
    const density = await recvDensity(sock, dataLen!);
    t.is(density.h, 6);
    t.is(density.w, 8);
    const expected = expectedBlockDensity(8, 6, frame);
    const sum = density.values.reduce((a, b) => a + b, 0);
    const expectedSum = expected.reduce((a, b) => a + b, 0);
    t.true(Math.abs(sum - expectedSum) < (48 * 1.01) / 255, `frame ${frame}: sum ${sum} vs ${expectedSum}`);
  }
  sock.close();
});

test('legacy: a header that is not a number closes that connection only', async (t) => {
  const running = await startKnownAnswerServer(t, { channels: 3 });
  const bad = await PySocket.connect(running.address.port);
  bad.send('12x             ');
  t.is((await bad.recv(16)).length, 0, 'server closed the connection');
  const good = await PySocket.connect(running.address.port);
  sendImg(good, blockPatternJpeg(64, 48, 8, { colour: true }));
  t.is(await recvDataLen(good), 8 * 6 * 4);
  good.close();
});

test('legacy: a corrupt JPEG is answered with an empty map and the connection goes on', async (t) => {
  const running = await startKnownAnswerServer(t, { channels: 3 });
  const sock = await PySocket.connect(running.address.port);
  sendImg(sock, Buffer.from('this is not a jpeg'));
  t.is(await recvDataLen(sock), 0);
  const empty = await recvDensity(sock, 0);
  t.is(empty.h, 0);
  t.is(empty.w, 0);
  sendImg(sock, blockPatternJpeg(64, 48, 8, { colour: true }));
  t.is(await recvDataLen(sock), 8 * 6 * 4);
  sock.close();
});
