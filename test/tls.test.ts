/** TLS on the shared port: server certificates from a CA made here, mutual TLS identities, TLS-only v1. */
import { readFileSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import test from 'ava';
import { makePki, type Pki } from '../bench/throwaway-pki.js';
import { ServerRefusedError, V1Connection, type ClientSecurity } from '../client/connection/connection.js';
import { parseLegacyPolicy } from '../src/auth/legacy-policy.js';
import { encodeLegacyFrame, ErrorCode, FrameStatus, LegacyReplyParser } from '../src/framing/index.js';
import { legacyRoundTrip, metricValue, writeCredentials } from './helpers/auth.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer, tempDir } from './helpers/server.js';

const jpeg = blockPatternJpeg(64, 48, 8);
let pki: Pki;

test.before(async () => {
  pki = await makePki(tempDir('crowdline-pki-'), ['pi-gate', 'intruder']);
});

const tlsTo = (extra: Partial<NonNullable<ClientSecurity['tls']>> = {}): ClientSecurity['tls'] => ({ ca: readFileSync(pki.caCert), ...extra });

async function oneFrame(port: number, camera: string, security: ClientSecurity): Promise<number> {
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: camera, ...security });
  try {
    const results = collectResults(conn, 1);
    conn.send(jpeg);
    const [r] = await results;
    if (r.status !== FrameStatus.Ok) throw new Error(`status ${r.status}`);
    return r.count;
  } finally {
    conn.destroy();
  }
}

test('TLS + token: served over TLS; a plain client gets a clear TlsRequired error; an untrusted CA fails the handshake', async (t) => {
  const creds = await writeCredentials([{ name: 'cam' }]);
  const running = await startKnownAnswerServer(t, { security: { authFile: creds.file, tls: { cert: pki.serverCert, key: pki.serverKey } }, metrics: true });
  const port = running.address.port;
  t.true((await oneFrame(port, 'a', { token: creds.tokens.cam, tls: tlsTo() })) > 0);

  const plain = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'a', token: creds.tokens.cam }).catch((e: unknown) => e);
  t.true(plain instanceof ServerRefusedError);
  t.is((plain as ServerRefusedError).code, ErrorCode.TlsRequired);
  t.regex((plain as Error).message, /only over TLS/);

  const untrusted = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'a', token: creds.tokens.cam, tls: {} }).catch((e: unknown) => e);
  t.regex(String(untrusted), /self[- ]signed|unable to (get|verify)/i);
  t.is(await metricValue(running.metrics!.registry, 'crowdline_auth_refusals_total{cause="tls-required"}'), 1);
});

test('mutual TLS: the certificate CN is the identity (no token); camera limits from the credentials file apply', async (t) => {
  // The file lists pi-gate without a token, only to restrict its cameras.
  const dir = tempDir('crowdline-auth-');
  const file = `${dir}/credentials.json`;
  writeFileSync(file, JSON.stringify({ clients: [{ name: 'pi-gate', cameras: ['gate'] }] }));
  const running = await startKnownAnswerServer(t, {
    security: { authFile: file, tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } },
    metrics: true,
  });
  const port = running.address.port;
  const gate = pki.clients['pi-gate'];
  const withCert = tlsTo({ cert: readFileSync(gate.cert), key: readFileSync(gate.key) });
  t.true((await oneFrame(port, 'gate', { tls: withCert })) > 0);
  t.true((await metricValue(running.metrics!.registry, 'crowdline_camera_people{camera="pi-gate/gate"}')) > 0);

  const elsewhere = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'lobby', tls: withCert }).catch((e: unknown) => e);
  t.regex(String(elsewhere), /may not use camera "lobby"/);
  // A CA-signed certificate whose CN is not in the file is refused: the file is the list of who may connect.
  const other = pki.clients.intruder;
  const unlisted = await V1Connection.connect({
    host: '127.0.0.1',
    port,
    cameraName: 'lobby',
    tls: tlsTo({ cert: readFileSync(other.cert), key: readFileSync(other.key) }),
  }).catch((e: unknown) => e);
  t.regex(String(unlisted), /certificate identity "intruder" is not in the credentials file/);
  // Without a credentials file, any certificate the CA signed is an identity, with any camera.
  const open = await startKnownAnswerServer(t, { security: { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } } });
  t.true((await oneFrame(open.address.port, 'lobby', { tls: tlsTo({ cert: readFileSync(other.cert), key: readFileSync(other.key) }) })) > 0);
  const noCert = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'gate', tls: tlsTo() }).catch((e: unknown) => e);
  t.is((noCert as ServerRefusedError).code, ErrorCode.Unauthorized);
});

test('mutual TLS: a certificate from another CA is refused as unknown-certificate (logged and counted), not as a missing token', async (t) => {
  const stranger = await makePki(tempDir('crowdline-pki-other-'), ['pi-gate']);
  const lines: string[] = [];
  const running = await startKnownAnswerServer(t, {
    security: { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } },
    metrics: true,
    log: (line: string) => lines.push(line),
  });
  const port = running.address.port;
  // Same CN as a real identity, signed by a CA the server does not trust.
  const foreign = tlsTo({ cert: readFileSync(stranger.clients['pi-gate'].cert), key: readFileSync(stranger.clients['pi-gate'].key) });
  const refused = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'gate', tls: foreign }).catch((e: unknown) => e);
  t.true(refused instanceof ServerRefusedError, String(refused));
  t.is((refused as ServerRefusedError).code, ErrorCode.Unauthorized);
  t.regex((refused as Error).message, /client certificate "pi-gate" did not verify against the server's client CA \(.+\)/);
  const registry = running.metrics!.registry;
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="unknown-certificate"}'), 1);
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="no-token"}'), 0);
  t.true(
    lines.some((l) => /refused \(unknown-certificate\): client certificate "pi-gate" did not verify/.test(l)),
    lines.join('\n'),
  );
  // No certificate at all is still "no token".
  const bare = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'gate', tls: tlsTo() }).catch((e: unknown) => e);
  t.regex(String(bare), /requires a token/);
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="no-token"}'), 1);
});

test('TLS server: an allowed legacy client still works in plain text on the same port', async (t) => {
  const running = await startKnownAnswerServer(t, {
    security: { tls: { cert: pki.serverCert, key: pki.serverKey }, legacy: parseLegacyPolicy(['allow-from', '127.0.0.1/32']) },
  });
  const reply = await legacyRoundTrip(running.address.port, jpeg);
  t.is(reply.values.length, 8 * 6);
});

/** One legacy frame inside TLS; resolves with the reply's values, or undefined when the server closes without one. */
function legacyInsideTls(port: number): Promise<number[] | undefined> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), minVersion: 'TLSv1.2' }, () => socket.write(encodeLegacyFrame(jpeg)));
    const parser = new LegacyReplyParser();
    socket.on('data', (c: Buffer) => {
      const [reply] = parser.push(c);
      if (reply) {
        socket.destroy();
        resolve(Array.from(reply.values));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(undefined));
  });
}

test('legacy inside TLS follows the same --legacy rule as in plain text', async (t) => {
  // TLS without a rule: legacy is denied, inside TLS too.
  const denied = await startKnownAnswerServer(t, { security: { tls: { cert: pki.serverCert, key: pki.serverKey } }, metrics: true });
  t.is(await legacyInsideTls(denied.address.port), undefined);
  t.is(await metricValue(denied.metrics!.registry, 'crowdline_auth_refusals_total{cause="legacy-refused"}'), 1);
  // Allowed from this address: served inside TLS.
  const allowed = await startKnownAnswerServer(t, {
    security: { tls: { cert: pki.serverCert, key: pki.serverKey }, legacy: parseLegacyPolicy(['allow-from', '127.0.0.1/32']) },
  });
  t.is((await legacyInsideTls(allowed.address.port))?.length, 8 * 6);
  // Allowed from elsewhere only: refused inside TLS as in plain text.
  const elsewhere = await startKnownAnswerServer(t, {
    security: { tls: { cert: pki.serverCert, key: pki.serverKey }, legacy: parseLegacyPolicy(['allow-from', '10.9.0.0/16']) },
  });
  t.is(await legacyInsideTls(elsewhere.address.port), undefined);
});

test('TLS: BYE and half-close still get every reply before the close', async (t) => {
  const running = await startKnownAnswerServer(t, { security: { tls: { cert: pki.serverCert, key: pki.serverKey } } });
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'bye', window: 8, tls: tlsTo() });
  const results = collectResults(conn, 5);
  for (let i = 0; i < 5; i++) conn.send(jpeg);
  conn.bye();
  t.deepEqual(
    (await results).map((r) => r.seq),
    [0, 1, 2, 3, 4],
  );
});
