/**
 * deploy/grafana: every metric the dashboard and the alert rules query
 * exists in the /metrics of a live server (crowdline-v1, a few frames sent
 * so per-camera series exist). A renamed metric breaks this test, not an
 * operator's dashboard.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { V1Connection } from '../client/connection/connection.js';
import { startServer } from '../src/app/start-server.js';
import { DEFAULT_MODEL_PATH, PACKAGE_ROOT } from '../src/app/paths.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';

const GRAFANA = path.join(PACKAGE_ROOT, 'deploy', 'grafana');

interface Dashboard {
  uid: string;
  panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}
interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{ alert: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }>;
  }>;
}

/** Time series Prometheus makes itself, not the server. */
const FROM_PROMETHEUS = new Set(['up']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** Metric names a PromQL expression selects (functions, labels, strings, ranges and Grafana variables left out). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/label_values\(\s*(.*?)\s*,\s*\w+\s*\)/g, '$1') // Grafana: label_values(selector, label)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    if (!KEYWORDS.has(m[1].toLowerCase())) names.add(m[1]);
  }
  return [...names];
}

/** Sample names /metrics can have, from its # TYPE lines (a histogram is name_bucket, _sum, _count). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name + s));
    else if (type === 'summary') [name, `${name}_sum`, `${name}_count`].forEach((s) => names.add(s));
    else names.add(name);
  }
  return names;
}

test('PromQL name extraction finds metrics and nothing else', (t) => {
  t.deepEqual(metricNames('histogram_quantile(0.99, sum by (instance, le) (rate(crowdline_frame_server_seconds_bucket{job="crowdline", x=~"a|b"}[5m]))) > 1'), [
    'crowdline_frame_server_seconds_bucket',
  ]);
  t.deepEqual(metricNames('time() - crowdline_camera_last_result_timestamp_seconds{job="crowdline"} > 120'), [
    'crowdline_camera_last_result_timestamp_seconds',
  ]);
  t.deepEqual(metricNames('crowdline_workers_ready < crowdline_workers'), ['crowdline_workers_ready', 'crowdline_workers']);
  t.deepEqual(metricNames('label_values(crowdline_camera_people{instance=~"$instance"}, camera)'), ['crowdline_camera_people']);
  t.deepEqual(metricNames('sum(rate(a_total[$__rate_interval])) / sum(rate(b_count[1m])) and on (instance) up == 1'), ['a_total', 'b_count', 'up']);
});

test("every metric in the dashboard and the alert rules exists in a live server's /metrics", async (t) => {
  const dashboard = JSON.parse(readFileSync(path.join(GRAFANA, 'crowdline-dashboard.json'), 'utf8')) as Dashboard;
  const rules = parseYaml(readFileSync(path.join(GRAFANA, 'crowdline-alerts.yaml'), 'utf8')) as RuleFile;

  const queries: Array<{ where: string; expr: string }> = [];
  for (const panel of dashboard.panels) for (const target of panel.targets ?? []) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    queries.push({ where: `variable $${variable.name}`, expr: typeof variable.query === 'string' ? variable.query : variable.query.query });
  }
  const alerts = rules.groups.flatMap((g) => g.rules);
  for (const rule of alerts) queries.push({ where: `alert ${rule.alert}`, expr: rule.expr });
  t.true(dashboard.panels.filter((p) => p.type !== 'row').length >= 12);
  t.deepEqual(alerts.map((r) => r.alert).sort(), [
    'CrowdlineCameraSilent',
    'CrowdlineEventLoopLag',
    'CrowdlineFramesDropped',
    'CrowdlineFramesFailing',
    'CrowdlineLatencyHigh',
    'CrowdlineNotReady',
    'CrowdlineServerDown',
  ]);
  for (const rule of alerts) {
    t.truthy(rule.labels?.severity, `${rule.alert} has a severity`);
    t.truthy(rule.annotations?.summary, `${rule.alert} has a summary`);
  }
  t.is(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');

  const running = await startServer({
    modelPath: DEFAULT_MODEL_PATH,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 1,
    server: { host: '127.0.0.1', port: 0 },
    metrics: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
  });
  t.teardown(() => running.close());
  const conn = await V1Connection.connect({ host: '127.0.0.1', port: running.address.port, cameraName: 'entrance' });
  const results = collectResults(conn, 2);
  conn.send(blockPatternJpeg(640, 480, 16));
  conn.send(blockPatternJpeg(640, 480, 16, { salt: 1 }));
  await results;
  conn.destroy();
  const text = await (await fetch(`http://127.0.0.1:${running.metrics!.address.port}/metrics`)).text();
  const exposed = exposedNames(text);

  const queried = new Set<string>();
  for (const { where, expr } of queries) {
    const names = metricNames(expr);
    t.true(names.length > 0, `${where} queries some metric: ${expr}`);
    for (const name of names) {
      queried.add(name);
      if (!FROM_PROMETHEUS.has(name)) t.true(exposed.has(name), `${where}: ${name} is not in /metrics`);
    }
  }
  t.true(queried.size >= 20, `the dashboard and rules cover the metrics (${queried.size} names)`);
  // The per-camera series exist for the camera that sent frames.
  for (const name of ['crowdline_camera_people', 'crowdline_camera_frames_total', 'crowdline_camera_last_result_timestamp_seconds']) {
    t.true(queried.has(name), `${name} is on the dashboard or in an alert`);
    t.regex(text, new RegExp(`^${name}\\{camera="entrance"\\} `, 'm'));
  }
});
