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
import { Credentials, type ClientEntry } from './credentials.js';
import type { CheckSlotLimits } from './check-slots.js';
import { AuthGate } from './gate.js';
import type { FailureThrottle } from './throttle.js';
import type { LegacyPolicy } from './legacy-policy.js';

export interface SecurityOptions {
  /** Credentials file (YAML or JSON) with hashed tokens. */
  authFile?: string;
  tls?: TlsFiles;
  /** Default: allowed when neither auth nor TLS is on, refused otherwise. */
  legacy?: LegacyPolicy;
  /** Token checks at once and pending per address (default DEFAULT_CHECK_SLOT_LIMITS). */
  checkLimits?: CheckSlotLimits;
}

export interface Security {
  gate?: ConnectionGate;
  route?: (socket: net.Socket, adopt: (stream: net.Socket) => void) => void;
  authRequired: boolean;
  tls: boolean;
  legacy: LegacyPolicy;
  /** Re-reads the credentials file and the TLS files; returns what it did. Keeps the old ones if the new are bad. */
  reload(): Promise<string>;
  /** With --auth: how the console signs people in (the same identities, cache and throttle as HELLO). */
  tokens?: TokenIdentities;
  /** The frames port's certificate files (the console serves HTTPS with the same). */
  tlsFiles?: TlsFiles;
}

/** The credentials as the console sees them. */
export interface TokenIdentities {
  /** The entry a token belongs to (any role), or undefined; costs one scrypt unless cached. */
  identify(token: string): Promise<ClientEntry | undefined>;
  /** The current entry of an identity (undefined once removed and reloaded). */
  entry(name: string): ClientEntry | undefined;
  /** Identities with the viewer or admin role and a token. */
  consoleIdentities(): number;
  /** Failed sign-ins slow down the address, as failed HELLOs do (one table for both doors). */
  readonly throttle: FailureThrottle;
}

/** `loaded`: the files' contents, read at start by src/app/server-files.ts (reload() reads them again itself). */
export function setUpSecurity(
  options: SecurityOptions,
  loaded: { credentials?: Credentials; tls?: tls.SecureContextOptions },
  context: { handshakeTimeoutMs: number; log: (line: string) => void; onRefused?: (cause: string) => void; adopt(socket: net.Socket): void },
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
        checkLimits: options.checkLimits,
        onRefused: context.onRefused,
      })
    : undefined;
  let current = credentials;
  const authGate = gate;
  const tokens: TokenIdentities | undefined =
    credentials && authGate
      ? {
          identify: (token) => authGate.tokenIdentity(token),
          entry: (name) => authGate.identity(name),
          consoleIdentities: () => current?.consoleIdentities ?? 0,
          throttle: authGate.failures,
        }
      : undefined;
  return {
    gate,
    tokens,
    tlsFiles: options.tls,
    route: front && ((socket, adopt) => front.route(socket, adopt)),
    authRequired,
    tls: front !== undefined,
    legacy,
    async reload() {
      const done: string[] = [];
      if (options.authFile && gate) {
        const next = await Credentials.load(options.authFile);
        gate.setCredentials(next);
        current = next;
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
