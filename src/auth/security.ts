/**
 * Puts the security options together for one server: credentials, TLS and
 * the legacy policy become a ConnectionGate and a socket router; reload()
 * re-reads credentials and certificates (SIGHUP) without touching open
 * connections.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { ConnectionGate } from '../accept/gate.js';
import { TlsFront, type TlsFiles } from '../tls/tls-front.js';
import { Credentials } from './credentials.js';
import { AuthGate } from './gate.js';
import type { LegacyPolicy } from './legacy-policy.js';

export interface SecurityOptions {
  /** Credentials file (YAML or JSON) with hashed tokens. */
  authFile?: string;
  tls?: TlsFiles;
  /** Default: allowed when neither auth nor TLS is on, refused otherwise. */
  legacy?: LegacyPolicy;
}

export interface Security {
  gate?: ConnectionGate;
  route?: (socket: net.Socket, adopt: (stream: net.Socket) => void) => void;
  authRequired: boolean;
  tls: boolean;
  legacy: LegacyPolicy;
  /** Re-reads the credentials file and the TLS files; returns what it did. Keeps the old ones if the new are bad. */
  reload(): Promise<string>;
}

/** `loaded`: the files' contents, read at start by src/app/server-files.ts (reload() reads them again itself). */
export function setUpSecurity(
  options: SecurityOptions,
  loaded: { credentials?: Credentials; tls?: tls.SecureContextOptions },
  context: { handshakeTimeoutMs: number; log(line: string): void; onRefused?(cause: string): void; adopt(socket: net.Socket): void },
): Security {
  // Never serve without the protection asked for because a file was not handed over.
  if ((options.tls && !loaded.tls) || (options.authFile && !loaded.credentials))
    throw new Error('setUpSecurity: the credentials/TLS files were not read (readSecurityFiles)');
  const credentials = loaded.credentials;
  const front =
    options.tls && loaded.tls
      ? TlsFront.start({
          files: options.tls,
          secure: loaded.tls,
          handshakeTimeoutMs: context.handshakeTimeoutMs,
          onSecure: (s) => context.adopt(s),
          log: context.log,
        })
      : undefined;
  const authRequired = credentials !== undefined || options.tls?.clientCa !== undefined;
  const legacy: LegacyPolicy = options.legacy ?? (authRequired || front ? { kind: 'deny' } : { kind: 'allow' });
  const anything = authRequired || front !== undefined || legacy.kind !== 'allow';
  const gate = anything
    ? new AuthGate({
        credentials,
        clientCertificates: options.tls?.clientCa !== undefined,
        tlsRequired: front !== undefined,
        legacy,
        onRefused: context.onRefused,
      })
    : undefined;
  return {
    gate,
    route: front && ((socket, adopt) => front.route(socket, adopt)),
    authRequired,
    tls: front !== undefined,
    legacy,
    async reload() {
      const done: string[] = [];
      if (options.authFile && gate) {
        const next = await Credentials.load(options.authFile);
        gate.setCredentials(next);
        done.push(`credentials reloaded (${next.size} client(s))`);
      }
      if (front) {
        await front.reload();
        done.push('TLS certificate reloaded');
      }
      return done.length > 0 ? done.join('; ') : 'nothing to reload';
    },
  };
}
