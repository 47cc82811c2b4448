/**
 * Who may use a connection (src/auth implements it). The accept layer asks
 * twice: once the protocol is known (TLS required? legacy allowed from this
 * address?) and at the v1 HELLO (token or client certificate). Both answers
 * come before any frame reaches the batcher, so a refused peer costs no
 * worker time.
 */
import type { Socket } from 'node:net';
import type { SenderSettings } from './sender-settings.js';
import type { ErrorCodeValue, WireProtocol } from '../framing/index.js';

export interface Refusal {
  code: ErrorCodeValue;
  /** Sent to a v1 client in the ERROR; never contains a secret. */
  reason: string;
  /** Short cause for logs and the auth-failure metric, e.g. "bad-token". */
  cause: string;
}

export interface HelloClaim {
  camera: string;
  token?: string;
}

/**
 * `label` names the connection in logs and metrics: the authenticated
 * identity, not the client's claim. `identity`: the authenticated name
 * (absent: the peer is unauthenticated: its share and rate caps are its
 * address's); `settings`: what that identity's entry sets of its weight,
 * priority class and rate caps (sender-settings.ts resolves them against the
 * site file and the server's defaults); `namedCamera`: the identity's entry
 * lists this camera by name (`cameras:`), so the site file may give it a
 * share of its own.
 */
export type Admission = { ok: true; label: string; identity?: string; settings?: SenderSettings; namedCamera?: boolean } | { ok: false; refusal: Refusal };

export interface ConnectionGate {
  checkProtocol(protocol: WireProtocol, socket: Socket): Refusal | undefined;
  /** `gone` fires when the connection closes: a check still running should be abandoned (its answer is no longer wanted). */
  admitHello(claim: HelloClaim, socket: Socket, gone?: AbortSignal): Promise<Admission>;
}
