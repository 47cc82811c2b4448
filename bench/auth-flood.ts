/**
 * What a flood of HELLOs that reset at once costs a `crowdline serve --auth`
 * (child process, default model, CPU), issue 27: one address opens
 * connections, sends a HELLO with a wrong token and resets each right after;
 * meanwhile a valid camera from another address connects every 500 ms, each
 * time with a token not yet verified (so each pays its own check), and we
 * time its WELCOME. Afterwards: token checks still finishing (refusals
 * counted after the flood stopped) and the server's CPU seconds in the 5 s
 * after it.
 *
 *   node dist/bench/auth-flood.js [--seconds 8] [--parallel 50]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { V1Connection } from '../client/connection/connection.js';
import { hashSecret, newToken } from '../src/auth/token.js';
import { encodeHello } from '../src/framing/index.js';
import { scrape, type Samples } from './scrape.js';
import { CPU_BENCH_SERVER, startChildServer } from './server-process.js';
import { summarize } from './stats.js';

const argv = yargs(hideBin(process.argv))
  .option('seconds', { type: 'number', default: 8, describe: 'how long the flood runs' })
  .option('parallel', { type: 'number', default: 50, describe: 'flood connections in flight at once' })
  .option('cameras', { type: 'number', default: 12, describe: 'valid identities (one fresh token per camera connect)' })
  .option('server-args', { type: 'string', default: '', describe: 'more `crowdline serve` arguments, space-separated' })
  .strict()
  .parseSync();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const get = (s: Samples, key: string): number => s.get(key) ?? 0;

const dir = mkdtempSync(path.join(os.tmpdir(), 'crowdline-auth-flood-'));
const tokens = Array.from({ length: argv.cameras }, () => newToken());
const entries = await Promise.all(tokens.map(async (t, i) => `  - name: cam${i}\n    key: "${t.keyId}"\n    hash: "${await hashSecret(t.secret)}"\n`));
const credentials = path.join(dir, 'credentials.yaml');
writeFileSync(credentials, `clients:\n${entries.join('')}`, { mode: 0o600 });

const server = await startChildServer({
  ...CPU_BENCH_SERVER,
  extraArgs: ['--auth', credentials, ...argv['server-args'].split(' ').filter(Boolean)],
});

let stopFlood = false;
let hellos = 0;
/** One flood connection: HELLO with a wrong token, then a reset a moment later (long enough for the server to read it). */
function floodOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: server.host, port: server.port, localAddress: '127.0.0.2' });
    socket.on('error', () => resolve());
    socket.once('connect', () => {
      socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: true, window: 1, cameraName: 'flood', token: newToken().token }));
      hellos++;
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, 2);
    });
  });
}
const flood = Promise.all(
  Array.from({ length: argv.parallel }, async () => {
    while (!stopFlood) await floodOne();
  }),
);

const welcomeMs: number[] = [];
let refused = 0;
const cameraLoop = (async () => {
  await sleep(1000); // the flood is under way
  for (let i = 0; i < tokens.length && !stopFlood; i++) {
    const t0 = performance.now();
    try {
      const conn = await V1Connection.connect({
        host: server.host,
        port: server.port,
        cameraName: `cam${i}`,
        token: tokens[i].token,
        localAddress: '127.0.0.3',
        connectTimeoutMs: 60_000,
      });
      welcomeMs.push(performance.now() - t0);
      conn.destroy();
    } catch {
      refused++;
    }
    await sleep(500);
  }
})();

await sleep(argv.seconds * 1000);
stopFlood = true;
await Promise.all([flood, cameraLoop]);
const atStop = await scrape(server.metricsUrl);
await sleep(5000);
const after = await scrape(server.metricsUrl);
await server.stop();

const badTokens = get(atStop, 'crowdline_auth_refusals_total{cause="bad-token"}');
const lateChecks = get(after, 'crowdline_auth_refusals_total{cause="bad-token"}') - badTokens;
const busy = get(after, 'crowdline_auth_refusals_total{cause="checks-per-ip"}');
const cpuAfter = get(after, 'process_cpu_seconds_total') - get(atStop, 'process_cpu_seconds_total');
const w = summarize(welcomeMs);
console.log(`flood: ${hellos} HELLOs in ${argv.seconds} s from one address, ${argv.parallel} in flight; server args: --auth ${argv['server-args']}`);
console.log(
  '| valid camera WELCOME p50 / max (ms) | camera connects refused | checks run during flood (bad-token) | refused busy | checks run in the 5 s after | server CPU s in the 5 s after |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(
  `| ${w.p50.toFixed(0)} / ${w.max.toFixed(0)} (${welcomeMs.length} connects) | ${refused} | ${badTokens} | ${busy} | ${lateChecks} | ${cpuAfter.toFixed(2)} |`,
);
