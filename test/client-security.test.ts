/** The command line with security on: `crowdline auth`, and `crowdline client --tls --ca --token-file` against a hardened server. */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import test from 'ava';
import { makePki } from '../bench/throwaway-pki.js';
import { Credentials } from '../src/auth/credentials.js';
import { AuthGate } from '../src/auth/gate.js';
import { FailureThrottle } from '../src/auth/throttle.js';
import { writeCredentials } from './helpers/auth.js';
import { runCli } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel, startKnownAnswerServer, tempDir } from './helpers/server.js';

test('crowdline auth add prints the token once and stores only its hash (mode 600); list and remove', async (t) => {
  const file = path.join(tempDir('crowdline-auth-'), 'creds.yaml');
  const added = await runCli(['auth', 'add', 'gate-cam', '--file', file, '--camera', 'gate', '--camera', 'side']);
  t.is(added.code, 0, added.stderr);
  const token = added.stdout.trim();
  t.regex(token, /^cl1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
  const text = readFileSync(file, 'utf8');
  t.false(text.includes(token.split('.')[2]), 'the secret is not in the file');
  t.regex(text, /hash: scrypt:16384:8:1:/);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.deepEqual([...(Credentials.parse(text, file).named('gate-cam')?.cameras ?? [])], ['gate', 'side']);
  t.regex((await runCli(['auth', 'list', '--file', file])).stdout, /gate-cam\ttoken [0-9a-f]{8}\tgate,side/);
  t.is((await runCli(['auth', 'add', 'gate-cam', '--file', file])).code, 1, 'a name is added once');
  t.is((await runCli(['auth', 'remove', 'gate-cam', '--file', file])).code, 0);
  t.is(Credentials.parse(readFileSync(file, 'utf8'), file).size, 0);
});

test('crowdline client: --tls --ca --token-file works; without --tls or with a wrong token the camera stops with the reason', async (t) => {
  const dir = tempDir('crowdline-cli-');
  const creds = await writeCredentials([{ name: 'cam' }], dir);
  const pki = await makePki(dir);
  const frames = path.join(dir, 'frames');
  mkdirSync(frames);
  for (let i = 0; i < 4; i++) writeFileSync(path.join(frames, `f${i}.jpg`), blockPatternJpeg(96, 72, 8, { colour: true, salt: i }));
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, creds.tokens.cam, { mode: 0o600 });
  const server = await startKnownAnswerServer(t, {
    model: knownAnswerModel({ channels: 3, width: 96, height: 72 }),
    security: { authFile: creds.file, tls: { cert: pki.serverCert, key: pki.serverKey } },
  });
  const base = ['client', '--server', `127.0.0.1:${server.address.port}`, '--source', frames, '--no-display'];

  const ok = await runCli([...base, '--tls', '--ca', pki.caCert, '--token-file', tokenFile]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /sent 4, ok 4/);

  const plain = await runCli([...base, '--token-file', tokenFile]);
  t.is(plain.code, 1);
  t.regex(plain.stderr, /only over TLS/);
  t.notRegex(plain.stderr, /retrying/);

  writeFileSync(tokenFile, creds.tokens.cam.slice(0, -2) + 'zz');
  const wrong = await runCli([...base, '--tls', '--ca', pki.caCert, '--token-file', tokenFile]);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /token not accepted \(error 11\)/);
  t.false(wrong.stderr.includes(creds.tokens.cam.slice(0, -2)), 'the client does not echo its token either');
});

test('the gate counts failed tokens per address in the throttle, and a success clears it', async (t) => {
  const creds = await writeCredentials([{ name: 'cam' }]);
  const throttle = new FailureThrottle({ freeFailures: 1, firstDelayMs: 1, maxDelayMs: 1 });
  const gate = new AuthGate({
    credentials: await Credentials.load(creds.file),
    clientCertificates: false,
    tlsRequired: false,
    legacy: { kind: 'deny' },
    throttle,
  });
  const peer = { remoteAddress: '10.9.8.7' } as Socket;
  for (let i = 0; i < 2; i++) t.false((await gate.admitHello({ camera: 'c', token: 'cl1.00000000.' + 'A'.repeat(43) }, peer)).ok);
  t.is(throttle.delayMs('10.9.8.7'), 1);
  t.is(throttle.delayMs('10.9.8.6'), 0);
  t.like(await gate.admitHello({ camera: 'c', token: creds.tokens.cam }, peer), { ok: true, label: 'cam/c' });
  t.is(throttle.delayMs('10.9.8.7'), 0);
});
