/** What a server leaves open, said once at start (docs/security.md). */
import { describeLegacyPolicy, type LegacyPolicy } from './legacy-policy.js';

export interface Posture {
  host: string;
  port: number;
  /** Tokens or client certificates are required of v1 clients. */
  authRequired: boolean;
  tls: boolean;
  legacy: LegacyPolicy;
  metricsHost?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export function securityWarnings(p: Posture): string[] {
  const out: string[] = [];
  const where = `${p.host}:${p.port}`;
  if (!isLoopback(p.host)) {
    if (!p.authRequired) {
      out.push(
        `WARNING: serving on ${where} without authentication: anyone who can reach this port can use the workers and read the density maps; ` +
          `frames travel in clear${p.tls ? '' : ' (no TLS)'}. Use --auth FILE and --tls-cert/--tls-key (docs/security.md).`,
      );
    } else if (!p.tls) {
      out.push(`WARNING: serving on ${where} without TLS: tokens and camera frames cross the network in clear (add --tls-cert/--tls-key).`);
    }
  }
  if ((p.authRequired || p.tls) && p.legacy.kind !== 'deny') {
    out.push(`WARNING: legacy protocol (no authentication, no encryption) ${describeLegacyPolicy(p.legacy)} on ${where}.`);
  }
  if (p.metricsHost !== undefined && !isLoopback(p.metricsHost)) {
    out.push(`WARNING: metrics on ${p.metricsHost} are unauthenticated: anyone who can reach them sees camera names and counts.`);
  }
  return out;
}
