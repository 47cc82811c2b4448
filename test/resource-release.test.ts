/** Memory a cancelled frame or a flood holds is released at once, not when its slot is answered. */
import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import http from 'node:http';
import net from 'node:net';
import { Batcher } from '../src/batcher/batcher.js';
import { startMetricsHttp } from '../src/metrics/http.js';
import { Registry } from 'prom-client';
import { GatedRunner } from './helpers/fake-runner.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('a frame cancelled by drop-oldest releases its JPEG while its ticket is still held', async (t) => {
  const runner = new GatedRunner(1);
  const batcher = new Batcher(runner, { maxBatch: 1, maxDelayMs: 0 });
  const flow = batcher.openFlow({ weight: 1, priority: 0, label: 'cam' });
  batcher.submit({ jpeg: Buffer.from('1'), receivedAtMs: Date.now() }, flow); // occupies the one worker
  let jpeg: Uint8Array | undefined = new Uint8Array(8 * 1024 * 1024);
  const released = new WeakRef(jpeg);
  const ticket = batcher.submit({ jpeg, receivedAtMs: Date.now() }, flow);
  jpeg = undefined;
  t.true(ticket.cancel('dropped'));
  t.is((await ticket.promise).status, 'dropped');
  await new Promise((r) => setImmediate(r));
  gc();
  t.is(released.deref(), undefined, 'the ticket (held by the reply order) must not keep the JPEG alive');
  runner.release();
});

test('a closed connection releases every queued JPEG at once, and none reaches a worker', async (t) => {
  const runner = new GatedRunner(1);
  const batcher = new Batcher(runner, { maxBatch: 1, maxDelayMs: 0 });
  const flow = batcher.openFlow({ weight: 1, priority: 0, label: 'gone' });
  const other = batcher.openFlow({ weight: 1, priority: 0, label: 'cam' });
  batcher.submit({ jpeg: Buffer.from('1'), receivedAtMs: Date.now() }, other); // occupies the one worker
  const refs: Array<WeakRef<Uint8Array>> = [];
  const tickets = Array.from({ length: 8 }, () => {
    const jpeg = new Uint8Array(4 * 1024 * 1024);
    refs.push(new WeakRef(jpeg));
    return batcher.submit({ jpeg, receivedAtMs: Date.now() }, flow);
  });
  t.is(batcher.queueBytes, 8 * 4 * 1024 * 1024);
  flow.close();
  t.is(batcher.queueBytes, 0, 'queue bytes back to zero at once');
  t.is(batcher.queueDepth, 0);
  for (const ticket of tickets) t.like(await ticket.promise, { status: 'dropped', reason: 'connection closed' });
  await new Promise((r) => setImmediate(r));
  gc();
  t.true(
    refs.every((r) => r.deref() === undefined),
    'no JPEG of the closed connection is kept',
  );
  runner.release();
  await batcher.whenIdle();
  t.deepEqual(runner.batches, [1], "only the other camera's frame ran");
});

test('a frame whose sender is found gone just before it would run is dropped unrun, its bytes released, and the next frame runs', async (t) => {
  const runner = new GatedRunner(1);
  const batcher = new Batcher(runner, { maxBatch: 2, maxDelayMs: 0 });
  const gone = batcher.openFlow({ weight: 1, priority: 0, label: 'gone' });
  const cam = batcher.openFlow({ weight: 1, priority: 0, label: 'cam' });
  batcher.submit({ jpeg: Buffer.from('1'), receivedAtMs: Date.now() }, cam); // occupies the one worker
  let asked = 0;
  const stillWanted = (): boolean => (asked++, false);
  const dropped = [2, 3].map((n) => batcher.submit({ jpeg: Buffer.from(String(n)), receivedAtMs: Date.now(), stillWanted }, gone));
  const kept = batcher.submit({ jpeg: Buffer.from('4'), receivedAtMs: Date.now(), stillWanted: () => true }, cam);
  t.is(asked, 0, 'asked only when a worker is about to take it, not while it waits');
  runner.release();
  for (const ticket of dropped) t.like(await ticket.promise, { status: 'dropped', reason: 'connection closed' });
  t.like(await kept.promise, { status: 'ok', count: 4 });
  await batcher.whenIdle();
  t.is(asked, 2);
  t.deepEqual(runner.batches, [1, 1], 'only the two frames of the sender still there ran, each alone');
  t.is(batcher.queueBytes, 0);
});

test('the metrics endpoint holds at most its connection limit and drops slow requests', async (t) => {
  const metrics = await startMetricsHttp({
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    isReady: () => true,
    limits: { maxConnections: 4, headersTimeoutMs: 300, requestTimeoutMs: 600 },
  });
  t.teardown(() => metrics.close());
  const port = metrics.address.port;
  // Ten sockets that send half a request line and stop.
  const replies: string[] = [];
  const closed = await Promise.all(
    Array.from(
      { length: 10 },
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => s.write('GET /metr'));
          s.on('data', (d: Buffer) => replies.push(d.toString('latin1')));
          s.on('error', () => undefined);
          s.on('close', () => resolve(true));
        }),
    ),
  );
  t.is(closed.length, 10, 'over-limit sockets are closed at once, the rest at the headers timeout');
  t.is(replies.filter((r) => r.startsWith('HTTP/1.1 408')).length, 4, 'the four admitted ones timed out with 408');
  // The endpoint still answers a real scrape afterwards.
  const status = await new Promise<number>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => resolve(res.statusCode ?? 0)).on('error', reject),
  );
  t.is(status, 200);
});

test('probes never starve: /readyz answers while keep-alive clients and one-byte-a-second sockets crowd the metrics port', async (t) => {
  const metrics = await startMetricsHttp({ host: '127.0.0.1', port: 0, registry: new Registry(), isReady: () => true, limits: { maxConnections: 16 } });
  t.teardown(() => metrics.close());
  const port = metrics.address.port;
  const crowd: net.Socket[] = [];
  t.teardown(() => crowd.forEach((s) => s.destroy()));
  // 16 keep-alive clients from 16 addresses (enough to fill every slot), each asking /metrics again as soon as it is answered.
  for (let i = 0; i < 16; i++) {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${i + 1}` });
    const ask = (): void => void (!s.destroyed && s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('connect', ask);
    s.on('data', () => setTimeout(ask, 20));
    s.on('error', () => undefined);
    crowd.push(s);
  }
  // 64 sockets from one address sending a header byte at a time.
  for (let i = 0; i < 64; i++) {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.2.1' }, () => s.write('G'));
    s.on('error', () => undefined);
    crowd.push(s);
  }
  const drip = setInterval(() => crowd.slice(16).forEach((s) => !s.destroyed && s.write('E')), 100);
  t.teardown(() => clearInterval(drip));
  await new Promise((r) => setTimeout(r, 200));
  let answered = 0;
  for (let i = 0; i < 20; i++) {
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false, localAddress: '127.0.3.1' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
    });
    if (status === 200) answered++;
  }
  t.is(answered, 20, 'every probe answered');
  // One address holds at most its 4 connections: the server closes the other slow sockets (the test's timeout bounds the wait).
  while (crowd.slice(16).filter((s) => s.destroyed).length < 60) await new Promise((r) => setTimeout(r, 20));
  t.pass();
});
