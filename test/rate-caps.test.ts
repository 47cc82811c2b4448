/**
 * Issue 27: frame-rate and pixel-rate caps per sender. A greedy peer over its
 * cap gets its extra frames answered "dropped" (drop-oldest) or is paused
 * (queue), while a well-behaved camera beside it keeps its rate. Time is the
 * caps' own clock, moved by the test, so every assertion is a count of
 * answers: a slow machine cannot change them.
 */
import test from 'ava';
import net from 'node:net';
import { encodeFrame, encodeHello, encodeLegacyFrame, FrameStatus, LegacyReplyParser, type ResultMessage } from '../src/framing/index.js';
import type { ServerOptions } from '../src/accept/options.js';
import type { FrameScreen } from '../src/accept/session-deps.js';
import { RateCaps } from '../src/accept/rate-caps.js';
import { AuthGate } from '../src/auth/gate.js';
import { Credentials } from '../src/auth/credentials.js';
import { hashSecret, newToken } from '../src/auth/token.js';
import { ServerMetrics } from '../src/metrics/server-metrics.js';
import { screenJpeg, DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { parsePrometheus } from '../bench/scrape.js';
import { ClockRunner, clockFrame, clockTag } from './helpers/clock-runner.js';
import { progressiveDeclaring } from './helpers/hostile-jpeg.js';
import { rawClient, type RawClient } from './helpers/raw-client.js';
import { runCli } from './helpers/cli.js';
import { NO_RATE_CAPS, startServerWithRunner } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

/** A clock the test moves (ms). */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let at = 1_000_000;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

/** The real header screen: pixels from the JPEG header; clock frames declare none. */
const screen: FrameScreen = (bytes) => {
  if (clockTag(bytes)) return { work: 0, pixels: 0 };
  const verdict = screenJpeg(bytes, DEFAULT_JPEG_LIMITS);
  return 'rejected' in verdict ? { refused: { reason: verdict.rejected.message, cause: verdict.rejected.reason } } : verdict;
};

const results = (c: RawClient): ResultMessage[] => c.messages.filter((m): m is ResultMessage => m.type === 'result');
const count = (c: RawClient, status: number, reason?: RegExp): number =>
  results(c).filter((r) => r.status === status && (reason === undefined || reason.test(r.reason ?? ''))).length;

/** A peer from `localAddress` that has said HELLO (window 32 unless said). */
async function peer(port: number, name: string, localAddress: string, o: { token?: string; window?: number } = {}): Promise<RawClient & { sent: number }> {
  const c = await rawClient(port, { localAddress });
  c.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: o.window ?? 32, cameraName: name, token: o.token }));
  await until(() => c.messages.some((m) => m.type === 'welcome' || m.type === 'error'));
  return Object.assign(c, { sent: 0 });
}

/** Sends `n` frames at once (the greedy peer's burst). */
function blast(c: RawClient & { sent: number }, n: number, frame: (i: number) => Buffer): void {
  for (let i = 0; i < n; i++) c.socket.write(encodeFrame({ seq: c.sent++, captureTimeMs: 0, jpeg: frame(i) }));
}

/** Sends `n` frames one at a time, each after the previous one's answer (a camera within its rate). */
async function paced(c: RawClient & { sent: number }, n: number, frame: (i: number) => Buffer): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = results(c).length;
    c.socket.write(encodeFrame({ seq: c.sent++, captureTimeMs: 0, jpeg: frame(i) }));
    await until(() => results(c).length > before);
  }
}

async function capServer(
  t: Parameters<typeof startServerWithRunner>[0],
  server: Partial<ServerOptions>,
  extra: Parameters<typeof startServerWithRunner>[2] = {},
) {
  const clock = manualClock();
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  const runner = new ClockRunner(1);
  const started = await startServerWithRunner(t, runner, {
    ...extra,
    server: { maxWindow: 32, ...NO_RATE_CAPS, rateBurstMs: 1000, ...server },
    observer: metrics,
    rateClock: clock.now,
    screen,
  });
  const metric = async (name: string): Promise<number> => parsePrometheus(await metrics.registry.metrics()).get(name) ?? NaN;
  return { ...started, clock, runner, metric };
}

test('token buckets: a burst, then the rate; shared by a key; a reconnect does not refill; pixels may go into debt by one frame', (t) => {
  const clock = manualClock();
  const caps = new RateCaps({ burstMs: 2000, now: clock.now });
  const a = caps.acquire('k', { fps: 5, pixelsPerSecond: 0 });
  const b = caps.acquire('k', { fps: 5, pixelsPerSecond: 0 });
  let passed = 0;
  for (let i = 0; i < 30; i++) if ((i % 2 ? a : b).take(0) === undefined) passed++;
  t.is(passed, 10, 'two connections of one sender share 2 s x 5 fps');
  t.is(a.over(), 'frame-rate-cap');
  t.is(Math.round(a.waitMs()), 200);
  clock.advance(1000);
  passed = 0;
  for (let i = 0; i < 30; i++) if (a.take(0) === undefined) passed++;
  t.is(passed, 5);
  a.release();
  b.release();
  const again = caps.acquire('k', { fps: 5, pixelsPerSecond: 0 });
  t.is(again.take(0), 'frame-rate-cap', 'reconnecting does not refill the bucket');
  t.is(caps.acquire('other', { fps: 5, pixelsPerSecond: 0 }).take(0), undefined, 'another sender has its own');

  const px = caps.acquire('px', { fps: 0, pixelsPerSecond: 1000 });
  t.is(px.take(1500), undefined, 'the bucket holds 2000');
  t.is(px.take(1500), undefined, 'still not in debt: this one takes it to -1000');
  t.is(px.take(1), 'pixel-rate-cap');
  t.is(Math.round(px.waitMs()), 1000);
  clock.advance(1000);
  t.is(px.take(50_000), undefined, 'a frame larger than the whole burst still goes through once the debt is paid');
  t.is(px.over(), 'pixel-rate-cap');
});

test('token buckets: forgotten once refilled with no connection, and the table is bounded under address churn', (t) => {
  const clock = manualClock();
  const caps = new RateCaps({ burstMs: 1000, now: clock.now });
  for (let i = 0; i < 10_000; i++) {
    const lease = caps.acquire(`addr${i}`, { fps: 10, pixelsPerSecond: 0 });
    lease.take(0);
    lease.release();
  }
  t.true(caps.size <= 4096, `${caps.size} buckets`);
  clock.advance(1000);
  caps.acquire('new', { fps: 10, pixelsPerSecond: 0 });
  t.is(caps.size, 1, 'refilled buckets with no connection are forgotten');
});

test('frame-rate cap, drop-oldest: a greedy peer gets its extra frames answered dropped while a camera from another address keeps its rate', async (t) => {
  const { port, clock, metric, runner } = await capServer(t, { overload: 'drop-oldest', unauthMaxFps: 10 });
  const greedy = await peer(port, 'greedy', '127.0.0.2');
  const good = await peer(port, 'good', '127.0.0.3');
  t.teardown(() => [greedy, good].forEach((c) => c.socket.destroy()));
  for (let second = 1; second <= 2; second++) {
    blast(greedy, 100, (i) => clockFrame(1, `greedy#${second}.${i}`));
    await paced(good, 10, (i) => clockFrame(1, `good#${second}.${i}`));
    await until(() => results(greedy).length === 100 * second);
    t.is(count(good, FrameStatus.Ok), 10 * second, `second ${second}: every frame of the camera within its cap is answered ok`);
    t.is(count(greedy, FrameStatus.Dropped, /over its frame-rate cap \(10 frames\/s, --unauth-max-fps\)/), 90 * second, `second ${second}: 90 over the cap`);
    // The 10 within the cap reached the queue (drop-oldest may still replace one waiting behind another).
    t.true(count(greedy, FrameStatus.Ok) <= 10 * second);
    clock.advance(1000);
  }
  t.is(await metric('crowdline_frames_rate_capped_total{cap="frame-rate-cap"}'), 180);
  t.true(runner.countServed('greedy') <= 20, 'no capped frame reached a worker');
});

test('pixel-rate cap, drop-oldest: pixels come from the JPEG header; a peer sending 4K frames at a 1080p budget is capped, a 1080p camera is not', async (t) => {
  // Each address may send ten 1080p frames a second.
  const { port, clock, metric } = await capServer(t, { overload: 'drop-oldest', unauthMaxPixelRate: 1920 * 1080 * 10 });
  const fourK = progressiveDeclaring(3840, 2160, 2);
  const fullHd = progressiveDeclaring(1920, 1080, 2);
  const greedy = await peer(port, 'greedy', '127.0.0.4');
  const good = await peer(port, 'good', '127.0.0.5');
  t.teardown(() => [greedy, good].forEach((c) => c.socket.destroy()));
  blast(greedy, 40, () => fourK);
  await paced(good, 10, () => fullHd);
  await until(() => results(greedy).length === 40);
  // The 1 s bucket holds ten 1080p frames = 2.5 4K frames: 3 go through (the third into debt), the other 37 are dropped.
  t.is(count(greedy, FrameStatus.Dropped, /over its pixel-rate cap \(20736000 pixels\/s, --unauth-max-pixel-rate\)/), 37);
  t.is(count(good, FrameStatus.Ok), 10);
  clock.advance(1000);
  // The debt (half a 4K frame) is paid first, leaving two 4K frames' worth: 3 more (the third into debt again).
  blast(greedy, 40, () => fourK);
  await until(() => results(greedy).length === 80);
  t.is(count(greedy, FrameStatus.Dropped, /pixel-rate cap/), 37 + 37);
  t.is(await metric('crowdline_frames_rate_capped_total{cap="pixel-rate-cap"}'), 74);
  t.is(await metric('crowdline_frames_rate_capped_total{cap="frame-rate-cap"}'), 0);
});

test('frame-rate cap, queue policy: a greedy peer is paused, never answered dropped, and goes on at its rate; the camera beside it is not slowed', async (t) => {
  const { port, clock, metric } = await capServer(t, { overload: 'queue', unauthMaxFps: 10 });
  const greedy = await peer(port, 'greedy', '127.0.0.6');
  const good = await peer(port, 'good', '127.0.0.7');
  t.teardown(() => [greedy, good].forEach((c) => c.socket.destroy()));
  blast(greedy, 50, (i) => clockFrame(1, `greedy#${i}`));
  await until(() => results(greedy).length === 10);
  await paced(good, 10, (i) => clockFrame(1, `good#${i}`));
  await sleep(100);
  t.is(results(greedy).length, 10, 'no frame over the cap was admitted while its clock stood still');
  t.true((await metric('crowdline_rate_cap_waits_total{cap="frame-rate-cap"}')) >= 1);
  clock.advance(1000);
  await until(() => results(greedy).length === 20);
  clock.advance(3000);
  await until(() => results(greedy).length === 30);
  t.is(count(greedy, FrameStatus.Ok), 30, 'every answer ok: queue never drops');
  t.is(count(good, FrameStatus.Ok), 10);
  t.is(await metric('crowdline_frames_rate_capped_total{cap="frame-rate-cap"}'), 0);
});

test('caps per authenticated camera from the credentials file: max_fps overrides --max-fps; two connections of one camera share its cap, another camera has its own', async (t) => {
  const tokens = [newToken(), newToken()];
  const entries = await Promise.all(
    [
      ['slow', 'max_fps: 5'],
      ['plain', ''],
    ].map(async ([name, extra], i) => `  - name: ${name}\n    key: "${tokens[i].keyId}"\n    hash: "${await hashSecret(tokens[i].secret)}"\n    ${extra}\n`),
  );
  const credentials = Credentials.parse(`clients:\n${entries.join('')}`, 'test');
  t.is(credentials.named('slow')?.maxFps, 5);
  const gate = new AuthGate({ credentials, clientCertificates: false, tlsRequired: false, legacy: { kind: 'allow' } });
  const { port } = await capServer(t, { overload: 'drop-oldest', maxFps: 20, unauthMaxFps: 1 }, { gate });
  // All from one address: authenticated cameras are capped by identity and camera, not by address.
  const slowA = await peer(port, 'door', '127.0.0.8', { token: tokens[0].token });
  const slowB = await peer(port, 'door', '127.0.0.8', { token: tokens[0].token });
  const slowOther = await peer(port, 'yard', '127.0.0.8', { token: tokens[0].token });
  const plain = await peer(port, 'gate', '127.0.0.8', { token: tokens[1].token });
  const all = [slowA, slowB, slowOther, plain];
  t.teardown(() => all.forEach((c) => c.socket.destroy()));
  for (const c of all) blast(c, 40, () => clockFrame(1, 'x'));
  await until(() => all.every((c) => results(c).length === 40));
  const capped = (c: RawClient): number => count(c, FrameStatus.Dropped, /frame-rate cap/);
  t.is(capped(slowA) + capped(slowB), 80 - 5, 'slow/door: 5 frames in its 1 s bucket, shared by its two connections');
  t.regex(
    results(slowA).find((r) => r.status === FrameStatus.Dropped && /cap/.test(r.reason ?? ''))?.reason ?? '',
    /this camera is over its frame-rate cap \(5 frames\/s, its credentials entry\)/,
  );
  t.is(capped(slowOther), 40 - 5, 'slow/yard: its own bucket');
  t.is(capped(plain), 40 - 20, 'plain/gate: the server default, --max-fps 20');
  t.throws(() => Credentials.parse('clients:\n  - name: a\n    max_fps: -1\n', 'x'), { message: /max_fps must be frames per second from 0/ });
  t.throws(() => Credentials.parse('clients:\n  - name: a\n    max_pixel_rate: 1.5\n', 'x'), { message: /max_pixel_rate must be a whole number/ });
});

test('legacy clients and unauthenticated v1 peers from one address share its cap', async (t) => {
  const { port, runner, metric } = await capServer(t, { overload: 'drop-oldest', unauthMaxFps: 6 });
  const a = await peer(port, 'a', '127.0.0.9');
  const b = await peer(port, 'b', '127.0.0.9');
  const legacy = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.9' });
  legacy.on('error', () => undefined);
  t.teardown(() => [a.socket, b.socket, legacy].forEach((s) => s.destroy()));
  const parser = new LegacyReplyParser();
  const legacyReplies: number[] = [];
  legacy.on('data', (chunk: Buffer) => parser.push(chunk).forEach((r) => legacyReplies.push(r.height)));
  await new Promise((resolve) => legacy.once('connect', resolve));
  blast(a, 20, () => clockFrame(1, 'a'));
  blast(b, 20, () => clockFrame(1, 'b'));
  for (let i = 0; i < 20; i++) legacy.write(encodeLegacyFrame(clockFrame(1, 'legacy')));
  await until(() => results(a).length === 20 && results(b).length === 20 && legacyReplies.length === 20);
  const capped = count(a, FrameStatus.Dropped, /frame-rate cap/) + count(b, FrameStatus.Dropped, /frame-rate cap/);
  t.is(
    await metric('crowdline_frames_rate_capped_total{cap="frame-rate-cap"}'),
    60 - 6,
    'one bucket of 6 frames for the address, however many connections and protocols',
  );
  t.true(runner.served.length <= 6);
  // A legacy client is told "not processed" with an empty map (protocol §6.2): its capped frames are the rest.
  t.true(capped < 54 && legacyReplies.filter((h) => h === 0).length >= 54 - capped, 'the legacy client was capped too');
});

test('crowdline serve: each cap is an option; 0 turns it off, a negative or fractional pixel rate is refused naming the flag', async (t) => {
  const ok = await runCli(['serve', '--dry-run', '--max-fps', '12.5', '--unauth-max-pixel-rate', '0', '--rate-burst-ms', '500']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^max-fps: 12.5 {2}# command line$/m);
  t.regex(ok.stdout, /^max-pixel-rate: 248832000 {2}# default$/m, 'a 4K camera at 30 fps');
  t.regex(ok.stdout, /^unauth-max-fps: 240 {2}# default$/m);
  for (const [flag, value, message] of [
    ['--max-fps', '-1', /--max-fps must be frames per second from 0 \(no cap\) to 1000/],
    ['--unauth-max-fps', 'x', /--unauth-max-fps must be frames per second/],
    ['--max-pixel-rate', '1.5', /--max-pixel-rate must be a whole number of pixels per second/],
    ['--rate-burst-ms', '0', /--rate-burst-ms must be a positive whole number/],
  ] as const) {
    const run = await runCli(['serve', '--port', '0', flag, value]);
    t.not(run.code, 0, flag);
    t.regex(run.stderr, message, flag);
  }
});
