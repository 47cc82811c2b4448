import type { Argv, CommandModule } from 'yargs';
import { startServer } from '../app/start-server.js';
import { toStartOptions, withServerOptions, type ServerArgv } from './server-options.js';

interface ServeArgv extends ServerArgv {
  host: string;
  port: number;
}

export const serveCommand: CommandModule<object, ServeArgv> = {
  command: 'serve',
  describe: 'Run the crowd-density server (crowdline protocol v1 and the legacy protocol on one port)',
  builder: (yargs: Argv) =>
    withServerOptions(yargs)
      .option('host', { type: 'string', default: '0.0.0.0', describe: 'address to listen on' })
      .option('port', { type: 'number', default: 7878 })
      .example('$0 serve --port 7878 --device cuda --max-batch 8', 'GPU box, batching across cameras')
      .example('$0 serve --overload drop-oldest', 'live cameras: prefer fresh frames to a backlog')
      .example('$0 serve --auth creds.yaml --tls-cert cert.pem --tls-key key.pem', 'hardened: tokens and TLS (docs/security.md)') as unknown as Argv<ServeArgv>,
  handler: async (argv) => {
    const running = await startServer(toStartOptions(argv, argv.host, argv.port));
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`${signal}: no new connections; finishing frames in flight\n`);
      running.close().then(
        () => process.exit(0),
        (err: Error) => {
          process.stderr.write(`shutdown failed: ${err.message}\n`);
          process.exit(1);
        },
      );
    };
    // SIGHUP: new credentials and certificates for new connections; open ones carry on.
    process.on('SIGHUP', () => {
      running.reload().then(
        (what) => process.stderr.write(`SIGHUP: ${what}\n`),
        (err: Error) => process.stderr.write(`SIGHUP: reload failed, keeping the previous settings: ${err.message}\n`),
      );
    });
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  },
};
