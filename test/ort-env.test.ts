/** ONNX Runtime's process-wide defaults: its telemetry store stays off unless the operator asks for it. */
import test from 'ava';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServeProcess, waitForLog } from './helpers/cli.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

/** Where onnxruntime-node 1.30 keeps its telemetry queue and device id, under the process's HOME. */
const telemetryStore = (home: string): string => path.join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

/**
 * ONNX Runtime turns its telemetry off by itself when it sees one of these
 * (CI=true, GITHUB_ACTIONS, ...: the names are in libonnxruntime.so.1), so on
 * a CI runner it would keep no store whatever crowdline did. The servers here
 * run without them, as on a production host, so the tests mean the same in CI.
 */
const CI_MARKERS = [
  'CI',
  'TF_BUILD',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
];

/** `crowdline serve` with HOME set to a fresh folder; resolves once both workers have their sessions. */
async function serveWithHome(t: import('ava').ExecutionContext, extraEnv: NodeJS.ProcessEnv): Promise<string> {
  const home = path.join(tempDir(), 'home');
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('CROWDLINE_') && k !== 'ORT_DISABLE_TELEMETRY' && k !== 'XDG_CACHE_HOME' && !CI_MARKERS.includes(k),
    ),
  );
  const model = knownAnswerModel();
  const server = await startServeProcess(['--port', '0', '--model', model.onnxPath, '--device', 'cpu', '--workers', '2', '--intra-op-threads', '1'], {
    env: { ...env, HOME: home, ...extraEnv },
  });
  t.teardown(() => server.child.kill('SIGKILL'));
  await waitForLog(server.log, /"event":"worker-ready"/, 2, 30_000);
  return home;
}

/** Polls for a path; false if it has not appeared within the time given. */
async function appears(file: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

test("telemetry: crowdline serve creates no store in HOME; with the operator's ORT_DISABLE_TELEMETRY=0 ONNX Runtime keeps its store", async (t) => {
  // Both servers start together. The store of the one the operator opted in
  // shows that ONNX Runtime has had time to write; only then is the default
  // server's HOME checked, so the check cannot pass just by being early.
  const [defaultHome, optedInHome] = await Promise.all([serveWithHome(t, {}), serveWithHome(t, { ORT_DISABLE_TELEMETRY: '0' })]);
  t.true(await appears(path.join(telemetryStore(optedInHome), 'deviceid'), 20_000), 'the opted-in server never wrote its telemetry store');
  t.false(existsSync(telemetryStore(defaultHome)), `${telemetryStore(defaultHome)} was created`);
  t.false(existsSync(path.join(defaultHome, '.cache', 'Microsoft')));
});
