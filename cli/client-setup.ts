/**
 * Command line + config file -> what the client runs. Every mistake here is
 * a UsageError naming the option or config key (exit 2, reported at once):
 * a bad port or URL is not a network fault to retry for ever.
 */
import { parseHostPort } from '../src/common/parse.js';
import { UsageError } from '../src/common/usage-error.js';
import type { ClientArgv } from './client-argv.js';
import { nameCameras, parseSourceArg, type CameraSpec } from '../client/config/cameras.js';
import { loadConfig, type ClientConfig } from '../client/config/config-file.js';
import type { RecordOptions } from '../client/run/options.js';
import type { ClientSecurity } from '../client/connection/connection.js';
import { clientSecurityFromArgv, type ClientSecurityArgv } from './client-security.js';

export interface ClientSetup {
  host: string;
  port: number;
  cameras: CameraSpec[];
  stallTimeoutMs: number;
  outDir?: string;
  record: RecordOptions;
  security: ClientSecurity;
}

export type SetupArgv = Pick<ClientArgv, 'source' | 'config' | 'server' | 'out' | 'record' | 'segment-seconds' | 'keep-segments' | 'stall-timeout'> &
  Partial<ClientSecurityArgv>;

const DEFAULT_SERVER = '127.0.0.1:7878';
const DEFAULT_STALL_TIMEOUT_S = 10;
const DEFAULT_SEGMENT_SECONDS = 600;

export function resolveClientSetup(argv: SetupArgv): ClientSetup {
  const config: ClientConfig | undefined = argv.config ? loadConfig(argv.config) : undefined;
  const fromArgs = argv.source.map((text) => ({ ...parseSourceArg(text), where: `--source ${text}` }));
  // Config cameras keep their names; command-line ones are checked against them.
  const cameras = nameCameras([...(config?.cameras ?? []).map((c) => ({ ...c, where: `--config ${argv.config}: camera "${c.name}"` })), ...fromArgs]);
  if (cameras.length === 0) throw new UsageError('--source: give at least one camera (or --config FILE with cameras)');
  const serverText = argv.server ?? config?.server ?? DEFAULT_SERVER;
  const { host, port } = parseServer(serverText, argv.server !== undefined ? '--server' : `--config ${argv.config}: server`);
  const recordFormat = argv.record ?? config?.record.format ?? 'avi';
  return {
    host,
    port,
    cameras,
    stallTimeoutMs: 1000 * (argv['stall-timeout'] ?? config?.stallTimeoutS ?? DEFAULT_STALL_TIMEOUT_S),
    outDir: argv.out ?? config?.out,
    record: {
      format: recordFormat,
      segmentSeconds: argv['segment-seconds'] ?? config?.record.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS,
      keepSegments: argv['keep-segments'] ?? config?.record.keepSegments ?? 0,
    },
    security: resolveSecurity(argv, config),
  };
}

/** Flags win over the config file's tls/auth keys; files are read now, so a missing one is a usage error. */
function resolveSecurity(argv: SetupArgv, config: ClientConfig | undefined): ClientSecurity {
  const fromConfig = config?.security;
  const tls = argv.tls || (argv.tls === undefined && fromConfig?.tls !== undefined);
  const merged: ClientSecurityArgv = {
    tls,
    ca: argv.ca ?? (tls ? fromConfig?.tls?.ca : undefined),
    cert: argv.cert ?? (tls ? fromConfig?.tls?.cert : undefined),
    key: argv.key ?? (tls ? fromConfig?.tls?.key : undefined),
    'token-file': argv['token-file'] ?? fromConfig?.tokenFile,
  };
  try {
    return clientSecurityFromArgv(merged);
  } catch (err) {
    throw new UsageError(`${argv.config && !argv.tls ? `--config ${argv.config}: ` : ''}${(err as Error).message}`);
  }
}

/** HOST[:PORT] with the port in range; `where` names the option in the error. */
export function parseServer(text: string, where: string): { host: string; port: number } {
  let parsed: { host: string; port: number };
  try {
    parsed = parseHostPort(text);
  } catch (err) {
    throw new UsageError(`${where} ${text}: ${(err as Error).message}`);
  }
  if (!(Number.isInteger(parsed.port) && parsed.port >= 1 && parsed.port <= 65535)) throw new UsageError(`${where} ${text}: port must be 1-65535`);
  return parsed;
}
