/** Token authentication at the v1 HELLO (docs/protocol.md §3.1.1, docs/security.md). */
import net from 'node:net';
import test from 'ava';
import yargs from 'yargs';
import { ServerRefusedError, V1Connection } from '../client/connection/connection.js';
import { AddressList } from '../src/auth/address-list.js';
import { parseLegacyPolicy } from '../src/auth/legacy-policy.js';
import { securityWarnings } from '../src/auth/posture.js';
import { FailureThrottle } from '../src/auth/throttle.js';
import { toStartOptions, withServerOptions, type ServerArgv } from '../cli/server-options.js';
import {
  ClientSideParser,
  DensityFormat,
  encodeFrame,
  encodeHello,
  encodeLegacyFrame,
  ErrorCode,
  FrameStatus,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '../src/framing/index.js';
import { exchange, legacyRoundTrip, metricValue, writeCredentials } from './helpers/auth.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer } from './helpers/server.js';

const jpeg = blockPatternJpeg(64, 48, 8);

async function refusal(promise: Promise<V1Connection>): Promise<ServerRefusedError> {
  const err = await promise.then(
    (conn) => {
      conn.destroy();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(err instanceof ServerRefusedError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

test('good token: frames answered, labelled by the identity (not the claim); wrong, missing and foreign-camera tokens refused', async (t) => {
  const creds = await writeCredentials([{ name: 'station-north', cameras: ['north-1'] }, { name: 'pi-gate' }]);
  const log: string[] = [];
  const running = await startKnownAnswerServer(t, { security: { authFile: creds.file }, metrics: true, log: (l) => log.push(l) });
  const port = running.address.port;
  const registry = running.metrics!.registry;

  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'north-1', token: creds.tokens['station-north'] });
  const results = collectResults(conn, 2);
  conn.send(jpeg);
  conn.send(jpeg);
  t.true((await results).every((r) => r.status === FrameStatus.Ok));
  conn.destroy();
  t.true((await metricValue(registry, 'crowdline_camera_people{camera="station-north/north-1"}')) > 0);

  const wrong = await refusal(V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'north-1', token: creds.tokens['pi-gate'].slice(0, -4) + 'AAAA' }));
  t.is(wrong.code, ErrorCode.Unauthorized);
  const garbage = await refusal(V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'north-1', token: 'let-me-in' }));
  t.is(garbage.code, ErrorCode.Unauthorized);
  const missing = await refusal(V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'north-1' }));
  t.is(missing.code, ErrorCode.Unauthorized);
  t.regex(missing.message, /requires a token/);
  const foreign = await refusal(V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'south-9', token: creds.tokens['station-north'] }));
  t.regex(foreign.message, /may not use camera "south-9"/);
  // pi-gate has no camera list: any name, labelled with its identity.
  const any = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'north-1', token: creds.tokens['pi-gate'] });
  const r = collectResults(any, 1);
  any.send(jpeg);
  t.is((await r)[0].status, FrameStatus.Ok);
  any.destroy();
  t.true((await metricValue(registry, 'crowdline_camera_people{camera="pi-gate/north-1"}')) > 0);

  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="bad-token"}'), 2);
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="no-token"}'), 1);
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="camera-not-allowed"}'), 1);

  // Neither tokens, nor their secrets, nor the stored hashes ever reach the log.
  const text = log.join('\n');
  t.true(
    log.some((l) => /refused \(bad-token\)/.test(l)),
    text,
  );
  for (const token of Object.values(creds.tokens)) {
    for (const part of [token, token.split('.')[2], token.slice(0, -4)]) t.false(text.includes(part), 'a token or secret in the log');
  }
  t.false(text.includes('let-me-in'));
  t.false(/scrypt:/.test(text));
});

test('a wrong token costs no worker time: frames pipelined behind the HELLO are never admitted', async (t) => {
  const creds = await writeCredentials([{ name: 'cam' }]);
  const running = await startKnownAnswerServer(t, { security: { authFile: creds.file }, metrics: true });
  const registry = running.metrics!.registry;
  const hello = encodeHello({
    version: 1,
    densityFormat: 0,
    countOnly: false,
    window: 4,
    cameraName: 'cam',
    token: creds.tokens.cam.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
  });
  const frames = [0, 1, 2].map((seq) => encodeFrame({ seq, captureTimeMs: 0, jpeg }));
  const { messages } = await exchange(running.address.port, Buffer.concat([hello, ...frames]));
  t.deepEqual(
    messages.map((m) => m.type),
    ['error'],
  );
  t.like(messages[0], { code: ErrorCode.Unauthorized });
  t.is(await metricValue(registry, 'crowdline_frames_received_total'), 0);
  t.is(await metricValue(registry, 'crowdline_batch_size_count'), 0);
  t.is(await metricValue(registry, 'crowdline_auth_refusals_total{cause="bad-token"}'), 1);
});

test('legacy clients: refused under auth; allowed from an allowed range only', async (t) => {
  const creds = await writeCredentials([{ name: 'cam' }]);
  const legacyFrame = encodeLegacyFrame(jpeg);
  const denied = await startKnownAnswerServer(t, { security: { authFile: creds.file }, metrics: true });
  const refused = await exchange(denied.address.port, legacyFrame);
  t.is(refused.raw.length, 0, 'closed without a reply (the legacy format has none)');
  t.is(await metricValue(denied.metrics!.registry, 'crowdline_auth_refusals_total{cause="legacy-refused"}'), 1);
  t.is(await metricValue(denied.metrics!.registry, 'crowdline_frames_received_total'), 0);

  const elsewhere = await startKnownAnswerServer(t, { security: { authFile: creds.file, legacy: parseLegacyPolicy(['allow-from', '10.0.0.0/8']) } });
  t.is((await exchange(elsewhere.address.port, legacyFrame)).raw.length, 0);

  const allowed = await startKnownAnswerServer(t, { security: { authFile: creds.file, legacy: parseLegacyPolicy(['allow-from', '10.0.0.0/8,127.0.0.0/8']) } });
  const reply = await legacyRoundTrip(allowed.address.port, jpeg);
  t.is(reply.width * reply.height, 8 * 6);
});

test('repeated failures from one address are slowed down, per address, and forgiven after a success or a quiet spell', (t) => {
  let now = 0;
  const throttle = new FailureThrottle({ freeFailures: 3, firstDelayMs: 250, maxDelayMs: 4000, forgetAfterMs: 60_000, now: () => now });
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    delays.push(throttle.delayMs('10.0.0.1'));
    throttle.failed('10.0.0.1');
  }
  t.deepEqual(delays, [0, 0, 0, 250, 500, 1000, 2000, 4000]);
  t.is(throttle.delayMs('10.0.0.2'), 0, 'another address is not affected');
  throttle.succeeded('10.0.0.1');
  t.is(throttle.delayMs('10.0.0.1'), 0);
  for (let i = 0; i < 5; i++) throttle.failed('10.0.0.3');
  now += 61_000;
  t.is(throttle.delayMs('10.0.0.3'), 0);
});

test('address lists match IPv4, IPv4-mapped IPv6 and IPv6; bad ranges are rejected', (t) => {
  const list = AddressList.parse('10.0.0.0/8, 192.168.1.7, fd00::/8');
  t.true(list.has('10.2.3.4'));
  t.true(list.has('::ffff:10.2.3.4'));
  t.true(list.has('192.168.1.7'));
  t.false(list.has('192.168.1.8'));
  t.true(list.has('fd00::1'));
  t.false(list.has(undefined));
  t.throws(() => AddressList.parse('10.0.0.0/33'));
  t.throws(() => AddressList.parse('camera-7'));
  t.throws(() => parseLegacyPolicy(['allow-from']));
});

test('start-up warnings name what is open', (t) => {
  const open = securityWarnings({ host: '0.0.0.0', port: 7878, authRequired: false, tls: false, legacy: { kind: 'allow' } });
  t.is(open.length, 1);
  t.regex(open[0], /without authentication/);
  t.deepEqual(securityWarnings({ host: '127.0.0.1', port: 7878, authRequired: false, tls: false, legacy: { kind: 'allow' }, metricsHost: '127.0.0.1' }), []);
  const hardened = securityWarnings({
    host: '0.0.0.0',
    port: 7878,
    authRequired: true,
    tls: true,
    legacy: parseLegacyPolicy(['allow-from', '10.1.0.0/16']),
    metricsHost: '0.0.0.0',
  });
  t.is(hardened.length, 2);
  t.regex(hardened[0], /legacy protocol .* allowed from 10\.1\.0\.0\/16/);
  t.regex(hardened[1], /metrics on 0\.0\.0\.0/);
});

test('serve options: metrics on 127.0.0.1 unless told otherwise, whatever --host says; security flags become start options', (t) => {
  const parse = (args: string[]): ServerArgv =>
    withServerOptions(yargs(args))
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseSync() as unknown as ServerArgv;
  const plain = toStartOptions(parse(['--metrics-port', '9464']), '0.0.0.0', 7878);
  t.like(plain.metrics, { host: '127.0.0.1', port: 9464 });
  t.deepEqual(plain.security, { authFile: undefined, tls: undefined, legacy: undefined, checkLimits: { maxRunning: 2, maxPerAddress: 8 } });
  const hardened = toStartOptions(
    parse([
      '--metrics-port',
      '0',
      '--metrics-host',
      '10.0.0.5',
      '--auth',
      'c.yaml',
      '--tls-cert',
      'c.pem',
      '--tls-key',
      'k.pem',
      '--legacy',
      'allow-from',
      '10.1.0.0/16',
    ]),
    '0.0.0.0',
    7878,
  );
  t.is(hardened.metrics?.host, '10.0.0.5');
  t.like(hardened.security, { authFile: 'c.yaml', tls: { cert: 'c.pem', key: 'k.pem', clientCa: undefined }, legacy: { kind: 'allow-from' } });
  // Refused while parsing, before any model loads.
  t.throws(() => parse(['--tls-client-ca', 'ca.pem']), { message: /needs --tls-cert/ });
});

test('a zero-length token (docs/protocol.md §3.1.1) is a wrong token under auth, and ignored without', async (t) => {
  const hello = encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.None, countOnly: true, window: 0, cameraName: 'a', wantsZones: true });
  // The zones field (tag 2, length 0) ends the body: made a token field of length 0.
  t.deepEqual([...hello.subarray(-2)], [0x02, 0x00]);
  hello[hello.length - 2] = 0x01;
  const creds = await writeCredentials([{ name: 'cam' }]);
  const running = await startKnownAnswerServer(t, { security: { authFile: creds.file }, metrics: true });
  const { messages } = await exchange(running.address.port, hello);
  t.like(messages[0], { type: 'error', code: ErrorCode.Unauthorized, reason: 'token not accepted' });
  t.is(await metricValue(running.metrics!.registry, 'crowdline_auth_refusals_total{cause="bad-token"}'), 1);
  t.is(await metricValue(running.metrics!.registry, 'crowdline_auth_refusals_total{cause="no-token"}'), 0);
  // A server without auth takes the HELLO as if it had no token.
  const open = await startKnownAnswerServer(t);
  const first = await new Promise<ServerMessage>((resolve, reject) => {
    const socket = net.connect(open.address.port, '127.0.0.1', () => socket.write(hello));
    const parser = new ClientSideParser();
    socket.on('data', (c: Buffer) => {
      const [m] = parser.push(c);
      if (m) {
        socket.destroy();
        resolve(m);
      }
    });
    socket.on('error', reject);
  });
  t.is(first.type, 'welcome');
});

test('metrics warn only when bound beyond loopback: 127.0.0.0/8, ::1 and localhost do not', (t) => {
  const warn = (metricsHost: string): string[] =>
    securityWarnings({ host: '127.0.0.1', port: 7878, authRequired: false, tls: false, legacy: { kind: 'allow' }, metricsHost }).filter((l) =>
      l.includes('metrics'),
    );
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) t.deepEqual(warn(host), [], host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5']) t.is(warn(host).length, 1, host);
});
