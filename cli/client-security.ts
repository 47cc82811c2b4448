/** Client-side security flags: a token (from a file or $CROWDLINE_TOKEN, never the command line) and TLS. */
import { readFileSync } from 'node:fs';
import type { Options } from 'yargs';
import type { ClientSecurity } from '../client/connection/connection.js';

export interface ClientSecurityArgv {
  tls: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  'token-file'?: string;
}

export function clientSecurityOptions(): Record<keyof ClientSecurityArgv, Options> {
  const group = 'Security:';
  return {
    tls: { type: 'boolean', default: false, describe: 'connect with TLS (the server runs with --tls-cert)', group },
    ca: { type: 'string', describe: 'with --tls: PEM CA that signed the server certificate (default: the system roots)', group },
    cert: { type: 'string', describe: 'with --tls: client certificate for mutual TLS (its CN is the identity)', group },
    key: { type: 'string', describe: 'with --cert: its private key', group },
    'token-file': { type: 'string', describe: 'file holding the token from `crowdline auth add` (or set CROWDLINE_TOKEN); never on the command line', group },
  };
}

export function clientSecurityFromArgv(argv: ClientSecurityArgv, env: NodeJS.ProcessEnv = process.env): ClientSecurity {
  const token = argv['token-file'] ? readFileSync(argv['token-file'], 'utf8').trim() : env.CROWDLINE_TOKEN?.trim() || undefined;
  if ((argv.cert === undefined) !== (argv.key === undefined)) throw new Error('--cert and --key go together');
  const wantsTls = argv.tls || argv.ca !== undefined || argv.cert !== undefined;
  if (wantsTls && !argv.tls) throw new Error('--ca, --cert and --key need --tls');
  const read = (file: string | undefined): Buffer | undefined => (file === undefined ? undefined : readFileSync(file));
  return { token, tls: argv.tls ? { ca: read(argv.ca), cert: read(argv.cert), key: read(argv.key) } : undefined };
}
