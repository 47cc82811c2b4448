/** `crowdline serve` history options: the database under --history-dir, --history off, bad values refused, the default directory. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { ClientSideParser, DensityFormat, encodeFrame, encodeHello, PROTOCOL_VERSION } from '../src/framing/index.js';
import { defaultHistoryDir } from '../src/app/history-setup.js';
import { runCli, startServeProcess, waitForLog } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const SITE = `
cameras:
  gate:
    width: 64
    height: 48
    zones:
      - name: left
        polygon: [[0, 0], [32, 0], [32, 48], [0, 48]]
`;

function serveArgs(dir: string, ...extra: string[]): string[] {
  const site = path.join(dir, 'site.yaml');
  writeFileSync(site, SITE);
  return ['--model', knownAnswerModel().onnxPath, '--port', '0', '--device', 'cpu', '--workers', '1', '--intra-op-threads', '1', '--site', site, ...extra];
}

test.serial('serve --site --history-dir: frames answered become rows, written when the server stops', async (t) => {
  const dir = tempDir('crowdline-history-cli-');
  const historyDir = path.join(dir, 'history');
  const { child, port, log } = await startServeProcess(serveArgs(dir, '--history-dir', historyDir));
  t.teardown(() => child.kill('SIGKILL'));
  t.regex(log(), new RegExp(`history: ${historyDir.replace(/[/.]/g, '\\$&')}/history\\.db \\(seconds for 48 h, minutes for 30 days, at most 2048 MiB\\)`));
  const socket = net.connect({ port, host: '127.0.0.1' });
  t.teardown(() => socket.destroy());
  const parser = new ClientSideParser();
  let results = 0;
  const answered = new Promise<void>((resolve) =>
    socket.on('data', (c: Buffer) => {
      for (const m of parser.push(c)) if (m.type === 'result' && ++results === 3) resolve();
    }),
  );
  socket.write(encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.None, countOnly: true, window: 4, cameraName: 'gate' }));
  const now = Date.now();
  for (let seq = 1; seq <= 3; seq++) socket.write(encodeFrame({ seq, captureTimeMs: now + seq * 100, jpeg: blockPatternJpeg(64, 48, 8) }));
  await answered;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  const db = new Database(path.join(historyDir, 'history.db'), { readonly: true });
  t.teardown(() => db.close());
  const rows = db.prepare('SELECT s.camera, s.zone, sum(f.frames) AS frames FROM fine f JOIN series s ON s.id = f.series GROUP BY f.series').all();
  t.deepEqual(rows, [{ camera: 'gate', zone: 'left', frames: 3 }]);
});

test.serial('serve --history off: no database, no history line', async (t) => {
  const dir = tempDir('crowdline-history-cli-');
  const historyDir = path.join(dir, 'history');
  const { child, log } = await startServeProcess(serveArgs(dir, '--history-dir', historyDir, '--history', 'off'));
  t.teardown(() => child.kill('SIGKILL'));
  await waitForLog(log, /crowdline serving/);
  t.false(existsSync(historyDir));
  t.notRegex(log(), /history:/);
});

for (const [flags, message] of [
  [['--history-fine-hours', '0'], /--history-fine-hours must be a number > 0, got 0/],
  [['--history-days', '1', '--history-fine-hours', '48'], /--history-fine-hours \(48\) must not exceed --history-days \(1\) x 24/],
  [['--history-max-mb', '0.5'], /--history-max-mb must be at least 1, got 0\.5/],
  [['--history', 'maybe'], /Invalid values:\s+Argument: history, Given: "maybe", Choices: "on", "off"/],
] as const) {
  test.serial(`serve ${flags.join(' ')} is a usage error`, async (t) => {
    const run = await runCli(['serve', '--port', '0', ...flags]);
    t.is(run.code, 2);
    t.regex(run.stderr, message);
  });
}

test.serial('a history directory that cannot be made fails the start with its name', async (t) => {
  const dir = tempDir('crowdline-history-cli-');
  const blocker = path.join(dir, 'a-file');
  writeFileSync(blocker, 'not a directory');
  const run = await runCli(['serve', ...serveArgs(dir, '--history-dir', path.join(blocker, 'history'))], { timeoutMs: 60_000 });
  t.not(run.code, 0);
  t.regex(run.stderr, /--history-dir .*a-file\/history: .*\(--history off runs without history\)/);
  t.deepEqual(readdirSync(dir).sort(), ['a-file', 'site.yaml']);
});

test('the default history directory: systemd StateDirectory, else XDG_STATE_HOME, else ~/.local/state', (t) => {
  t.is(defaultHistoryDir({ STATE_DIRECTORY: '/var/lib/crowdline:/var/lib/other', XDG_STATE_HOME: '/x' }), '/var/lib/crowdline/history');
  t.is(defaultHistoryDir({ XDG_STATE_HOME: '/home/op/.state' }), '/home/op/.state/crowdline/history');
  t.is(defaultHistoryDir({ XDG_STATE_HOME: 'relative/ignored' }), path.join(os.homedir(), '.local', 'state', 'crowdline', 'history'));
  t.is(defaultHistoryDir({}), path.join(os.homedir(), '.local', 'state', 'crowdline', 'history'));
});
