/**
 * deploy/systemd: the units pass `systemd-analyze verify` (with their
 * /opt/crowdline and /etc/crowdline paths pointed at this checkout), carry
 * the restart policy, user and hardening they promise, and their command
 * lines parse with the real CLI (--dry-run: settings checked, nothing started).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/app/paths.js';

const SYSTEMD = path.join(PACKAGE_ROOT, 'deploy', 'systemd');
const UNITS = ['crowdline.service', 'crowdline-client.service'];
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

/** The unit as installed here: node, the app and the example config files from this checkout. */
function localised(text: string): string {
  return text
    .replaceAll('/usr/bin/node', process.execPath)
    .replaceAll('/etc/crowdline/server.yaml', path.join(SYSTEMD, 'server.yaml'))
    .replaceAll('/etc/crowdline/cameras.yaml', path.join(SYSTEMD, 'cameras.yaml'))
    .replaceAll('/var/lib/crowdline-client', path.join(os.tmpdir(), 'crowdline-client-test'))
    .replaceAll('/opt/crowdline', PACKAGE_ROOT);
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDLINE_') && k !== 'DISPLAY'));
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function directives(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
}

if (!ANALYZE) console.warn('systemd-analyze not found (Debian: apt-get install systemd): the verify test is skipped');
(ANALYZE ? test : test.skip)('both units pass systemd-analyze verify', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crowdline-units-'));
  const files = UNITS.map((unit) => {
    const file = path.join(dir, unit);
    writeFileSync(file, localised(readFileSync(path.join(SYSTEMD, unit), 'utf8')));
    return file;
  });
  const result = await run(ANALYZE!, ['verify', ...files]);
  const ours = result.stderr.split('\n').filter((l) => /crowdline/.test(l));
  t.deepEqual(ours, [], 'no warning about our units (unknown keys, bad values, missing executables)');
  t.is(result.code, 0, result.stderr);
});

test('restart policy, a dedicated user and hardening are in both units', (t) => {
  for (const unit of UNITS) {
    const text = readFileSync(path.join(SYSTEMD, unit), 'utf8');
    t.deepEqual(directives(text, 'User'), ['crowdline'], `${unit}: dedicated user`);
    t.deepEqual(directives(text, 'Restart'), ['on-failure'], unit);
    t.deepEqual(directives(text, 'RestartPreventExitStatus'), ['2'], `${unit}: a config error (exit 2) is not retried`);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['SystemCallFilter', '@system-service'],
    ]) {
      t.deepEqual(directives(text, key), [value], `${unit}: ${key}=${value}`);
    }
    t.deepEqual(directives(text, 'MemoryDenyWriteExecute'), [], `${unit}: V8's JIT needs W+X memory`);
  }
  const sysusers = readFileSync(path.join(SYSTEMD, 'crowdline.sysusers'), 'utf8');
  t.regex(sysusers, /^u crowdline - /m, 'the user is created by systemd-sysusers');
});

test("the units' command lines parse with the real CLI (dry run: nothing is started)", async (t) => {
  const checked: string[] = [];
  for (const unit of UNITS) {
    const text = localised(readFileSync(path.join(SYSTEMD, unit), 'utf8'));
    const lines = [...directives(text, 'ExecStartPre'), ...directives(text, 'ExecStart')];
    t.is(lines.length, 2, `${unit}: a --dry-run check, then the service`);
    for (const line of lines) {
      const [file, ...args] = line.split(/\s+/);
      t.is(file, process.execPath);
      if (!args.includes('--dry-run')) args.push('--dry-run');
      const result = await run(file, args);
      t.is(result.code, 0, `${unit}: ${line}\n${result.stderr}`);
      t.notRegex(result.stderr, /serving|connecting/i);
      checked.push(args[1]);
      if (args[1] === 'serve') t.regex(result.stdout, /model crowdline-v1 OK/);
      else t.regex(result.stdout, /^server 127\.0\.0\.1:7878; 2 camera\(s\): entrance, hall; recording mp4/);
    }
  }
  t.deepEqual(checked.sort(), ['client', 'client', 'serve', 'serve']);
});

test('the example environment file names real settings', async (t) => {
  const example = readFileSync(path.join(SYSTEMD, 'crowdline.env.example'), 'utf8');
  const env = Object.fromEntries([...example.matchAll(/^#?(CROWDLINE_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  t.true(Object.keys(env).length >= 3);
  const result = await run(
    process.execPath,
    [path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'), 'serve', '--config', path.join(SYSTEMD, 'server.yaml'), '--dry-run'],
    env,
  );
  t.is(result.code, 0, result.stderr);
  for (const [name, value] of Object.entries(env)) {
    const flag = name.slice('CROWDLINE_'.length).toLowerCase().replace(/_/g, '-');
    t.regex(result.stdout, new RegExp(`^${flag}: ${value}  # ${name}$`, 'm'));
  }
});
