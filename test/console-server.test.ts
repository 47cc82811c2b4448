/**
 * The console's server side without a browser: what a page, a script or an
 * attacker on the network can make it do. Security headers and the file
 * allow-list; the Host and Origin checks; every limit it adds, attacked
 * (body, headers, connections, viewers, message size, a viewer that never
 * reads); zero cost with nobody watching; privacy mode; sign-in, roles,
 * sessions; TLS with the frames port's certificate. Real servers on
 * 127.0.0.1 with the known-answer model (cheap), cameras sending the sample
 * video's frames.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { makePki } from '../bench/throwaway-pki.js';
import { Credentials, readStored } from '../src/auth/credentials.js';
import { addClient, listClients } from '../src/auth/edit-credentials.js';
import { consoleExposureProblem } from '../src/console/options.js';
import { SessionStore } from '../src/console/sessions.js';
import { decodeUpdate } from '../src/console/wire.js';
import { ErrorCode } from '../src/framing/index.js';
import { runCli } from './helpers/cli.js';
import { consoleSettings, eventually, FileCamera, sampleFrames, startConsoleServer } from './helpers/console.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const model = knownAnswerModel();
const frames = sampleFrames(40);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? 'GET', headers: options.headers, ca: options.ca, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function originOf(url: string): string {
  return new URL(url).origin;
}

/** A WebSocket viewer as a browser on the console page would open it. */
function viewer(url: string, options: { cookie?: string; origin?: string; ca?: string } = {}): WebSocket {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, {
    origin: options.origin ?? originOf(url),
    headers: options.cookie ? { cookie: options.cookie } : {},
    ca: options.ca,
  });
  ws.on('error', () => undefined);
  return ws;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function refusedWith(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
  });
}

function closedWith(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

async function camera(t: ExecutionContext, port: number, name: string, fps = 10, token?: string): Promise<FileCamera> {
  const cam = new FileCamera(name, frames, { fps, token });
  await cam.connect(port);
  cam.start();
  t.teardown(() => cam.close());
  return cam;
}

test('the page: security headers on every answer, no inline script but the hashed import map, only allow-listed files', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath });
  const url = running.console.url;
  const page = await request(url);
  t.is(page.status, 200);
  const csp = String(page.headers['content-security-policy']);
  t.true(csp.includes("frame-ancestors 'none'"), csp);
  t.false(csp.includes('unsafe-inline'), csp);
  t.false(csp.includes('unsafe-eval'), csp);
  t.is(page.headers['x-content-type-options'], 'nosniff');
  t.is(page.headers['x-frame-options'], 'DENY');
  // The one inline script is the import map, and the policy names exactly its hash.
  const map = /<script type="importmap">([^<]*)<\/script>/.exec(page.body)?.[1];
  t.truthy(map);
  const hash = createHash('sha256').update(map!, 'utf8').digest('base64');
  t.true(csp.includes(`'sha256-${hash}'`), csp);
  t.is((page.body.match(/<script/g) ?? []).length, 2, 'the import map and the module, nothing else');
  // Errors carry the same headers.
  const missing = await request(`${url}no/such/file`);
  t.is(missing.status, 404);
  t.is(missing.headers['x-content-type-options'], 'nosniff');
  // Nothing outside the allow-list, however the path is spelled.
  for (const p of [
    'app/../package.json',
    'vendor/preact/../../package.json',
    'app/%2e%2e/%2e%2e/package.json',
    'vendor/preact/package.json',
    'node_modules/preact/package.json',
    'src/common/camera-name.js', // of the server's modules, only those the page runs
    'src/common/arrow-geometry.js.map',
  ]) {
    t.is((await request(`${url}${p}`)).status, 404, p);
  }
  const shared = await request(`${url}src/common/arrow-geometry.js`);
  t.is(shared.status, 200, 'the geometry the page shares with the camera client');
  t.is(shared.headers['content-type'], 'text/javascript; charset=utf-8');
  t.is((await request(`${url}`, { method: 'DELETE', headers: { origin: originOf(url) } })).status, 405);
});

test('another site cannot use it: the Host must be loopback without --auth, and upgrades and writes must come from the console page', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath });
  const url = running.console.url;
  const port = new URL(url).port;
  // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
  t.is((await request(url, { headers: { host: `evil.example:${port}` } })).status, 421);
  t.is((await request(url, { headers: { host: `localhost:${port}` } })).status, 200);
  // Cross-site WebSocket hijacking: the browser sends the attacker's origin.
  t.is(await refusedWith(viewer(url, { origin: 'http://evil.example' })), 403);
  // A form or fetch from elsewhere: no Origin, or another one.
  t.is((await request(`${url}api/admin/reload`, { method: 'POST' })).status, 403);
  t.is((await request(`${url}api/admin/reload`, { method: 'POST', headers: { origin: 'http://evil.example' } })).status, 403);
  t.is((await request(`${url}api/admin/reload`, { method: 'POST', headers: { origin: originOf(url) } })).status, 200);
});

test('request limits: a body over the limit is 413, headers over 8 KiB are 431, connections past the cap are closed', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, console: consoleSettings({}, { maxRequestBytes: 100, maxConnections: 4 }) });
  const url = running.console.url;
  // A route as issue 29 adds them: the console's --console-max-request-bytes applies.
  running.console.http.router.add({ method: 'POST', path: '/api/test/echo', access: 'admin', handler: (ctx) => ctx.sendJson(200, { bytes: ctx.body.length }) });
  const post = (bytes: number, declared = true): Promise<Reply> =>
    request(`${url}api/test/echo`, {
      method: 'POST',
      headers: { origin: originOf(url), ...(declared ? {} : { 'transfer-encoding': 'chunked' }) },
      body: Buffer.alloc(bytes, 0x61),
    });
  t.is((await post(100)).status, 200);
  t.is((await post(101)).status, 413);
  t.is((await post(5000, false)).status, 413, 'a chunked body without a length is cut at the limit too');
  // The sign-in route takes 1 KiB at most.
  t.is(
    (await request(`${url}api/login`, { method: 'POST', headers: { origin: originOf(url), 'content-type': 'application/json' }, body: 'x'.repeat(2000) }))
      .status,
    413,
  );
  t.is((await request(url, { headers: { 'x-filler': 'y'.repeat(10 * 1024) } })).status, 431);
  // Four idle connections hold every slot; the fifth is closed without an answer.
  const port = Number(new URL(url).port);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    sockets.push(s);
  }
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  await new Promise((r) => setTimeout(r, 100));
  await t.throwsAsync(request(url), undefined, 'a connection past --console-max-connections is refused');
  sockets.forEach((s) => s.destroy());
  await eventually('a free slot', async () => ((await request(url).catch(() => undefined))?.status === 200 ? true : undefined), 5_000);
});

test('viewers: one past the cap gets 503; a message over the size limit or one not understood cuts the viewer', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, console: consoleSettings({}, { maxViewers: 2, maxMessageBytes: 512 }) });
  const url = running.console.url;
  const a = viewer(url);
  const b = viewer(url);
  await Promise.all([opened(a), opened(b)]);
  t.is(await refusedWith(viewer(url)), 503);
  const aClosed = closedWith(a);
  a.send(JSON.stringify({ type: 'watch', cameras: ['x'.repeat(600)] }));
  t.is(await aClosed, 1009, 'over --console-max-message-bytes: closed as too big');
  const bClosed = closedWith(b);
  b.send('{"type":"delete-everything"}');
  t.is(await bClosed, 1003);
  // Their slots are free again.
  await eventually('slots freed', async () => (running.console.http.viewerCount === 0 ? true : undefined), 5_000);
  const c = viewer(url);
  await opened(c);
  c.close();
});

test('a viewer that never reads holds at most one update per camera, is cut when it stalls, and the cameras carry on', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, console: consoleSettings({ fps: 20 }, { viewerStallMs: 1_500 }) });
  const port = running.address.port;
  const cams = [await camera(t, port, 'north', 20), await camera(t, port, 'south', 20)];
  const ws = viewer(running.console.url);
  await opened(ws);
  // Never read again: the kernel's buffers fill, then the server's.
  (ws as unknown as { _socket: net.Socket })._socket.pause();
  let maxPending = 0;
  let maxBuffered = 0;
  const sampler = setInterval(() => {
    for (const s of running.console.http.viewerStats()) {
      maxPending = Math.max(maxPending, s.pending);
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
    }
  }, 20);
  t.teardown(() => clearInterval(sampler));
  const before = cams.map((c) => c.results.size);
  await eventually('the stalled viewer cut', async () => (running.console.http.cuts.stall > 0 ? true : undefined), 30_000);
  clearInterval(sampler);
  t.true(maxPending <= 2, `at most one waiting update per camera (saw ${maxPending})`);
  const biggest = Math.max(...frames.map((f) => f.length)) + 64 * 1024;
  t.true(maxBuffered <= 2 * biggest, `bytes held for it stay within two updates (saw ${maxBuffered})`);
  await eventually('the viewer gone', async () => (running.console.http.viewerCount === 0 ? true : undefined), 5_000);
  // Meanwhile every camera's frames kept being answered.
  cams.forEach((c, i) => t.true(c.results.size > before[i] + 5, `${c.name}: ${before[i]} -> ${c.results.size}`));
});

test('nobody watching: no frame is prepared for viewers; one viewer gets each camera at most --console-fps times a second', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, console: consoleSettings({ fps: 2 }) });
  const cam = await camera(t, running.address.port, 'north', 10);
  await eventually('30 frames answered', async () => (cam.results.size >= 30 ? true : undefined));
  t.is(running.console.hub.snapshots, 0, 'nothing prepared while nobody watched');
  t.false(running.console.hub.watching);
  const ws = viewer(running.console.url);
  const updates: Array<{ seq: number; at: number }> = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) updates.push({ seq: decodeUpdate(data).header.seq, at: Date.now() });
  });
  await opened(ws);
  await eventually('updates', async () => (updates.length >= 7 ? true : undefined));
  const spanS = (updates[updates.length - 1].at - updates[0].at) / 1000;
  t.true((updates.length - 1) / spanS <= 2 * 1.3, `${updates.length} updates in ${spanS.toFixed(2)} s at a cap of 2 fps`);
  t.true(
    updates.some((u, i) => i > 0 && u.seq - updates[i - 1].seq > 1),
    'frames in between were skipped, not queued',
  );
  ws.close();
  await eventually('viewer gone', async () => (running.console.hub.watching ? undefined : true), 5_000);
  const prepared = running.console.hub.snapshots;
  const answered = cam.results.size;
  await eventually('more frames answered', async () => (cam.results.size >= answered + 12 ? true : undefined));
  t.is(running.console.hub.snapshots, prepared, 'nothing prepared after the last viewer left');
});

test('privacy mode: updates carry the density map and not one byte of the camera pictures', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, console: consoleSettings({ video: 'off', fps: 10 }) });
  const cam = await camera(t, running.address.port, 'north', 10);
  const ws = viewer(running.console.url);
  const messages: Buffer[] = [];
  let hello: { video?: boolean } | undefined;
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) messages.push(data);
    else if (!hello) hello = JSON.parse(data.toString('utf8')) as { video?: boolean };
  });
  await opened(ws);
  await eventually('updates', async () => (messages.length >= 8 ? true : undefined));
  t.is(hello?.video, false);
  for (const m of messages) {
    const u = decodeUpdate(m);
    t.is(u.header.jpegBytes, 0);
    t.is(u.jpeg.length, 0);
    t.true(u.density.length > 0);
  }
  // Not a piece of any picture the camera sent, anywhere in any message.
  const pieces = cam.sent.slice(0, 8).map((jpeg) => jpeg.subarray(1000, 1032));
  t.false(messages.some((m) => pieces.some((p) => m.includes(p))));
  t.false(
    messages.some((m) => m.includes(Buffer.from([0xff, 0xd8, 0xff]))),
    'no JPEG start-of-image marker',
  );
});

async function credentials(): Promise<{ file: string; camera: string; viewer: string; admin: string }> {
  const file = path.join(tempDir('crowdline-console-auth-'), 'credentials.yaml');
  return {
    file,
    camera: await addClient(file, 'gate-cam'),
    viewer: await addClient(file, 'control-room', undefined, 'viewer'),
    admin: await addClient(file, 'site-admin', undefined, 'admin'),
  };
}

async function signIn(url: string, token: string, ca?: string): Promise<Reply> {
  return request(`${url}api/login`, {
    method: 'POST',
    headers: { origin: originOf(url), 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
    ca,
  });
}

const cookieOf = (reply: Reply): string => String(reply.headers['set-cookie']?.[0] ?? '').split(';')[0];

test('sign-in: a wrong token is refused and slows its address; a camera cannot sign in; a viewer watches but admin routes say 403; sign-out ends the session', async (t) => {
  const creds = await credentials();
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, security: { authFile: creds.file } });
  const url = running.console.url;
  t.is((await request(`${url}api/session`)).status, 401);
  t.is(await refusedWith(viewer(url)), 401, 'no session, no viewer');
  t.is((await request(`${url}api/admin/reload`, { method: 'POST', headers: { origin: originOf(url) } })).status, 401);
  // Wrong tokens: refused, and after three the address waits before each check (the HELLO throttle).
  const wrong = `cl1.${creds.viewer.split('.')[1]}.${'A'.repeat(43)}`;
  for (let i = 0; i < 4; i++) t.is((await signIn(url, wrong)).status, 401);
  t.is((await signIn(url, 'not even a token')).status, 401);
  t.true(running.console.http.signInThrottle!.delayMs('127.0.0.1') > 0, 'the address now waits before each check');
  // A camera's token opens the frames port, not the console.
  const cam = await signIn(url, creds.camera);
  t.is(cam.status, 401);
  t.regex(cam.body, /camera/);
  // A viewer: the cookie is HttpOnly, SameSite=Strict, not Secure on plain HTTP.
  const signed = await signIn(url, creds.viewer);
  t.is(signed.status, 200, signed.body);
  const setCookie = String(signed.headers['set-cookie']?.[0]);
  t.regex(setCookie, /HttpOnly/);
  t.regex(setCookie, /SameSite=Strict/);
  t.notRegex(setCookie, /Secure/);
  t.notRegex(setCookie, /cl1\./, 'the token itself is never the cookie');
  const cookie = cookieOf(signed);
  t.is(JSON.parse((await request(`${url}api/session`, { headers: { cookie } })).body).user.role, 'viewer');
  const ws = viewer(url, { cookie });
  await opened(ws);
  t.is((await request(`${url}api/admin/reload`, { method: 'POST', headers: { origin: originOf(url), cookie } })).status, 403);
  // An admin may.
  const admin = cookieOf(await signIn(url, creds.admin));
  const reloaded = await request(`${url}api/admin/reload`, { method: 'POST', headers: { origin: originOf(url), cookie: admin } });
  t.is(reloaded.status, 200, reloaded.body);
  // Sign-out: the session is gone and its viewer is closed.
  const wsClosed = closedWith(ws);
  const out = await request(`${url}api/logout`, { method: 'POST', headers: { origin: originOf(url), cookie } });
  t.is(out.status, 200);
  t.regex(String(out.headers['set-cookie']?.[0]), /Max-Age=0/);
  t.is(await wsClosed, 4001);
  t.is((await request(`${url}api/session`, { headers: { cookie } })).status, 401);
});

test('sessions end at their TTL, and the oldest goes when the table is full', async (t) => {
  const creds = await credentials();
  const running = await startConsoleServer(t, {
    modelPath: model.onnxPath,
    security: { authFile: creds.file },
    console: consoleSettings({}, { maxSessions: 2, sessionTtlMs: 5_000 }),
  });
  const url = running.console.url;
  const first = cookieOf(await signIn(url, creds.viewer));
  const second = cookieOf(await signIn(url, creds.viewer));
  const third = cookieOf(await signIn(url, creds.admin));
  t.is((await request(`${url}api/session`, { headers: { cookie: first } })).status, 401, 'the oldest of three ended (max 2)');
  t.is((await request(`${url}api/session`, { headers: { cookie: second } })).status, 200);
  t.is((await request(`${url}api/session`, { headers: { cookie: third } })).status, 200);
  await eventually(
    'the session expired',
    async () => ((await request(`${url}api/session`, { headers: { cookie: third } })).status === 401 ? true : undefined),
    20_000,
  );
});

test('the session table on a clock of its own: TTL, sign-out, one identity ended everywhere', (t) => {
  let now = 1_000;
  const store = new SessionStore({ maxSessions: 10, ttlMs: 60_000, now: () => now });
  const a = store.create({ name: 'control-room', role: 'viewer' });
  const b = store.create({ name: 'control-room', role: 'viewer' });
  const c = store.create({ name: 'site-admin', role: 'admin' });
  now += 59_999;
  t.is(store.get(a)?.name, 'control-room');
  now += 1;
  t.is(store.get(a), undefined, 'ended at exactly its TTL');
  now = 1_000;
  store.endUser('control-room');
  t.is(store.get(b), undefined);
  t.is(store.get(c)?.role, 'admin');
  store.end(c);
  t.is(store.get(c), undefined);
  t.is(store.get('x'.repeat(100)), undefined, 'an oversized cookie is not even hashed');
});

test('failed sign-ins and failed HELLOs from one address count in one table', async (t) => {
  const creds = await credentials();
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, security: { authFile: creds.file } });
  const throttle = running.console.http.signInThrottle!;
  // Two wrong tokens at HELLO: within the free failures, no wait yet.
  for (let i = 0; i < 2; i++) {
    const cam = new FileCamera('gate', frames, { fps: 5, token: `cl1.0000000${i}.${'B'.repeat(43)}` });
    await t.throwsAsync(cam.connect(running.address.port));
    cam.close();
  }
  t.is(throttle.delayMs('127.0.0.1'), 0);
  // One wrong sign-in on the console is the third failure of the same address: from now on each attempt waits.
  t.is((await signIn(running.console.url, `cl1.00000009.${'B'.repeat(43)}`)).status, 401);
  t.true(throttle.delayMs('127.0.0.1') > 0, 'the console and the frames port share the slow-down');
});

test('console identities cannot send frames: a viewer or admin token is refused at HELLO', async (t) => {
  const creds = await credentials();
  const running = await startConsoleServer(t, { modelPath: model.onnxPath, security: { authFile: creds.file } });
  const port = running.address.port;
  const ok = new FileCamera('gate', frames, { fps: 5, token: creds.camera });
  await ok.connect(port);
  ok.close();
  for (const token of [creds.viewer, creds.admin]) {
    const cam = new FileCamera('gate', frames, { fps: 5, token });
    const err = await t.throwsAsync(cam.connect(port));
    t.regex(err?.message ?? '', /console (viewer|admin), not a camera/);
    cam.close();
  }
  t.is(ErrorCode.Unauthorized, 11);
});

test('with TLS the console speaks HTTPS with the frames port certificate, and its cookie is Secure', async (t) => {
  const dir = tempDir('crowdline-console-tls-');
  const pki = await makePki(dir);
  const creds = await credentials();
  const running = await startConsoleServer(t, {
    modelPath: model.onnxPath,
    security: { authFile: creds.file, tls: { cert: pki.serverCert, key: pki.serverKey } },
  });
  const url = running.console.url;
  t.regex(url, /^https:\/\//);
  const ca = fs.readFileSync(pki.caCert, 'utf8');
  const signed = await signIn(url, creds.viewer, ca);
  t.is(signed.status, 200, signed.body);
  t.regex(String(signed.headers['set-cookie']?.[0]), /; Secure/);
  const cookie = cookieOf(signed);
  const ws = viewer(url, { cookie, ca });
  await opened(ws);
  ws.close();
  await t.throwsAsync(request(url.replace('https:', 'http:')), undefined, 'no plain HTTP on the TLS port');
});

test('credentials: entries without a role are cameras (old files unchanged); roles are written only for console identities; list shows the role last', async (t) => {
  const old = 'clients:\n  - name: north\n    key: 3f9a0c12\n    hash: scrypt:16384:8:1:c2FsdA==:aGFzaA==\n';
  t.is(Credentials.parse(old, 'old').named('north')?.role, 'camera');
  const creds = await credentials();
  const stored = readStored(fs.readFileSync(creds.file, 'utf8')).clients;
  t.is(stored.find((c) => c.name === 'gate-cam')?.role, undefined, 'a camera is written as before roles existed');
  t.is(stored.find((c) => c.name === 'control-room')?.role, 'viewer');
  t.deepEqual(
    listClients(creds.file).map((l) => l.split('\t').at(-1)),
    ['camera', 'viewer', 'admin'],
  );
  t.throws(() => Credentials.parse('clients:\n  - name: x\n    role: superuser\n', 'bad'), { message: /role must be one of camera, viewer, admin/ });
  await t.throwsAsync(addClient(creds.file, 'wall', ['north'], 'viewer'), { message: /camera identities only/ });
});

test('the console stays on loopback without --auth unless told (--console-insecure)', async (t) => {
  t.regex(consoleExposureProblem({ host: '0.0.0.0', insecure: false }, false) ?? '', /--auth/);
  t.is(consoleExposureProblem({ host: '0.0.0.0', insecure: false }, true), undefined);
  t.is(consoleExposureProblem({ host: '0.0.0.0', insecure: true }, false), undefined);
  t.is(consoleExposureProblem({ host: '127.0.0.1', insecure: false }, false), undefined);
  t.is(consoleExposureProblem({ host: '::1', insecure: false }, false), undefined);
  const run = await runCli(['serve', '--console-host', '0.0.0.0', '--dry-run']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /--console-host 0\.0\.0\.0 would show every camera/);
});
