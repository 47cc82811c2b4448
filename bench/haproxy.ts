/**
 * HAProxy in front of crowdline servers: renders deploy/haproxy's template
 * and runs Debian's haproxy in the foreground (the scale-out test and bench).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/app/paths.js';

export const HAPROXY_TEMPLATE = path.join(PACKAGE_ROOT, 'deploy', 'haproxy', 'haproxy.cfg.template');

export interface Backend {
  name: string;
  host: string;
  /** crowdline's TCP port (--port). */
  port: number;
  /** Its metrics port (--metrics-port): HAProxy checks /readyz there. */
  metricsPort: number;
}

export interface HaproxyConfig {
  /** Where cameras connect, e.g. "0.0.0.0:7878" or "127.0.0.1:40001". */
  bind: string;
  /** HAProxy's own stats page; keep it on a local address. */
  statsBind: string;
  backends: Backend[];
}

/** The template with the placeholders filled; refuses names HAProxy would misread. */
export function renderHaproxyConfig(config: HaproxyConfig, template = fs.readFileSync(HAPROXY_TEMPLATE, 'utf8')): string {
  if (config.backends.length === 0) throw new Error('HAProxy needs at least one crowdline server');
  const servers = config.backends.map((b) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(b.name)) throw new Error(`server name ${JSON.stringify(b.name)}: letters, digits, _ . - only`);
    return `    server ${b.name} ${b.host}:${b.port} check port ${b.metricsPort}`;
  });
  return template.replaceAll('{{bind}}', config.bind).replaceAll('{{stats_bind}}', config.statsBind).replaceAll('{{servers}}', servers.join('\n'));
}

export interface RunningHaproxy {
  configFile: string;
  /** Its log so far (stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** `haproxy -c`, then `haproxy -db`; resolves once `listenPort` accepts connections. */
export async function startHaproxy(configText: string, listenPort: number, timeoutMs = 20_000): Promise<RunningHaproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crowdline-haproxy-'));
  const configFile = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(configFile, configText);
  const check = spawnSync('haproxy', ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.error) throw new Error(`cannot run haproxy (scripts/setup.sh installs it): ${check.error.message}`);
  if (check.status !== 0) throw new Error(`haproxy -c refused ${configFile}:\n${check.stdout}${check.stderr}`);
  const child = spawn('haproxy', ['-db', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (log += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(listenPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not listen on ${listenPort}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { configFile, log: () => log, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls HAProxy's CSV stats until every backend server's status is `status` (e.g. "UP"). */
export async function waitForServers(statsPort: number, status: string, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await serverStates(statsPort).catch(() => new Map<string, string>());
    if (names.every((n) => states.get(n)?.startsWith(status))) return;
    if (Date.now() > deadline) throw new Error(`HAProxy servers not ${status}: ${JSON.stringify([...states])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** server name -> status ("UP", "DOWN", "UP 1/2"...), from the stats page's CSV export. */
export async function serverStates(statsPort: number): Promise<Map<string, string>> {
  const res = await fetch(`http://127.0.0.1:${statsPort}/;csv`, { signal: AbortSignal.timeout(2_000) });
  const [header, ...rows] = (await res.text()).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const [pxname, svname, statusColumn] = ['pxname', 'svname', 'status'].map((c) => columns.indexOf(c));
  const states = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[pxname] === 'crowdline_servers' && !['FRONTEND', 'BACKEND'].includes(cells[svname])) states.set(cells[svname], cells[statusColumn]);
  }
  return states;
}
