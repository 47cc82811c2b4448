/**
 * `serve --dry-run` reads every file an option names through the start's own
 * code (src/app/server-files.ts): a file that would fail the start fails the
 * dry run, with the same message and the same exit status (2, a
 * configuration error: systemd does not restart into it).
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { readServerFiles, type ServerFileOptions } from '../src/app/server-files.js';
import { UsageError } from '../src/common/usage-error.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server.js';

const dir = tempDir('crowdline-serve-files-');
const goodSite = path.join(dir, 'site.yaml');
writeFileSync(goodSite, 'cameras:\n  gate:\n    zones:\n      - name: left\n        polygon: [[0, 0], [10, 0], [10, 10]]\n');
const badSite = path.join(dir, 'bad-site.yaml');
writeFileSync(badSite, 'cameras:\n  gate:\n    zones:\n      - name: left\n        polygon: [[0, 0], [10, 0]]\n');
const notPem = path.join(dir, 'not.pem');
writeFileSync(notPem, 'not a certificate\n');

const cases: Array<[string, ServerFileOptions, RegExp]> = [
  ['a missing site file', { sitePath: '/no/such/site.yaml' }, /^--site \/no\/such\/site\.yaml: .*ENOENT/],
  ['a site file with an error', { sitePath: badSite }, /^--site \S+bad-site\.yaml: camera "gate", zone "left", field polygon: /],
  ['a missing credentials file', { security: { authFile: '/no/such/credentials.yaml' } }, /^--auth \/no\/such\/credentials\.yaml: cannot read it \(ENOENT\)/],
  ['a missing TLS key', { security: { tls: { cert: notPem, key: '/no/such/key.pem' } } }, /^--tls-key \/no\/such\/key\.pem: cannot read it \(ENOENT\)/],
  ['a certificate that is not one', { security: { tls: { cert: notPem, key: notPem } } }, /^--tls-cert \S+not\.pem: TLS certificate .* \/ key .*: /],
  [
    'a missing MQTT password file',
    { sitePath: goodSite, zoneEvents: { mqtt: { passwordFile: '/no/such/password' } } },
    /^--mqtt-password-file \/no\/such\/password: cannot read it \(ENOENT\)/,
  ],
  [
    'a missing MQTT CA',
    { sitePath: goodSite, zoneEvents: { mqtt: { caFile: '/no/such/ca.pem' } } },
    /^--mqtt-ca \/no\/such\/ca\.pem: cannot read it \(ENOENT\)/,
  ],
  [
    'an events file in a missing folder',
    { sitePath: goodSite, zoneEvents: { eventsFile: '/no/such/dir/events.jsonl' } },
    /^--events-file \/no\/such\/dir\/events\.jsonl: cannot create it in \/no\/such\/dir \(ENOENT\)/,
  ],
];

for (const [what, options, message] of cases) {
  test(`server files: ${what} is a configuration error naming the option and file`, async (t) => {
    await t.throwsAsync(readServerFiles(options), { instanceOf: UsageError, message });
  });
}

// The command line, dry run and real start side by side (serially: each is a process start).
for (const [what, args] of [
  ['a missing site file', ['--site', '/no/such/site.yaml']],
  ['a missing credentials file', ['--auth', '/no/such/credentials.yaml']],
] as const) {
  test.serial(`serve with ${what}: the dry run fails exactly as the start does`, async (t) => {
    const start = await runCli(['serve', '--host', '127.0.0.1', '--port', '0', ...args], { timeoutMs: 60_000 });
    const dry = await runCli(['serve', '--host', '127.0.0.1', '--port', '0', ...args, '--dry-run'], { timeoutMs: 60_000 });
    t.is(start.code, 2, start.stderr);
    t.regex(start.stderr, new RegExp(`^crowdline: --${args[0].slice(2)} ${args[1]}: `));
    t.is(dry.code, 2, dry.stderr);
    t.is(dry.stderr, start.stderr);
    t.is(dry.stdout, '', 'no settings printed');
  });
}

test.serial('serve --dry-run with good files passes, and creates nothing', async (t) => {
  const events = path.join(dir, 'events.jsonl');
  const run = await runCli(['serve', '--site', goodSite, '--events-file', events, '--dry-run'], { timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^site: \S+site\.yaml {2}# command line$/m);
  t.false(existsSync(events));
});
