/** The history API over HTTP (serveHistoryApi on a node:http server, as the console mounts it): headers, CSV download, methods, fall-through. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { HistoryApi } from '../src/history/api.js';
import { serveHistoryApi } from '../src/history/http-routes.js';
import { HistoryStore } from '../src/history/store.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { tempDir } from './helpers/server.js';

test('GET answers JSON and CSV with no-store; other methods get 405; other paths fall through', async (t) => {
  const now = Date.now();
  const store = HistoryStore.open({ dir: tempDir(), limits: { fineHours: 48, days: 30, maxBytes: 1 << 30, maxSkewMs: 300_000 }, log: () => undefined });
  t.teardown(() => store.close());
  store.recorder.reading({ camera: 'hall', zone: 'entry', zoneId: 0, timeMs: now - 5000, people: 3, smoothed: 3, occupancy: Number.NaN, state: 0 });
  store.flush();
  const api = new HistoryApi({
    site: () => parseSiteFile('cameras:\n  hall:\n    zones:\n      - { name: entry, polygon: [[0, 0], [1, 0], [1, 1]] }\n'),
    store,
    clock: { now: () => Date.now() },
    limits: { maxRangeS: 86_400, maxPoints: 1000, maxAlerts: 10 },
  });
  const server = http.createServer((req, res) => {
    if (!serveHistoryApi(api, req, res)) res.writeHead(404).end('not mine');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const json = await fetch(`${base}/api/v1/history?camera=hall&zone=entry&step=60`);
  t.is(json.status, 200);
  t.is(json.headers.get('content-type'), 'application/json; charset=utf-8');
  t.is(json.headers.get('cache-control'), 'no-store');
  const body = (await json.json()) as { series: Array<{ people_max: number[] }> };
  t.deepEqual(body.series[0].people_max, [3]);

  const csv = await fetch(`${base}/api/v1/history?camera=hall&zone=entry&step=60`, { headers: { Accept: 'text/csv' } });
  t.is(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  t.is(csv.headers.get('content-disposition'), 'attachment; filename="crowdline-hall-entry-history.csv"');
  t.regex(await csv.text(), /^camera,zone,time,epoch_s,frames,people_mean,people_max,smoothed,state\nhall,entry,/);

  const bad = await fetch(`${base}/api/v1/history?camera=hall&step=soon`);
  t.is(bad.status, 400);
  t.deepEqual(await bad.json(), { error: 'step must be a whole number of seconds' });

  const post = await fetch(`${base}/api/v1/alerts`, { method: 'POST', body: '{}' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');

  const head = await fetch(`${base}/api/v1/cameras`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.true(Number(head.headers.get('content-length')) > 0);

  const other = await fetch(`${base}/api/v1/elsewhere`);
  t.is(other.status, 404);
  t.is(await other.text(), 'not mine');
});
