/** ONNX Runtime's process-wide defaults: its telemetry store stays off unless the operator asks for it. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CLI } from './helpers/cli.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

/** Where onnxruntime-node 1.30 keeps its telemetry queue and device id, under the process's HOME. */
const telemetryStore = (home: string): string => path.join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

/** `crowdline serve` with HOME set to a fresh folder; resolves once both workers have their sessions. */
async function serveWithHome(t: import('ava').ExecutionContext, extraEnv: NodeJS.ProcessEnv): Promise<string> {
  const home = path.join(tempDir(), 'home');
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDLINE_') && k !== 'ORT_DISABLE_TELEMETRY' && k !== 'XDG_CACHE_HOME'),
  );
  const model = knownAnswerModel();
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--model', model.onnxPath, '--device', 'cpu', '--workers', '2', '--intra-op-threads', '1'], {
    env: { ...env, HOME: home, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 30_000;
  while ((log.match(/"event":"worker-ready"/g)?.length ?? 0) < 2 || !/serving/.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return home;
}

test('crowdline serve leaves ONNX Runtime telemetry off: no telemetry store is created in HOME', async (t) => {
  const home = await serveWithHome(t, {});
  t.false(existsSync(telemetryStore(home)), `${telemetryStore(home)} was created`);
  t.false(existsSync(path.join(home, '.cache', 'Microsoft')));
});

test("an operator's own ORT_DISABLE_TELEMETRY wins: set to 0, ONNX Runtime keeps its store as it would without crowdline", async (t) => {
  // Also shows that the check above can fail: this is the store it looks for.
  const home = await serveWithHome(t, { ORT_DISABLE_TELEMETRY: '0' });
  t.true(existsSync(path.join(telemetryStore(home), 'deviceid')));
});
