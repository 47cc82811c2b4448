/**
 * Issue 27, one test per attack: a good live camera beside greedy,
 * misconfigured or hostile peers keeps its share of the workers. Worker time
 * is virtual (ClockRunner): the camera's frames fall due by the work the
 * runner has done, so its share (frames answered within its window / frames
 * due) is a count that CPU contention cannot change. Before fair queueing
 * (one FIFO in arrival order) every one of these fails: the camera's frames
 * waited behind the peer's whole window.
 */
import test from 'ava';
import net from 'node:net';
import { encodeFrame, encodeHello, encodeLegacyFrame, FrameStatus, LegacyReplyParser } from '../src/framing/index.js';
import { canSeeResets } from '../src/accept/peer-state.js';
import { screenJpeg, DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import type { FrameScreen } from '../src/accept/session-deps.js';
import type { Admission, ConnectionGate } from '../src/accept/gate.js';
import { AuthGate } from '../src/auth/gate.js';
import { Credentials } from '../src/auth/credentials.js';
import { FailureThrottle } from '../src/auth/throttle.js';
import { hashSecret, newToken } from '../src/auth/token.js';
import { ServerMetrics } from '../src/metrics/server-metrics.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { ZoneTracker } from '../src/zones/zone-tracker.js';
import { parsePrometheus } from '../bench/scrape.js';
import { ClockRunner, clockFrame, clockTag, greedyPeer, liveCamera } from './helpers/clock-runner.js';
import { progressiveDeclaring } from './helpers/hostile-jpeg.js';
import { rawClient } from './helpers/raw-client.js';
import { startServerWithRunner } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

/** The good camera: a frame due every 4 units of work (a quarter of one worker), window 4, 40 frames. */
const GOOD = { name: 'good', window: 4, everyUnits: 4, frames: 40 };
/** Share of its frames the good camera must get answered within its window. */
const MIN_SHARE = 0.8;
const MB = 1024 * 1024;

/** The real header screen for JPEGs; clock frames pass with no decode work. */
const screen: FrameScreen = (bytes) => {
  if (clockTag(bytes)) return { work: 0 };
  const verdict = screenJpeg(bytes, DEFAULT_JPEG_LIMITS);
  return 'rejected' in verdict ? { refused: { reason: verdict.rejected.message, cause: verdict.rejected.reason } } : verdict;
};

test('a greedy v1 peer with the largest window cannot take the worker from a live camera; worker time is counted per identity', async (t) => {
  const runner = new ClockRunner(1);
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, observer: metrics });
  const greedy = await greedyPeer(port, { name: 'greedy', window: 32, cost: 1 });
  const good = await liveCamera(port, runner, GOOD);
  greedy.stop();
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered} frames answered within its window`);
  t.true(greedy.answered() > good.answered, 'the greedy peer still got the rest of the worker (work-conserving)');
  const m = parsePrometheus(await metrics.registry.metrics());
  // Each clock frame of cost 1 is reported as 1 ms of decode.
  t.is(Math.round((m.get('crowdline_worker_seconds_total{identity="good"}') ?? 0) * 1000), good.answered);
  t.true((m.get('crowdline_worker_seconds_total{identity="greedy"}') ?? 0) > 0);
  // And per sender, the fair queue's unit: both are unauthenticated and on 127.0.0.1, so one sender got it all.
  const bySender = m.get('crowdline_sender_worker_seconds_total{sender="address:127.0.0.1"}') ?? 0;
  const byIdentity = (m.get('crowdline_worker_seconds_total{identity="good"}') ?? 0) + (m.get('crowdline_worker_seconds_total{identity="greedy"}') ?? 0);
  t.is(Math.round(bySender * 1000), Math.round(byIdentity * 1000), 'both identities’ work, under their one sender');
});

test('frames that cost a worker 6x as much are charged as such: the greedy peer still gets no more than its share', async (t) => {
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 } });
  const greedy = await greedyPeer(port, { name: 'costly', window: 32, cost: 6 });
  const good = await liveCamera(port, runner, GOOD);
  greedy.stop();
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
});

test('the costliest frames the limits allowed (8K progressive, 43 scans) are refused from their header; none reaches a worker', async (t) => {
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, screen });
  // A greedy peer of ordinary frames keeps the clock going; the bomber beside it sends the costly ones.
  const filler = await greedyPeer(port, { name: 'filler', window: 32, cost: 1 });
  const bomber = await rawClient(port);
  t.teardown(() => bomber.socket.destroy());
  bomber.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 32, cameraName: 'bomber' }));
  const bomb = progressiveDeclaring(7680, 4320, 43);
  for (let i = 0; i < 200; i++) bomber.socket.write(encodeFrame({ seq: i, captureTimeMs: 0, jpeg: bomb }));
  const good = await liveCamera(port, runner, GOOD);
  filler.stop();
  await until(() => bomber.messages.filter((m) => m.type === 'result').length === 200);
  const results = bomber.messages.filter((m) => m.type === 'result');
  t.true(
    results.every(
      (m) =>
        m.type === 'result' &&
        /image too costly to decode: 7680x4320 progressive \(43 scans, 43 passes\) is 1426636800 pixel-passes, over the server's limit of 99532800 \(--max-frame-work\)/.test(
          m.reason ?? '',
        ),
    ),
  );
  t.is(runner.served.filter((tag) => tag === '?').length, 0, 'no bomb reached the worker');
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
});

test('8 greedy connections from one address share one share: the camera beside them keeps a quarter of the worker, and their queued work is dropped as soon as they leave', async (t) => {
  const runner = new ClockRunner(1);
  const { server, port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 } });
  const greedy = await Promise.all(
    Array.from({ length: 8 }, (_, i) => greedyPeer(port, { name: `greedy${i}`, window: 32, cost: 6, localAddress: '127.0.0.2' })),
  );
  // Two senders (127.0.0.3 and 127.0.0.2), not nine flows: a frame due every 4 units (a quarter of the worker) is within
  // the camera's half. Shares per connection gave it a ninth, and this failed (about 0.4 of its frames).
  const good = await liveCamera(port, runner, { ...GOOD, localAddress: '127.0.0.3' });
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
  for (const g of greedy) g.stop();
  await until(() => server.connectionCount === 0);
  const servedAtClose = runner.served.length;
  t.is(server.batcher.queueDepth, 0, 'their 8 x 32 queued frames are gone');
  t.is(server.batcher.queueBytes, 0);
  await sleep(50);
  t.true(runner.served.length - servedAtClose <= 1, 'at most the batch already in the worker ran after they left');
});

test('the same over the legacy protocol', async (t) => {
  const runner = new ClockRunner(1);
  const { server, port } = await startServerWithRunner(t, runner, {});
  const peers = Array.from({ length: 8 }, (_, i) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    socket.on('error', () => undefined);
    const parser = new LegacyReplyParser();
    let n = 0;
    const send = (): void => void (!socket.destroyed && socket.write(encodeLegacyFrame(clockFrame(6, `legacy${i}#${n++}`))));
    socket.on('data', (chunk: Buffer) => parser.push(chunk).forEach(send));
    socket.once('connect', () => Array.from({ length: 8 }, send));
    return socket;
  });
  // One sender: the camera's quarter of the worker is within its half.
  const good = await liveCamera(port, runner, GOOD);
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
  t.true(runner.countServed('legacy') > 0, 'the legacy peers were served too');
  for (const p of peers) p.destroy();
  await until(() => server.connectionCount === 0);
  t.is(server.batcher.queueDepth, 0);
});

test('peers that fill the queue with large frames pause themselves, not the camera; queue bytes stay bounded and return to zero when they leave', async (t) => {
  const runner = new ClockRunner(1);
  let deepestBytes = 0;
  const { server, port } = await startServerWithRunner(t, runner, {
    server: { maxWindow: 32, maxQueueBytes: 2 * MB, maxConnectionQueueBytes: MB },
  });
  runner.onProgress(() => (deepestBytes = Math.max(deepestBytes, server.batcher.queueBytes)));
  // 256 KB frames, a window of 32 each: far more than the queue takes; the peers and the kernel hold the rest.
  const fillers = await Promise.all(
    Array.from({ length: 4 }, (_, i) => greedyPeer(port, { name: `fill${i}`, window: 32, cost: 1, padBytes: 256 * 1024, localAddress: '127.0.0.3' })),
  );
  const good = await liveCamera(port, runner, GOOD);
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
  // The bound, plus at most one frame over it per connection that was under its fair part.
  t.true(deepestBytes <= 2 * MB + 5 * 257 * 1024, `queue bytes peaked at ${(deepestBytes / MB).toFixed(1)} MB`);
  for (const f of fillers) f.stop();
  await until(() => server.connectionCount === 0);
  t.is(server.batcher.queueBytes, 0, 'memory of the peers that left is released at once');
});

for (const how of ['reset', 'closed without reading'] as const) {
  test(`peers that send a window of frames and vanish (${how}): none of their queued frames reaches a worker`, async (t) => {
    const runner = new ClockRunner(1);
    const received = new Map<string, number>();
    const { server, port } = await startServerWithRunner(t, runner, {
      server: { maxWindow: 32 },
      observer: { frameReceived: (camera) => received.set(camera, (received.get(camera) ?? 0) + 1) },
    });
    runner.hold(); // the worker is busy with the first frame that arrives
    const first = await rawClient(port);
    first.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'first' }));
    first.socket.write(encodeFrame({ seq: 0, captureTimeMs: 0, jpeg: clockFrame(1, 'first') }));
    await until(() => received.get('first') === 1);
    const peers = await Promise.all(Array.from({ length: 4 }, () => rawClient(port, { localAddress: '127.0.0.4', read: false })));
    peers.forEach((p, i) => {
      p.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 32, cameraName: `vanish${i}` }));
      for (let f = 0; f < 32; f++) p.socket.write(encodeFrame({ seq: f, captureTimeMs: 0, jpeg: clockFrame(50, `vanish${i}#${f}`) }));
    });
    await until(() => [0, 1, 2, 3].every((i) => received.get(`vanish${i}`) === 32));
    // Every window is queued and every socket paused for backpressure; now they go.
    for (const p of peers) {
      if (how === 'reset') p.socket.resetAndDestroy();
      else p.socket.destroy(); // with the WELCOME unread: the kernel answers with a reset
    }
    await until(() => server.connectionCount === 1);
    t.is(server.batcher.queueDepth, 0);
    runner.resume();
    await until(() => first.messages.some((m) => m.type === 'result'));
    first.socket.destroy();
    t.is(runner.countServed('vanish'), 0, 'no frame of a peer that left reached the worker');
  });
}

test('peers that vanish with their FIN or reset behind megabytes of unread frames: none of their frames reaches a worker; a half-closing camera still gets every result', async (t) => {
  // Without the kernel's word (native/peer-state.c) the server learns of a departure only at its next reply.
  t.true(process.platform !== 'linux' || canSeeResets(), 'the native addon with tcpState is built (bash native/build.sh)');
  const runner = new ClockRunner(1);
  const FRAME = 256 * 1024;
  const WINDOW = 32;
  const big = (tag: string): Buffer => Buffer.concat([clockFrame(1, `${tag}:`), Buffer.alloc(FRAME, 0x20)]);
  // A connection may queue 1 MB: 4 of its 32 frames; the rest (7 MB) stays unread, far past the 64 KiB read-ahead.
  const { server, port } = await startServerWithRunner(t, runner, { server: { maxWindow: WINDOW, maxConnectionQueueBytes: MB } });
  runner.hold(); // the worker is busy with the first frame that arrives
  const first = await rawClient(port);
  first.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'first' }));
  first.socket.write(encodeFrame({ seq: 0, captureTimeMs: 0, jpeg: clockFrame(1, 'first') }));
  await until(() => server.batcher.runningBatches === 1);

  // Three ways to leave: a reset; close() with the WELCOME unread (the kernel answers with a reset); close() after
  // reading everything (a FIN only, like a half-close, until the server's next bytes are answered with a reset).
  const how = ['reset', 'closed-unread', 'closed-read'] as const;
  const peers = await Promise.all(how.map((h) => rawClient(port, { localAddress: '127.0.0.4', read: h === 'closed-read' })));
  peers.forEach((p, i) => {
    p.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: WINDOW, cameraName: `vanish-${how[i]}` }));
    for (let f = 0; f < WINDOW; f++) p.socket.write(encodeFrame({ seq: f, captureTimeMs: 0, jpeg: big(`vanish-${how[i]}#${f}`) }));
  });
  // A good camera on the same terms: its last frames lie unread behind the others' when it half-closes (FIN) and waits.
  const GOOD_FRAMES = 12;
  const good = await rawClient(port, { localAddress: '127.0.0.5' });
  good.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: WINDOW, cameraName: 'halfclose' }));
  for (let f = 0; f < GOOD_FRAMES; f++) good.socket.write(encodeFrame({ seq: f, captureTimeMs: 0, jpeg: big(`halfclose#${f}`) }));
  good.socket.end();
  // Every connection has queued what it may (1 MB), and its socket is paused on the rest.
  await until(() => server.batcher.queueBytes >= 4 * 4 * FRAME);
  await until(() => peers[2].messages.some((m) => m.type === 'welcome'));
  await Promise.all(
    peers.map((p, i) => {
      if (how[i] === 'reset') p.socket.resetAndDestroy();
      else p.socket.destroy();
      return p.closed;
    }),
  );
  runner.resume();
  await until(() => good.messages.filter((m) => m.type === 'result').length === GOOD_FRAMES);
  await until(() => server.connectionCount <= 1);
  first.socket.destroy();
  const results = good.messages.filter((m) => m.type === 'result');
  t.deepEqual(
    results.map((r) => (r.type === 'result' ? [r.seq, r.status] : [])),
    Array.from({ length: GOOD_FRAMES }, (_, i) => [i, FrameStatus.Ok]),
    'the half-closed camera got every result, in order',
  );
  t.is(runner.countServed('vanish-reset'), 0, 'no frame of the peer that reset reached the worker');
  t.is(runner.countServed('vanish-closed-unread'), 0, 'nor of the one that closed with our WELCOME unread');
  // A close after reading everything is a FIN, as a half-close is: the server tells them apart only when its next
  // bytes (the first result) are refused; so at most that one frame runs, never the rest of its queue.
  t.true(runner.countServed('vanish-closed-read') <= 1, `${runner.countServed('vanish-closed-read')} frames of the peer that closed after reading ran`);
});

test('a peer reset before it was accepted is not counted under a shared key', async (t) => {
  const ended: string[] = [];
  const runner = new ClockRunner(1);
  const { server, port } = await startServerWithRunner(t, runner, {
    server: { maxConnections: 4, maxConnectionsPerIp: 2 },
    observer: { connectionEnded: (reason) => ended.push(reason) },
  });
  // What accept() sees of a connection reset in the backlog: a socket with no remote address.
  const listener = (server as unknown as { server: net.Server }).server;
  for (let i = 0; i < 50; i++) listener.emit('connection', new net.Socket());
  t.is(ended.filter((r) => r === 'reset-before-accept').length, 50);
  t.is(server.connectionCount, 0);
  // Two cameras from one address, and more from others, still get in.
  const cams = await Promise.all(
    [0, 1, 2, 3].map((i) => greedyPeer(port, { name: `cam${i}`, window: 1, cost: 1, localAddress: i < 2 ? '127.0.0.5' : `127.0.0.${6 + i}` })),
  );
  await until(() => runner.served.length >= 4);
  for (const c of cams) c.stop();
  t.false(ended.includes('refused-server-full'));
  t.false(ended.includes('refused-per-ip'));
});

test('an authentication check of a connection that reset is abandoned: the gate is told, and a throttled check never runs', async (t) => {
  // The session's side: the gate's signal fires when the peer resets mid-check, even though no frame is being read.
  let signal: AbortSignal | undefined;
  const gate: ConnectionGate = {
    checkProtocol: () => undefined,
    admitHello: (_claim, _socket, gone) => {
      signal = gone;
      return new Promise<Admission>(() => undefined); // a check that would take for ever
    },
  };
  const { server, port } = await startServerWithRunner(t, new ClockRunner(1), { gate });
  const peer = await rawClient(port);
  peer.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: 'flood', token: 'x' }));
  await until(() => signal !== undefined);
  t.false(signal!.aborted);
  peer.socket.resetAndDestroy();
  await until(() => server.connectionCount === 0);
  t.true(signal!.aborted, 'the gate learns the connection is gone');

  // The gate's side: a throttled check whose peer left does not reach the credentials (nor scrypt).
  const { token, keyId, secret } = newToken();
  const credentials = Credentials.parse(`clients:\n  - name: cam\n    key: "${keyId}"\n    hash: "${await hashSecret(secret)}"\n`, 'test');
  let lookups = 0;
  const withKey = credentials.withKey.bind(credentials);
  credentials.withKey = (id: string) => (lookups++, withKey(id));
  const throttle = new FailureThrottle({ freeFailures: 0, firstDelayMs: 10_000 });
  throttle.failed('127.0.0.9');
  const auth = new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' }, throttle });
  const gone = new AbortController();
  const verdict = auth.admitHello({ camera: 'cam', token }, { remoteAddress: '127.0.0.9' } as net.Socket, gone.signal);
  gone.abort();
  t.like(await verdict, { ok: false, refusal: { cause: 'gone' } });
  t.is(lookups, 0, 'no credential lookup or hash for a connection that is gone');
  t.like(await auth.admitHello({ camera: 'cam', token }, { remoteAddress: '127.0.0.8' } as net.Socket), { ok: true, label: 'cam/cam' });
  t.is(lookups, 1);
});

test('weights and priority classes from the credentials file: weight 3 gets three times the worker of weight 1; a higher class is served first', async (t) => {
  const tokens = [newToken(), newToken(), newToken()];
  const entries = await Promise.all(
    [
      ['heavy', 'weight: 3'],
      ['light', 'weight: 1'],
      ['entrance', 'priority: 1'],
    ].map(async ([name, extra], i) => `  - name: ${name}\n    key: "${tokens[i].keyId}"\n    hash: "${await hashSecret(tokens[i].secret)}"\n    ${extra}\n`),
  );
  const credentials = Credentials.parse(`clients:\n${entries.join('')}`, 'test');
  const gate = new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' } });
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, gate });
  const heavy = await greedyPeer(port, { name: 'heavy', window: 32, cost: 1, token: tokens[0].token });
  const light = await greedyPeer(port, { name: 'light', window: 32, cost: 1, token: tokens[1].token });
  const start = runner.served.length;
  await until(() => runner.served.length >= start + 400);
  const window = runner.served.slice(start + 80, start + 400);
  const ratio = window.filter((tag) => tag.startsWith('heavy')).length / window.filter((tag) => tag.startsWith('light')).length;
  t.true(ratio > 2.5 && ratio < 3.5, `heavy:light = ${ratio.toFixed(2)}`);
  // A priority-1 camera beside two backlogged greedy peers: its frames wait for nothing but the frame in the worker.
  // Due every 3 units: a third of the worker, more than its weight-1 fifth; it keeps up only because its class is served first.
  const entrance = await liveCamera(port, runner, { name: 'entrance', window: 4, everyUnits: 3, frames: 40, token: tokens[2].token });
  heavy.stop();
  light.stop();
  t.true(entrance.answered / entrance.offered >= MIN_SHARE, `entrance: ${entrance.answered} of ${entrance.offered}`);
  t.true(Credentials.parse('clients:\n  - name: a\n    weight: 2\n', 'x').named('a')?.weight === 2);
  t.throws(() => Credentials.parse('clients:\n  - name: a\n    weight: 0\n', 'x'), { message: /weight must be between 0.01 and 100/ });
  t.throws(() => Credentials.parse('clients:\n  - name: a\n    priority: 1.5\n', 'x'), { message: /priority must be a whole number from -9 to 9/ });
});

test('weights and classes from the site file, reloaded: two unauthenticated cameras split the worker 3:1 by their entries, evenly after a reload; a camera the site file puts in a higher class keeps up beyond its share', async (t) => {
  const siteText = (heavy: number): string =>
    `cameras:\n  heavy:\n    weight: ${heavy}\n  light:\n    weight: 1\n  entrance:\n    priority: 1\n  carpark:\n    priority: -1\n`;
  const tracker = new ZoneTracker(parseSiteFile(siteText(3)));
  const runner = new ClockRunner(1);
  const { server, port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, zones: tracker });
  const heavy = await greedyPeer(port, { name: 'heavy', window: 32, cost: 1, localAddress: '127.0.0.21' });
  const light = await greedyPeer(port, { name: 'light', window: 32, cost: 1, localAddress: '127.0.0.22' });
  const ratio = async (): Promise<number> => {
    const start = runner.served.length;
    await until(() => runner.served.length >= start + 400);
    const window = runner.served.slice(start + 80, start + 400);
    return window.filter((tag) => tag.startsWith('heavy')).length / window.filter((tag) => tag.startsWith('light')).length;
  };
  const weighted = await ratio();
  t.true(weighted > 2.5 && weighted < 3.5, `heavy:light = ${weighted.toFixed(2)} with weights 3:1`);
  // What a SIGHUP does (src/app): the tracker takes the new file, then the server tells every connection.
  tracker.replaceSite(parseSiteFile(siteText(1)), Date.now());
  server.zonesChanged();
  const even = await ratio();
  t.true(even > 0.75 && even < 1.33, `heavy:light = ${even.toFixed(2)} after the reload to 1:1`);
  // Class 1 beside two backlogged class-0 peers: due every 3 units (a third of the worker, more than a weight-1 third of
  // three senders can keep within its window); it keeps up because its class is served first.
  const entrance = await liveCamera(port, runner, { name: 'entrance', window: 4, everyUnits: 3, frames: 40, localAddress: '127.0.0.23' });
  t.true(entrance.answered / entrance.offered >= MIN_SHARE, `entrance: ${entrance.answered} of ${entrance.offered}`);
  // Class -1 under two backlogged class-0 peers is not starved: about a tenth of what they get.
  const start = runner.served.length;
  const carpark = await greedyPeer(port, { name: 'carpark', window: 4, cost: 1, localAddress: '127.0.0.24' });
  await until(() => runner.served.length >= start + 500);
  const share = runner.served.slice(start + 100, start + 500).filter((tag) => tag.startsWith('carpark')).length / 400;
  t.true(share > 0.06 && share < 0.14, `car park (class -1) got ${(share * 100).toFixed(1)} % of the worker`);
  carpark.stop();
  heavy.stop();
  light.stop();
});

test('with --auth, the site file entry of a camera its identity names wins over the identity credentials entry, field by field', async (t) => {
  const tokens = [newToken(), newToken()];
  const entries = await Promise.all(
    ['heavy', 'light'].map(
      async (name, i) =>
        `  - name: ${name}\n    key: "${tokens[i].keyId}"\n    hash: "${await hashSecret(tokens[i].secret)}"\n    weight: 3\n    cameras: [${name}]\n`,
    ),
  );
  const credentials = Credentials.parse(`clients:\n${entries.join('')}`, 'test');
  const gate = new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' } });
  // Both identities have weight 3; the site file gives camera "light" weight 1, so it gets a quarter.
  const tracker = new ZoneTracker(parseSiteFile('cameras:\n  light:\n    weight: 1\n'));
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, gate, zones: tracker });
  const heavy = await greedyPeer(port, { name: 'heavy', window: 32, cost: 1, token: tokens[0].token });
  const light = await greedyPeer(port, { name: 'light', window: 32, cost: 1, token: tokens[1].token });
  const start = runner.served.length;
  await until(() => runner.served.length >= start + 400);
  heavy.stop();
  light.stop();
  const window = runner.served.slice(start + 80, start + 400);
  const ratio = window.filter((tag) => tag.startsWith('heavy')).length / window.filter((tag) => tag.startsWith('light')).length;
  t.true(ratio > 2.5 && ratio < 3.5, `heavy:light = ${ratio.toFixed(2)}`);
});

test('8 connections presenting one authenticated camera are one sender: the camera beside them keeps its share', async (t) => {
  const tokens = [newToken(), newToken()];
  const entries = await Promise.all(
    ['fleet', 'good'].map(async (name, i) => `  - name: ${name}\n    key: "${tokens[i].keyId}"\n    hash: "${await hashSecret(tokens[i].secret)}"\n`),
  );
  const credentials = Credentials.parse(`clients:\n${entries.join('')}`, 'test');
  const gate = new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' } });
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, gate });
  // All from the camera's own address: only the identity tells them apart.
  const fleet = await Promise.all(Array.from({ length: 8 }, () => greedyPeer(port, { name: 'cam', window: 32, cost: 6, token: tokens[0].token })));
  const good = await liveCamera(port, runner, { ...GOOD, token: tokens[1].token });
  for (const f of fleet) f.stop();
  t.true(good.answered / good.offered >= MIN_SHARE, `good camera: ${good.answered} of ${good.offered}`);
});

/** Two camera identities from the same address, `fleet` allowed any camera name, `good` with one; the credentials are `extra` for each. */
async function twoIdentities(extra: { fleet?: string; good?: string } = {}) {
  const tokens = { fleet: newToken(), good: newToken() };
  const entry = async (name: 'fleet' | 'good'): Promise<string> =>
    `  - name: ${name}\n    key: "${tokens[name].keyId}"\n    hash: "${await hashSecret(tokens[name].secret)}"\n${extra[name] ?? ''}`;
  const credentials = Credentials.parse(`clients:\n${await entry('fleet')}${await entry('good')}`, 'test');
  return { tokens, gate: new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' } }) };
}

/** Of the worker's frames served after a settling start, the fleet's share (tags of 8 camera names) against good's. */
async function fleetAgainstGood(runner: ClockRunner): Promise<number> {
  const start = runner.served.length;
  await until(() => runner.served.length >= start + 480);
  const window = runner.served.slice(start + 80, start + 480);
  return window.filter((tag) => tag.startsWith('fleet-')).length / window.filter((tag) => tag.startsWith('good')).length;
}

test('an identity allowed any camera name, opening 8 connections under 8 names, gets no more of the worker than one camera of another identity', async (t) => {
  const { tokens, gate } = await twoIdentities();
  const runner = new ClockRunner(1);
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, gate, observer: metrics });
  const fleet = await Promise.all(
    Array.from({ length: 8 }, (_, i) => greedyPeer(port, { name: `fleet-${i}`, window: 32, cost: 1, token: tokens.fleet.token })),
  );
  const good = await greedyPeer(port, { name: 'good', window: 32, cost: 1, token: tokens.good.token });
  const ratio = await fleetAgainstGood(runner);
  // Before, each name was a share of its own: 8:1.
  t.true(ratio > 0.8 && ratio < 1.25, `fleet (8 names) : good (1 camera) = ${ratio.toFixed(2)}`);
  // A live camera of the other identity beside the 8 names: due every 3 units (a third of the worker), within its half.
  good.stop();
  const live = await liveCamera(port, runner, { ...GOOD, everyUnits: 3, token: tokens.good.token });
  for (const f of fleet) f.stop();
  t.true(live.answered / live.offered >= MIN_SHARE, `good's live camera: ${live.answered} of ${live.offered}`);
  // The worker time per sender names the identity, not its cameras.
  const m = parsePrometheus(await metrics.registry.metrics());
  t.true((m.get('crowdline_sender_worker_seconds_total{sender="identity:fleet"}') ?? 0) > 0);
  t.is(m.get('crowdline_sender_worker_seconds_total{sender="identity:fleet/fleet-0"}'), undefined);
});

test("an identity's weight is all its cameras' together; the site file's weights split it among them, and give a share of its own only to a camera the identity's cameras: list names", async (t) => {
  // fleet: weight 2, any camera; good: weight 2, camera "good" only, which the site file weighs 6.
  const { tokens, gate } = await twoIdentities({ fleet: '    weight: 2\n', good: '    weight: 2\n    cameras: [good]\n' });
  const site = ['fleet-0', 'fleet-1', 'fleet-2'].map((c) => `  ${c}:\n    weight: ${c === 'fleet-0' ? 6 : 1}\n`).join('');
  const tracker = new ZoneTracker(parseSiteFile(`cameras:\n${site}  good:\n    weight: 6\n`));
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32 }, gate, zones: tracker });
  // fleet-0 is weighed 6 by the site file, but fleet may name any camera: it splits fleet's 2 with fleet-1..3 (1 each; fleet-3 has no entry).
  const fleet = await Promise.all(
    Array.from({ length: 4 }, (_, i) => greedyPeer(port, { name: `fleet-${i}`, window: 32, cost: 1, token: tokens.fleet.token })),
  );
  const good = await greedyPeer(port, { name: 'good', window: 32, cost: 1, token: tokens.good.token });
  const start = runner.served.length;
  await until(() => runner.served.length >= start + 680);
  const window = runner.served.slice(start + 80, start + 680);
  for (const f of fleet) f.stop();
  good.stop();
  const count = (prefix: string): number => window.filter((tag) => tag.startsWith(prefix)).length;
  const fleetAll = count('fleet-');
  // good is named in its identity's list and weighed 6: its own share of 6 against fleet's 2.
  const ratio = count('good') / fleetAll;
  t.true(ratio > 2.5 && ratio < 3.5, `good (own share 6) : fleet (2) = ${ratio.toFixed(2)}`);
  // Inside fleet's share: 6:1:1:1.
  const inside = count('fleet-0') / ((count('fleet-1') + count('fleet-2') + count('fleet-3')) / 3);
  t.true(inside > 4.5 && inside < 7.5, `fleet-0 : each other fleet camera = ${inside.toFixed(2)}`);
});

test('--lower-class-share 0 is strict priority: a lower class waits while a higher one has frames', async (t) => {
  const tracker = new ZoneTracker(parseSiteFile('cameras:\n  carpark:\n    priority: -1\n'));
  const runner = new ClockRunner(1);
  const { port } = await startServerWithRunner(t, runner, { server: { maxWindow: 32, lowerClassShare: 0 }, zones: tracker });
  const busy = await greedyPeer(port, { name: 'busy', window: 32, cost: 1, localAddress: '127.0.0.31' });
  const carpark = await greedyPeer(port, { name: 'carpark', window: 4, cost: 1, localAddress: '127.0.0.32' });
  const start = runner.served.length;
  await until(() => runner.served.length >= start + 300);
  const later = runner.served.slice(start + 50, start + 300);
  busy.stop();
  carpark.stop();
  t.is(
    later.filter((tag) => tag.startsWith('carpark')).length,
    0,
    'strict: none while the class above is backlogged (with the default 0.1: about a tenth, above)',
  );
});
