/**
 * Who may use a connection (src/auth implements it). The accept layer asks
 * twice: once the protocol is known (TLS required? legacy allowed from this
 * address?) and at the v1 HELLO (token or client certificate). Both answers
 * come before any frame reaches the batcher, so a refused peer costs no
 * worker time.
 */
import type { Socket } from 'node:net';
import type { FlowShare } from '../batcher/fair-queue.js';
import type { RateCap } from './rate-caps.js';
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
 * identity, not the client's claim. `share`: its weight and priority class
 * for the workers (default: the server's, DEFAULT_SHARE). `identity`: the
 * authenticated name (absent: the peer is unauthenticated, and its rate caps
 * are its address's); `caps`: that identity's own rate caps, where its entry
 * sets them (else the server's --max-fps / --max-pixel-rate).
 */
export type Admission = { ok: true; label: string; share?: FlowShare; identity?: string; caps?: Partial<RateCap> } | { ok: false; refusal: Refusal };

export interface ConnectionGate {
  checkProtocol(protocol: WireProtocol, socket: Socket): Refusal | undefined;
  /** `gone` fires when the connection closes: a check still running should be abandoned (its answer is no longer wanted). */
  admitHello(claim: HelloClaim, socket: Socket, gone?: AbortSignal): Promise<Admission>;
}
