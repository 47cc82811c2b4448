/**
 * Prints an HAProxy config for N crowdline servers from deploy/haproxy's template:
 *   node dist/bench/haproxy-config.js --bind 0.0.0.0:7878 --server gpu1=10.0.0.11:7878:9464 --server gpu2=10.0.0.12:7878:9464
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { renderHaproxyConfig, type Backend } from './haproxy.js';

const argv = yargs(hideBin(process.argv))
  .option('bind', { type: 'string', default: '0.0.0.0:7878', describe: 'where cameras connect' })
  .option('stats-bind', { type: 'string', default: '127.0.0.1:8404', describe: "HAProxy's stats page" })
  .option('server', { type: 'string', array: true, demandOption: true, describe: 'NAME=HOST:PORT:METRICS_PORT, once per crowdline server' })
  .strict()
  .parseSync();

function parseBackend(text: string): Backend {
  const m = /^([^=]+)=(.+):(\d+):(\d+)$/.exec(text);
  if (!m) throw new Error(`--server ${text}: expected NAME=HOST:PORT:METRICS_PORT`);
  return { name: m[1], host: m[2], port: Number(m[3]), metricsPort: Number(m[4]) };
}

process.stdout.write(renderHaproxyConfig({ bind: argv.bind, statsBind: argv['stats-bind'], backends: argv.server.map(parseBackend) }));
