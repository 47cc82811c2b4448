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
  batcher.submit({ jpeg: Buffer.from('1'), receivedAtMs: Date.now() }); // occupies the one worker
  let jpeg: Uint8Array | undefined = new Uint8Array(8 * 1024 * 1024);
  const released = new WeakRef(jpeg);
  const ticket = batcher.submit({ jpeg, receivedAtMs: Date.now() });
  jpeg = undefined;
  t.true(ticket.cancel('dropped'));
  t.is((await ticket.promise).status, 'dropped');
  await new Promise((r) => setImmediate(r));
  gc();
  t.is(released.deref(), undefined, 'the ticket (held by the reply order) must not keep the JPEG alive');
  runner.release();
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
