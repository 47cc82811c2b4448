import type { Argv, CommandModule } from 'yargs';
import { createLogger } from '../src/log/logger.js';
import { UsageError } from '../src/common/usage-error.js';
import { checkPort, toStartOptions, withServerOptions, type ServerArgv } from './server-options.js';
import { withConfigSources } from './config-sources.js';
import { printSettings } from './dry-run.js';

interface ServeArgv extends ServerArgv {
  host: string;
  port: number;
  'drain-delay-ms': number;
  'dry-run': boolean;
  config?: string;
}

/** Longer than HAProxy's check interval x fall count in deploy/haproxy (1 s x 2) and a Kubernetes readiness period (2 s x 1). */
export const DEFAULT_DRAIN_DELAY_MS = 5_000;

export const serveCommand: CommandModule<object, ServeArgv> = {
  command: 'serve',
  describe: 'Run the crowd-density server (crowdline protocol v1 and the legacy protocol on one port)',
  // withConfigSources comes last: every option declared before it is also settable as CROWDLINE_* and in --config.
  builder: (yargs: Argv) =>
    withConfigSources(
      withServerOptions(yargs)
        .option('host', { type: 'string', default: '0.0.0.0', describe: 'address to listen on' })
        .option('port', { type: 'number', default: 7878, describe: 'port to listen on (0: any free port)' })
        .option('drain-delay-ms', {
          type: 'number',
          default: DEFAULT_DRAIN_DELAY_MS,
          describe:
            'on SIGTERM, /readyz says 503 at once; keep accepting this long so a load balancer notices, then stop accepting and finish (0: at once; no delay without --metrics-port)',
          group: 'Limits:',
        })
        .check((argv) => {
          checkPort('port', argv.port);
          const delay = argv['drain-delay-ms'];
          if (!(Number.isInteger(delay) && delay >= 0)) throw new UsageError(`--drain-delay-ms must be a whole number >= 0, got ${String(delay)}`);
          return true;
        }),
    )
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'check the flags, environment, config file and model files, print the settings in effect (as a config file) and exit without serving',
        group: 'Configuration:',
      })
      .example('$0 serve --port 7878 --device cuda --max-batch 8', 'GPU box, batching across cameras')
      .example('$0 serve --overload drop-oldest', 'live cameras: prefer fresh frames to a backlog')
      .example('$0 serve --auth creds.yaml --tls-cert cert.pem --tls-key key.pem', 'hardened: tokens and TLS (docs/security.md)')
      .example(
        'CROWDLINE_PORT=7879 $0 serve --config /etc/crowdline/server.yaml',
        'settings from a file, one overridden by the environment (docs/operations.md)',
      ) as unknown as Argv<ServeArgv>,
  handler: async (argv) => {
    if (argv['dry-run']) {
      await printSettings(argv, toStartOptions(argv, argv.host, argv.port), process.stdout);
      return;
    }
    const { log } = createLogger({ format: argv['log-format'], level: argv['log-level'] });
    // Loaded here, not at the top: the server (ONNX Runtime, the worker pool, SQLite) is most of the CLI's start-up
    // time, and every other command, --help and a usage error would pay for it.
    const { startServer } = await import('../src/app/start-server.js');
    const running = await startServer({ ...toStartOptions(argv, argv.host, argv.port), log });
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log(`${signal} again: exiting now`, { level: 'warn', event: 'signal', signal });
        process.exit(1);
      }
      stopping = true;
      // SIGTERM (an orchestrator, a rolling restart) drains for the balancer; SIGINT (a person at a terminal) does not wait.
      const delayMs = signal === 'SIGTERM' ? argv['drain-delay-ms'] : 0;
      running
        .drain(delayMs, () => log(`${signal}: no new connections; finishing frames in flight`, { event: 'signal', signal }))
        .then(
          () => {
            log('stopped', { event: 'stopped' });
            process.exit(0);
          },
          (err: Error) => {
            log(`shutdown failed: ${err.message}`, { level: 'error', event: 'stopped' });
            process.exit(1);
          },
        );
    };
    // SIGHUP: new credentials and certificates for new connections (open ones carry on), and the site file's zones.
    process.on('SIGHUP', () => {
      running.reload().then(
        (what) => log(`SIGHUP: ${what}`, { event: 'reload' }),
        (err: Error) => log(`SIGHUP: reload failed, keeping the previous settings: ${err.message}`, { level: 'error', event: 'reload' }),
      );
    });
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  },
};
