/** Server security options (docs/security.md): tokens, TLS, mTLS, the legacy policy. */
import type { Options } from 'yargs';
import { parseLegacyPolicy } from '../src/auth/legacy-policy.js';
import { DEFAULT_CHECK_SLOT_LIMITS } from '../src/auth/check-slots.js';
import type { SecurityOptions } from '../src/auth/security.js';

export interface SecurityArgv {
  auth?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-client-ca'?: string;
  legacy?: string[];
  'max-auth-checks': number;
  'max-auth-checks-per-ip': number;
}

export function withSecurityOptions(): Record<keyof SecurityArgv, Options> {
  const group = 'Security:';
  return {
    auth: {
      type: 'string',
      describe: 'credentials file (YAML or JSON) of client identities with hashed tokens; v1 clients must present one (see `crowdline auth add`)',
      group,
    },
    'tls-cert': { type: 'string', describe: 'PEM certificate (chain): v1 then only over TLS 1.2+, on the same port', group },
    'tls-key': { type: 'string', describe: 'PEM private key for --tls-cert', group },
    'tls-client-ca': {
      type: 'string',
      describe: 'mutual TLS: client certificates signed by this CA are identities (their CN), as an alternative to tokens',
      group,
    },
    legacy: {
      type: 'string',
      array: true,
      describe: 'legacy protocol (no auth, no encryption): allow | deny | allow-from CIDR,... (default: deny with --auth/--tls-*, else allow)',
      group,
    },
    'max-auth-checks': {
      type: 'number',
      default: DEFAULT_CHECK_SLOT_LIMITS.maxRunning,
      describe: 'token checks (scrypt, ~16 MiB each) running at once, taken in turn from each address that has one waiting',
      group,
    },
    'max-auth-checks-per-ip': {
      type: 'number',
      default: DEFAULT_CHECK_SLOT_LIMITS.maxPerAddress,
      describe:
        'token checks one address may have pending; beyond it a HELLO is answered "server full" (the client retries); tokens already verified cost none',
      group,
    },
  };
}

export function securityFromArgv(argv: SecurityArgv): SecurityOptions {
  const cert = argv['tls-cert'];
  const key = argv['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (argv['tls-client-ca'] !== undefined && cert === undefined) throw new Error('--tls-client-ca needs --tls-cert and --tls-key');
  return {
    authFile: argv.auth,
    tls: cert && key ? { cert, key, clientCa: argv['tls-client-ca'] } : undefined,
    legacy: argv.legacy ? parseLegacyPolicy(argv.legacy) : undefined,
    checkLimits: { maxRunning: argv['max-auth-checks'], maxPerAddress: argv['max-auth-checks-per-ip'] },
  };
}
