/**
 * Zone events end to end through a real Mosquitto (started here on
 * 127.0.0.1, stopped after): counts, alert transitions in order, retained
 * state for late subscribers, the server's online/offline status, and a
 * broker restart mid-run (frames keep being answered; alert transitions
 * queued meanwhile arrive after the restart). Counts come from the fake
 * runner (each frame's 1x1 map holds its number) and time from capture
 * timestamps, so the script is exact and needs no waiting for hold times.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { CrowdServer } from '../src/accept/server.js';
import { setUpZones } from '../src/app/zones-setup.js';
import { MqttSink } from '../src/events/mqtt-sink.js';
import type { AlertPayload } from '../src/events/zone-events.js';
import { ClientSideParser, DensityFormat, encodeFrame, encodeHello, FrameStatus, PROTOCOL_VERSION, type ResultMessage } from '../src/framing/index.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { haveMosquitto, Mosquitto, Subscriber, type Received } from './helpers/mosquitto.js';
import { tempDir } from './helpers/server.js';
import { freePort } from './helpers/stream-camera.js';

const SITE = `
cameras:
  cam:
    zones:
      - name: all
        polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
        capacity: 100
        smoothing_s: 0.5
        alerts:
          - { level: warning, above: 20, for_s: 1, clear_below: 10, clear_for_s: 3 }
          - { level: alarm, above: 40, for_s: 2, clear_below: 20, clear_for_s: 1 }
`;

/** Sends frames [value, captureTimeMs] one at a time on a v1 connection (no zones asked); resolves to the RESULTs. */
function stream(port: number, frames: Array<[number, number]>): Promise<ResultMessage[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const parser = new ClientSideParser();
    const results: ResultMessage[] = [];
    const next = (): void => {
      const i = results.length;
      if (i === frames.length) {
        socket.end();
        resolve(results);
        return;
      }
      socket.write(encodeFrame({ seq: i + 1, captureTimeMs: frames[i][1], jpeg: numberFrame(frames[i][0]) }));
    };
    socket.on('data', (c: Buffer) => {
      for (const m of parser.push(c)) {
        if (m.type === 'result') results.push(m);
        if (m.type === 'welcome' || m.type === 'result') next();
      }
    });
    socket.on('error', reject);
    socket.write(encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.Float32, countOnly: false, window: 0, cameraName: 'cam' }));
  });
}

const json = (m: Received): Record<string, unknown> => JSON.parse(m.payload) as Record<string, unknown>;
const isAlert =
  (state: string, live = true) =>
  (m: Received) =>
    m.topic === 'crowdline/cam/all/alert' && json(m).state === state && (!live || !m.retain);

/** A running broker on a free loopback port (stopped when the test ends) and SITE written beside its files. */
async function brokerAndSite(t: ExecutionContext): Promise<{ broker: Mosquitto; dir: string; sitePath: string }> {
  const dir = tempDir();
  const broker = new Mosquitto(await freePort(), dir);
  await broker.start();
  t.teardown(() => broker.dispose());
  const sitePath = path.join(dir, 'site.yaml');
  writeFileSync(sitePath, SITE);
  return { broker, dir, sitePath };
}

test('MQTT: counts, alerts, retained state, and a broker restart mid-run', async (t) => {
  if (!haveMosquitto()) return t.fail('mosquitto is not installed (scripts/setup.sh installs it)');
  const { broker, dir, sitePath } = await brokerAndSite(t);
  const eventsFile = path.join(dir, 'events.jsonl');

  // A consumer that must not miss alerts keeps a persistent session, so the broker holds them while it reconnects.
  const watcher = await Subscriber.connect(broker.url, 'crowdline/#', 'watcher');
  t.teardown(() => watcher.close());
  const zones = await setUpZones(
    sitePath,
    { countIntervalMs: 1, eventsFile, mqtt: { url: broker.url, clientId: 'srv1', reconnectMs: 200 } },
    { log: () => undefined },
  );
  const server = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    zones: zones.tracker,
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  t.teardown(() => zones.close());
  await watcher.waitFor((m) => m.topic === 'crowdline/server/srv1/status' && m.payload === 'online', 'server online');

  // 0 people, then 50 from 2 s: smoothed >= 40 from 2 s -> warning at 3 s (1 s hold), alarm at 4 s (2 s hold).
  const rising: Array<[number, number]> = [[0, 1000], ...[2, 3, 4, 5, 6].map((s): [number, number] => [50, s * 1000])];
  await stream(port, rising);
  const warning = json(await watcher.waitFor(isAlert('warning'), 'warning'));
  const alarm = json(await watcher.waitFor(isAlert('alarm'), 'alarm'));
  t.like(warning, { camera: 'cam', zone: 'all', state: 'warning', previous: 'ok', time: new Date(3000).toISOString() });
  t.like(alarm, { state: 'alarm', previous: 'warning', time: new Date(4000).toISOString() });
  t.regex(String(alarm.rule), /^smoothed >= 40 for 2s/);
  const count = json(await watcher.waitFor((m) => m.topic === 'crowdline/cam/all/count' && json(m).people === 50, 'a count of 50'));
  t.like(count, { camera: 'cam', zone: 'all', people: 50 });
  t.true(typeof count.smoothed === 'number' && typeof count.occupancy === 'number');

  // A subscriber that arrives later gets the retained state at once.
  const late = await Subscriber.connect(broker.url, 'crowdline/#');
  const retainedAlert = await late.waitFor((m) => m.topic === 'crowdline/cam/all/alert', 'retained alert');
  t.true(retainedAlert.retain);
  t.is(json(retainedAlert).state, 'alarm');
  t.true((await late.waitFor((m) => m.topic === 'crowdline/cam/all/count', 'retained count')).retain);
  t.is((await late.waitFor((m) => m.topic === 'crowdline/server/srv1/status', 'retained status')).payload, 'online');
  await late.close();

  // Broker down: frames are still answered; alarm -> warning (at 8 s) and warning -> ok (at 10 s) are queued.
  await broker.stop();
  const falling: Array<[number, number]> = [7, 8, 9, 10, 11].map((s): [number, number] => [0, s * 1000]);
  const answered = await stream(port, falling);
  t.deepEqual(
    answered.map((r) => r.status),
    falling.map(() => FrameStatus.Ok),
  );

  await broker.start();
  const back = json(await watcher.waitFor(isAlert('ok'), 'queued warning -> ok after the restart', 15_000));
  t.like(back, { previous: 'warning', time: new Date(10_000).toISOString() });
  // QoS 1 is at-least-once: a message in flight when the broker went down may come twice; each event is unique by its payload.
  const live = watcher.received.filter((m) => m.topic === 'crowdline/cam/all/alert' && !m.retain).map((m) => m.payload);
  const liveAlerts = [...new Set(live)].map((p) => JSON.parse(p) as Record<string, unknown>).map((m) => [m.previous, m.state]);
  t.deepEqual(
    liveAlerts,
    [
      ['ok', 'warning'],
      ['warning', 'alarm'],
      ['alarm', 'warning'],
      ['warning', 'ok'],
    ],
    'every transition, in order',
  );

  // Clean shutdown says offline (retained), and flushes the JSON lines, which saw every transition even while the broker was away.
  await zones.close();
  const lines = readFileSync(eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(
    lines.filter((l) => l.type === 'alert').map((l) => [l.previous, l.state]),
    [
      ['ok', 'warning'],
      ['warning', 'alarm'],
      ['alarm', 'warning'],
      ['warning', 'ok'],
    ],
  );
  t.true(lines.some((l) => l.type === 'count' && l.people === 50));
  const after = await Subscriber.connect(broker.url, 'crowdline/server/+/status');
  t.is((await after.waitFor((m) => m.topic === 'crowdline/server/srv1/status', 'status')).payload, 'offline');
  await after.close();
});

test('MQTT: the Last Will says offline when the server vanishes without a goodbye', async (t) => {
  if (!haveMosquitto()) return t.fail('mosquitto is not installed (scripts/setup.sh installs it)');
  const { broker, sitePath } = await brokerAndSite(t);
  const watcher = await Subscriber.connect(broker.url, 'crowdline/server/+/status');
  t.teardown(() => watcher.close());
  // A server in a child process, killed with SIGKILL: only the broker can tell.
  const { spawn } = await import('node:child_process');
  const script = `import { setUpZones } from ${JSON.stringify(new URL('../src/app/zones-setup.js', import.meta.url).href)};
await setUpZones(${JSON.stringify(sitePath)}, { mqtt: { url: ${JSON.stringify(broker.url)}, clientId: 'srv-will' } }, { log: () => {} });
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  // The child loads the zone and MQTT code first: seconds on a loaded machine, so the guard is long.
  await watcher.waitFor((m) => m.topic === 'crowdline/server/srv-will/status' && m.payload === 'online', 'online', 60_000);
  child.kill('SIGKILL');
  // Mosquitto notices the dead TCP connection at once (RST) and publishes the will.
  await watcher.waitFor((m) => m.topic === 'crowdline/server/srv-will/status' && m.payload === 'offline', 'offline from the Last Will');
  t.pass();
});

test('MQTT: with the broker away, alert events wait in a bounded queue (oldest dropped, counted) and go out in order when it comes', async (t) => {
  if (!haveMosquitto()) return t.fail('mosquitto is not installed');
  const dir = tempDir();
  const broker = new Mosquitto(await freePort(), dir);
  t.teardown(() => broker.dispose());
  const dropped: string[] = [];
  const logs: string[] = [];
  const sink = new MqttSink({
    url: broker.url,
    topicPrefix: 'crowdline',
    clientId: 'srv-queue',
    maxQueuedAlerts: 3,
    reconnectMs: 100,
    log: (line) => logs.push(line),
    counters: { published: () => undefined, dropped: (s, kind, reason) => dropped.push(`${s}/${kind}/${reason}`) },
  });
  t.teardown(() => sink.close());
  const alert = (i: number): AlertPayload => ({
    camera: 'cam',
    zone: `z${i}`,
    state: 'alarm',
    previous: 'ok',
    rule: 'r',
    metric: 'smoothed',
    value: i,
    time: new Date(i).toISOString(),
    clock: 'capture',
  });
  for (let i = 1; i <= 5; i++) sink.alert(alert(i));
  sink.count({ camera: 'cam', zone: 'z1', people: 1, smoothed: 1, occupancy: null, state: 'ok', time: new Date(0).toISOString() });
  t.is(sink.queuedAlerts, 3);
  await new Promise((r) => setTimeout(r, 500)); // a few refused reconnects
  t.is(logs.filter((l) => /retrying every 100 ms/.test(l)).length, 1, `one line per outage: ${logs.join(' | ')}`);
  t.deepEqual(dropped, ['mqtt/alert/queue-full', 'mqtt/alert/queue-full', 'mqtt/count/broker-away']);
  await broker.start();
  const watcher = await Subscriber.connect(broker.url, 'crowdline/cam/+/alert');
  t.teardown(() => watcher.close());
  for (const i of [3, 4, 5]) await watcher.waitFor((m) => m.topic === `crowdline/cam/z${i}/alert`, `alert z${i}`);
  t.deepEqual(watcher.received.map((m) => json(m).zone).sort(), ['z3', 'z4', 'z5'], 'the two oldest were dropped');
  t.is(sink.queuedAlerts, 0);
  t.true(logs.some((l) => /connected to mqtt:/.test(l)));
});
