/** --max-connection-age-ms: connections are closed gracefully after their age; a file camera reconnects and loses nothing. */
import path from 'node:path';
import test from 'ava';
import { CSV_HEADER } from '../client/record/recorder.js';
import { scrape } from '../bench/scrape.js';
import { runCli, oneWorkerServeArgs, startServeProcess } from './helpers/cli.js';
import { readClientCsv, writeJpegFolder } from './helpers/frame-folder.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

test('max connection age: the camera is asked to reconnect, its frames answered once each, the metric counts it', async (t) => {
  const model = knownAnswerModel({ channels: 3, width: 96, height: 72 });
  const { child, port, log } = await startServeProcess([...oneWorkerServeArgs(model.onnxPath), '--metrics-port', '0', '--max-connection-age-ms', '700']);
  t.teardown(() => child.kill('SIGKILL'));
  const metricsPort = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(log())?.[1]);
  const frames = 30;
  const folder = writeJpegFolder(frames);
  const out = tempDir('crowdline-age-out-');
  // 10 fps: about 3 s of stream, several ages of 0.7 s.
  const run = await runCli(['client', '--server', `127.0.0.1:${port}`, '--source', `cam=${folder}`, '--fps', '10', '--no-display', '--out', out], {
    timeoutMs: 120_000,
  });
  t.is(run.code, 0, run.stderr);
  const rows = readClientCsv(path.join(out, 'cam.csv'), CSV_HEADER);
  t.deepEqual(
    rows.map((r) => r.frame),
    [...Array(frames).keys()],
    'every frame exactly once, in order',
  );
  t.true(rows.every((r) => r.status === 'ok'));
  const reconnects = Number(/reconnects (\d+)/.exec(run.stdout)?.[1]);
  t.true(reconnects >= 1, run.stdout);
  t.regex(run.stderr, /connection reached its maximum age; reconnect/);
  const aged = (await scrape(`http://127.0.0.1:${metricsPort}/metrics`)).get('crowdline_connections_ended_by_server_total{reason="max-age"}') ?? 0;
  t.true(aged >= reconnects, `max-age closes ${aged}, reconnects ${reconnects}`);
});

test('--max-connection-age-ms must be a whole number >= 0', async (t) => {
  const run = await runCli(['serve', '--max-connection-age-ms', '1.5']);
  t.not(run.code, 0);
  t.regex(run.stderr, /--max-connection-age-ms must be a whole number >= 0/);
});
