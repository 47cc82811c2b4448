/**
 * The metrics endpoint: /metrics counters match what a test client sent,
 * /healthz answers at once, /readyz only once every worker has the model.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { startServer } from '../src/app/start-server.js';
import { startMetricsHttp } from '../src/metrics/http.js';
import { ServerMetrics } from '../src/metrics/server-metrics.js';
import type { FrameReport } from '../src/accept/observer.js';
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
  t.is(m.get('crowdline_frames_answered_total{status="dropped"}'), 0);
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
  t.true(Math.abs((m.get('crowdline_camera_people{camera="alpha"}') ?? NaN) - sum(9)) < 1e-3);
  t.true(Math.abs((m.get('crowdline_camera_people{camera="beta"}') ?? NaN) - sum(24)) < 1e-3);
  t.is(m.get('crowdline_camera_frames_total{camera="alpha"}'), 10);
  t.is(m.get('crowdline_camera_frames_total{camera="beta"}'), 6, 'every answered frame, the failed one too');
  const last = m.get('crowdline_camera_last_result_timestamp_seconds{camera="beta"}') ?? 0;
  t.true(last > Date.now() / 1000 - 60 && last <= Date.now() / 1000 + 1, `a recent Unix time (${last})`);
  t.false(m.has('crowdline_frames_dropped_total'), 'not duplicated: crowdline_frames_answered_total{status="dropped"}');

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
  metrics.bind({ queueDepth: () => 0, queueBytes: () => 0, runningBatches: () => 0, readyWorkers: () => ready, poolSize: () => 2, connections: () => 0 });
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

const report = (camera: string, status: FrameReport['status'] = 'ok', count = 3): FrameReport => ({
  camera,
  status,
  count,
  queueUs: 1,
  decodeUs: 1,
  inferUs: 1,
  serverUs: 3,
});

test('per-camera series go once a camera has not been heard from for the TTL, and come back with it', async (t) => {
  let now = 1_000_000;
  const metrics = new ServerMetrics({ defaultMetrics: false, cameraSeriesTtlMs: 60_000, now: () => now });
  t.teardown(() => metrics.stop());
  const scrape = async (): Promise<Map<string, number>> => parsePrometheus(await metrics.registry.metrics());
  metrics.frameAnswered(report('gone'));
  now += 30_000;
  metrics.frameAnswered(report('stays', 'ok', 7));
  metrics.frameAnswered(report('failing', 'frame-error'));
  let m = await scrape();
  t.is(m.get('crowdline_camera_people{camera="gone"}'), 3);
  t.is(m.get('crowdline_camera_last_result_timestamp_seconds{camera="gone"}'), 1000);
  t.false(m.has('crowdline_camera_people{camera="failing"}'), 'no ok frame, no count');
  t.is(m.get('crowdline_camera_frames_total{camera="failing"}'), 1);

  now += 45_000; // "gone": 75 s since its last frame; the others 45 s
  m = await scrape();
  for (const name of ['crowdline_camera_people', 'crowdline_camera_frames_total', 'crowdline_camera_last_result_timestamp_seconds']) {
    t.false(m.has(`${name}{camera="gone"}`), `${name} of the camera that left is removed`);
  }
  t.is(m.get('crowdline_camera_people{camera="stays"}'), 7);
  t.is(m.get('crowdline_camera_frames_total{camera="failing"}'), 1);

  metrics.frameAnswered(report('gone', 'ok', 5));
  m = await scrape();
  t.is(m.get('crowdline_camera_people{camera="gone"}'), 5, 'back when the camera is');
  t.is(m.get('crowdline_camera_frames_total{camera="gone"}'), 1, 'a new series starts from its first frame');

  const forever = new ServerMetrics({ defaultMetrics: false, cameraSeriesTtlMs: 0, now: () => now });
  t.teardown(() => forever.stop());
  forever.frameAnswered(report('kept'));
  now += 365 * 24 * 3600_000;
  t.is(parsePrometheus(await forever.registry.metrics()).get('crowdline_camera_people{camera="kept"}'), 3, 'TTL 0: never removed for age');
});

test('metric names follow the Prometheus conventions promlint checks', async (t) => {
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  metrics.frameAnswered(report('cam'));
  const all = (await metrics.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('crowdline_'));
  t.true(all.length >= 20);
  for (const m of all) {
    t.regex(m.name, /^crowdline_[a-z][a-z0-9_]*$/, 'snake_case with the crowdline_ prefix');
    t.true(m.help.length > 10, `${m.name} has help`);
    if (String(m.type) === 'counter') t.regex(m.name, /_total$/, `counter ${m.name} ends in _total`);
    else t.notRegex(m.name, /_(total|count|sum|bucket)$/, `${m.type} ${m.name} must not end like a counter or histogram series`);
    // Units are base units, spelled out: seconds and bytes, never ms or a bare "time".
    t.notRegex(m.name, /_(ms|milliseconds|us|microseconds|time|kb|mb)(_|$)/, `${m.name}: base units`);
    if (/timestamp/.test(m.name)) t.regex(m.name, /_timestamp_seconds$/);
  }
});
