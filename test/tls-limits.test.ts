/**
 * TLS attacks of issue 27: handshakes held open from two addresses cannot
 * lock a camera out; renegotiation closes the connection; a flood of broken
 * handshakes costs a bounded number of log lines (before: one per handshake).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import test from 'ava';
import { makePki, type Pki } from '../bench/throwaway-pki.js';
import { V1Connection } from '../client/connection/connection.js';
import { encodeHello, FrameStatus } from '../src/framing/index.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer, tempDir } from './helpers/server.js';

let pki: Pki;
test.before(async () => {
  pki = await makePki(tempDir('crowdline-pki-'), []);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A socket that starts a TLS ClientHello (record header only) and then holds. */
function holdHandshake(port: number, localAddress: string): net.Socket {
  const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
  s.on('error', () => undefined);
  s.on('data', () => undefined); // read, so the server's close is seen
  return s;
}

test('handshakes held open from two addresses cannot lock a TLS camera out', async (t) => {
  const running = await startKnownAnswerServer(t, { security: { tls: { cert: pki.serverCert, key: pki.serverKey } }, metrics: true });
  const port = running.address.port;
  // 2 x 40 held handshakes: before, 2 x 32 (the per-address limit) took all 64 connection slots.
  const holders = [
    ...Array.from({ length: 40 }, () => holdHandshake(port, '127.0.0.2')),
    ...Array.from({ length: 40 }, () => holdHandshake(port, '127.0.0.3')),
  ];
  t.teardown(() => holders.forEach((s) => s.destroy()));
  // Wait until every holder was either refused or is holding.
  while (holders.filter((s) => s.destroyed).length < 80 - 2 * 8) await sleep(20);
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'good', tls: { ca: readFileSync(pki.caCert) } });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 3);
  for (let i = 0; i < 3; i++) conn.send(blockPatternJpeg(64, 48, 8, { salt: i }));
  t.true((await results).every((r) => r.status === FrameStatus.Ok));
  t.is(holders.filter((s) => !s.destroyed).length, 16, '8 handshakes per address');
});

test('TLS renegotiation is refused: the connection is closed at the first attempt', async (t) => {
  const running = await startKnownAnswerServer(t, { security: { tls: { cert: pki.serverCert, key: pki.serverKey } } });
  const socket = tls.connect({ port: running.address.port, host: '127.0.0.1', ca: readFileSync(pki.caCert), servername: 'localhost', maxVersion: 'TLSv1.2' });
  t.teardown(() => socket.destroy());
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'reneg' }));
  await new Promise((r) => socket.once('data', r)); // WELCOME: the session is up
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const renegotiated = new Promise<boolean>((resolve) => socket.renegotiate({}, (err) => resolve(err === null)));
  const outcome = await Promise.race([closed.then(() => 'closed' as const), renegotiated.then((ok) => (ok ? ('renegotiated' as const) : ('failed' as const)))]);
  t.not(outcome, 'renegotiated');
  await closed;
  while (running.server.connectionCount > 0) await sleep(10);
  t.pass();
});

test('400 broken TLS handshakes write a bounded number of log lines, and each connection is closed', async (t) => {
  const lines: string[] = [];
  const running = await startKnownAnswerServer(t, {
    security: { tls: { cert: pki.serverCert, key: pki.serverKey } },
    server: { maxConnectionsPerIp: 64, maxHandshakes: 64, maxHandshakesPerIp: 64 },
    log: (line) => lines.push(line),
  });
  const port = running.address.port;
  for (let round = 0; round < 8; round++) {
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            // A handshake record of garbage.
            const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])));
            s.on('error', () => undefined);
            s.on('data', () => undefined); // read, so the server's close is seen
            s.on('close', () => resolve());
          }),
      ),
    );
  }
  const tlsLines = lines.filter((l) => /TLS handshake failed/.test(l));
  t.true(tlsLines.length >= 1 && tlsLines.length <= 20, `${tlsLines.length} TLS failure lines for 400 handshakes`);
});
