/**
 * The hostile and greedy peers of issue 27's attack table, each bounded in
 * time and count, on 127.0.0.0/8 only. bench/fair-attacks.ts runs them
 * beside a good camera.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { V1Connection } from '../client/connection/connection.js';
import { encodeFrame, encodeHello, encodeLegacyFrame, LegacyReplyParser } from '../src/framing/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface Peer {
  /** Replies received so far. */
  answered(): number;
  stop(): void;
}

/** A v1 client keeping `window` frames in flight, the next sent as each reply comes, until stopped. */
export async function greedyV1(
  port: number,
  o: { name: string; window: number; frames: readonly Uint8Array[]; localAddress?: string; token?: string },
): Promise<Peer> {
  const conn = await V1Connection.connect({
    host: '127.0.0.1',
    port,
    cameraName: o.name,
    window: o.window,
    localAddress: o.localAddress,
    token: o.token,
    connectTimeoutMs: 30_000,
  });
  let n = 0;
  let answered = 0;
  let stopped = false;
  const send = (): void => void (!stopped && !conn.closed && conn.send(o.frames[n++ % o.frames.length]));
  conn.on('result', () => (answered++, send()));
  for (let i = 0; i < conn.welcome.window; i++) send();
  return { answered: () => answered, stop: () => ((stopped = true), conn.destroy()) };
}

/** A legacy client keeping `inFlight` frames pipelined (the server answers in order). */
export function greedyLegacy(port: number, o: { inFlight: number; frames: readonly Uint8Array[]; localAddress?: string }): Peer {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: o.localAddress });
  socket.on('error', () => undefined);
  const parser = new LegacyReplyParser();
  let n = 0;
  let answered = 0;
  const send = (): void => void (!socket.destroyed && socket.write(encodeLegacyFrame(o.frames[n++ % o.frames.length])));
  socket.on('data', (chunk: Buffer) => {
    try {
      const replies = parser.push(chunk).length;
      answered += replies;
      for (let i = 0; i < replies; i++) send();
    } catch {
      socket.destroy();
    }
  });
  socket.once('connect', () => Array.from({ length: o.inFlight }, send));
  return { answered: () => answered, stop: () => socket.destroy() };
}

/** Connects, sends HELLO and `count` frames in one burst, and goes at once (FIN), never reading a byte. */
export function sendWindowAndVanish(port: number, o: { name: string; count: number; frames: readonly Uint8Array[]; localAddress?: string }): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: o.localAddress }, () => {
      socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: o.count, cameraName: o.name }));
      for (let i = 0; i < o.count; i++) socket.write(encodeFrame({ seq: i, captureTimeMs: 0, jpeg: o.frames[i % o.frames.length] }));
      socket.end(() => {
        socket.destroy();
        resolve();
      });
    });
    socket.pause();
    socket.on('error', () => resolve());
  });
}

/** A socket that starts a TLS ClientHello (record header only) and then holds it open. */
export function holdTlsHandshake(port: number, localAddress: string): net.Socket {
  const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  return s;
}

/** `count` connections, `parallel` at a time, each writing a TLS handshake record of garbage; resolves when all closed. */
export async function garbageTlsHandshakes(port: number, count: number, parallel = 50): Promise<void> {
  for (let done = 0; done < count; done += parallel) {
    await Promise.all(
      Array.from(
        { length: Math.min(parallel, count - done) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])));
            const timer = setTimeout(() => s.destroy(), 10_000);
            s.on('error', () => undefined);
            s.on('data', () => undefined);
            s.on('close', () => (clearTimeout(timer), resolve()));
          }),
      ),
    );
  }
}

/**
 * Opens a TLS 1.2 session, completes HELLO/WELCOME, then renegotiates again
 * and again until the server closes or `max` succeed; returns how many did.
 */
export async function renegotiations(port: number, ca: Buffer, max: number, seconds: number): Promise<{ succeeded: number; closed: boolean }> {
  const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
  socket.on('error', () => undefined);
  let closed = false;
  socket.once('close', () => (closed = true));
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'reneg' }));
  await new Promise((r) => socket.once('data', r));
  const end = Date.now() + seconds * 1000;
  let succeeded = 0;
  while (!closed && succeeded < max && Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      if (!socket.renegotiate({}, (err) => resolve(err === null))) resolve(false);
      socket.once('close', () => resolve(false));
    });
    if (!ok) break;
    succeeded++;
  }
  await sleep(200);
  const wasClosed = closed || socket.destroyed;
  socket.destroy();
  return { succeeded, closed: wasClosed };
}

/**
 * HELLOs with a known key id and a wrong secret (each costs the server a
 * scrypt check), each connection reset right after it is written, `perTick`
 * every 10 ms until `count` are sent or `seconds` pass.
 */
export async function rstHelloFlood(
  port: number,
  o: { token: string; count: number; perTick: number; seconds: number; localAddress: string },
): Promise<number> {
  const hello = encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'flood', token: o.token });
  const end = Date.now() + o.seconds * 1000;
  let sent = 0;
  while (sent < o.count && Date.now() < end) {
    for (let i = 0; i < o.perTick && sent < o.count; i++, sent++) {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: o.localAddress }, () => {
        s.write(hello);
        s.resetAndDestroy();
      });
      s.on('error', () => undefined);
    }
    await sleep(10);
  }
  return sent;
}

/** `count` keep-alive connections that each make one request and then hold the connection idle. */
export async function idleKeepAlives(port: number, count: number, localAddress: string): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect({ port, host: '127.0.0.1', localAddress }, () =>
            s.write('GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n'),
          );
          s.on('error', () => undefined);
          s.once('data', () => resolve(s));
          s.once('close', () => resolve(s));
          setTimeout(() => resolve(s), 5_000);
        }),
    ),
  );
}

/** `count` sockets each sending one byte of a request header per second, until stopped. */
export function slowHeaders(port: number, count: number, localAddress: string): { stop(): void } {
  const text = `GET /readyz HTTP/1.1\r\nHost: bench\r\nX-Slow: ${'a'.repeat(4000)}`;
  const sockets = Array.from({ length: count }, () => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    return s;
  });
  let i = 0;
  const timer = setInterval(() => {
    for (const s of sockets) if (!s.destroyed && s.writable) s.write(text[i % text.length]);
    i++;
  }, 1000);
  return { stop: () => (clearInterval(timer), sockets.forEach((s) => s.destroy())) };
}

/** Probes GET /readyz on a new connection every `everyMs` for `seconds`: how many answered 200 within `timeoutMs`. */
export async function probeReadyz(port: number, o: { seconds: number; everyMs: number; timeoutMs: number }): Promise<{ sent: number; answered: number }> {
  const probes: Array<Promise<boolean>> = [];
  const end = Date.now() + o.seconds * 1000;
  while (Date.now() < end) {
    probes.push(
      new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: o.timeoutMs }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
      }),
    );
    await sleep(o.everyMs);
  }
  const results = await Promise.all(probes);
  return { sent: results.length, answered: results.filter(Boolean).length };
}
