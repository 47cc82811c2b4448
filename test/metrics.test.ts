/**
 * The metrics endpoint: /metrics counters match what a test client sent,
 * /healthz answers at once, /readyz only once every worker has the model.
 */
import test from 'ava';
import { V1Connection } from '../client/connection.js';
import { startServer } from '../src/app/start-server.js';
import { startMetricsHttp } from '../src/metrics/http.js';
import { ServerMetrics } from '../src/metrics/server-metrics.js';
import { parsePrometheus, windowQuantile } from '../bench/scrape.js';
import { blockPatternJpeg, expectedBlockDensity } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel } from './helpers/server.js';

const get = async (url: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

test('counters, per-camera count and health endpoints match what a client sent', async (t) => {
  const model = knownAnswerModel();
  const running = await startServer({
    modelPath: model.onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 4,
    maxBatchDelayMs: 2,
    server: { host: '127.0.0.1', port: 0 },
    metrics: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
  });
  t.teardown(() => running.close());
  t.truthy(running.metrics);
  const base = `http://127.0.0.1:${running.metrics!.address.port}`;

  const send = async (camera: string, salts: number[], extra: Uint8Array[] = []): Promise<void> => {
    const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: camera });
    const results = collectResults(conn, salts.length + extra.length);
    for (const salt of salts) conn.send(blockPatternJpeg(64, 48, 8, { salt }));
    for (const bytes of extra) conn.send(bytes);
    await results;
    conn.destroy();
  };
  // alpha: 10 good frames; beta: 5 good + 1 that is not a JPEG (frame-error).
  await send('alpha', [...Array(10).keys()]);
  await send('beta', [20, 21, 22, 23, 24], [Buffer.from('not a jpeg')]);

  const m = parsePrometheus((await get(`${base}/metrics`)).body);
  t.is(m.get('crowdline_frames_received_total'), 16);
  t.is(m.get('crowdline_frames_answered_total{status="ok"}'), 15);
  t.is(m.get('crowdline_frames_answered_total{status="frame-error"}'), 1);
  t.is(m.get('crowdline_frames_failed_total{cause="corrupt"}'), 1);
  t.is(m.get('crowdline_frames_failed_total{cause="too-large"}'), 0);
  t.is(m.get('crowdline_frames_dropped_total'), 0);
  t.is(m.get('crowdline_batch_size_sum'), 15, 'every good frame rode in exactly one batch; the non-JPEG was refused before any worker');
  t.true((m.get('crowdline_batch_size_count') ?? 0) >= 4);
  t.is(m.get('crowdline_frame_server_seconds_count'), 16);
  t.is(m.get('crowdline_frame_infer_seconds_count'), 15);
  t.is(m.get('crowdline_queue_depth'), 0);
  t.is(m.get('crowdline_workers_ready'), 1);
  t.is(m.get('crowdline_workers'), 1);
  t.is(m.get('crowdline_connections_opened_total{protocol="v1"}'), 2);

  // Latest count per camera = the known answer for its last frame.
  const sum = (salt: number): number => expectedBlockDensity(8, 6, salt).reduce((a, b) => a + b, 0);
  t.true(Math.abs((m.get('crowdline_camera_head_count{camera="alpha"}') ?? NaN) - sum(9)) < 1e-3);
  t.true(Math.abs((m.get('crowdline_camera_head_count{camera="beta"}') ?? NaN) - sum(24)) < 1e-3);

  // Event-loop delay: our cumulative histogram and prom-client's defaults.
  t.true((m.get('crowdline_event_loop_delay_seconds_count') ?? 0) > 0);
  t.true(m.has('nodejs_eventloop_lag_p99_seconds'));
  t.true(m.has('process_resident_memory_bytes'));

  t.is((await get(`${base}/healthz`)).status, 200);
  t.is((await get(`${base}/readyz`)).status, 200);
  t.is((await get(`${base}/nothing`)).status, 404);
});

test('/readyz is 503 until every worker has loaded the model', async (t) => {
  const metrics = new ServerMetrics({ defaultMetrics: false });
  const http = await startMetricsHttp({ host: '127.0.0.1', port: 0, registry: metrics.registry, isReady: () => metrics.ready });
  t.teardown(async () => {
    metrics.stop();
    await http.close();
  });
  const url = `http://127.0.0.1:${http.address.port}`;
  t.is((await get(`${url}/readyz`)).status, 503, 'not bound to a pool yet');
  t.is((await get(`${url}/healthz`)).status, 200, 'alive while loading');
  let ready = 1;
  metrics.bind({ queueDepth: () => 0, runningBatches: () => 0, readyWorkers: () => ready, poolSize: () => 2, connections: () => 0 });
  t.is((await get(`${url}/readyz`)).status, 503, '1 of 2 workers ready');
  ready = 2;
  t.is((await get(`${url}/readyz`)).status, 200);
});

test('event-loop delay window quantile comes from the difference of two scrapes', async (t) => {
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  const before = parsePrometheus(await metrics.registry.metrics());
  // Block the loop for ~40 ms: the sampler must see one late tick.
  await new Promise((r) => setTimeout(r, 20));
  const until = Date.now() + 40;
  while (Date.now() < until);
  await new Promise((r) => setTimeout(r, 30));
  const after = parsePrometheus(await metrics.registry.metrics());
  const max = windowQuantile(before, after, 'crowdline_event_loop_delay_seconds', 1);
  t.truthy(max);
  t.true(max!.value >= 0.03, `saw the stall (${max!.value} s)`);
});
