/**
 * The time and output-buffer limits of one connection, as pure verdicts:
 * Session keeps the clocks and acts on what these say (docs/reliability.md).
 */
import { ErrorCode, type ErrorCodeValue } from '../framing/index.js';
import type { ServerCloseReason } from './observer.js';
import type { ServerOptions } from './options.js';

/** The clocks a session keeps (epoch ms). */
export interface SessionClocks {
  openedAt: number;
  /** A first complete message (v1 HELLO, legacy frame) has arrived. */
  handshaken: boolean;
  /** When the first byte of the message now being received arrived (while reading). */
  messageStartedAt: number | undefined;
  /** Last complete message or reply. */
  lastActivityAt: number;
  /** Frames accepted and not yet answered: the idle clock runs only at 0. */
  inFlight: number;
  protocol: 'v1' | 'legacy' | undefined;
}

export interface Expiry {
  reason: ServerCloseReason;
  code: ErrorCodeValue;
  why: string;
}

/** The handshake, message or idle deadline that has passed at `now`, if one has. */
export function overdueDeadline(c: SessionClocks, o: ServerOptions, now: number): Expiry | undefined {
  if (!c.handshaken && now - c.openedAt >= o.handshakeTimeoutMs) {
    const what = c.protocol === 'legacy' ? 'first frame' : 'HELLO';
    return { reason: 'handshake-timeout', code: ErrorCode.HandshakeTimeout, why: `no complete ${what} within ${o.handshakeTimeoutMs} ms` };
  } else if (c.messageStartedAt !== undefined && now - c.messageStartedAt >= o.frameTimeoutMs) {
    return { reason: 'message-timeout', code: ErrorCode.MessageTimeout, why: `a message started but was not complete within ${o.frameTimeoutMs} ms` };
  } else if (c.handshaken && c.inFlight === 0 && now - c.lastActivityAt >= o.idleTimeoutMs) {
    return { reason: 'idle-timeout', code: ErrorCode.IdleTimeout, why: `no frames for ${o.idleTimeoutMs} ms` };
  }
  return undefined;
}

/**
 * Redis-style client output buffer limit on `pending` reply bytes: over the
 * hard limit, cut at once; over the soft limit since `softLimitSince` for
 * softMs, cut too. Returns the soft-limit clock to keep, and the cut if due.
 */
export function outputBufferVerdict(
  pending: number,
  softLimitSince: number | undefined,
  o: ServerOptions,
  now: number,
): { softLimitSince: number | undefined; cut?: { reason: ServerCloseReason; why: string } } {
  if (pending > o.outputBufferHardBytes) {
    return {
      softLimitSince,
      cut: { reason: 'output-buffer-hard', why: `${pending} reply bytes not read by the client, over the hard limit of ${o.outputBufferHardBytes}` },
    };
  }
  if (pending > o.outputBufferSoftBytes) {
    const since = softLimitSince ?? now;
    if (now - since >= o.outputBufferSoftMs) {
      return {
        softLimitSince: since,
        cut: {
          reason: 'output-buffer-soft',
          why: `${pending} reply bytes not read by the client for ${o.outputBufferSoftMs} ms, over the soft limit of ${o.outputBufferSoftBytes}`,
        },
      };
    }
    return { softLimitSince: since };
  }
  return { softLimitSince: undefined };
}
