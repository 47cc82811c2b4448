/** Hooks the accept layer calls as frames move; metrics implement them. */
import type { FailureCause } from '../workers/types.js';
import type { CapExceeded } from './rate-caps.js';

export type ReplyStatus = 'ok' | 'frame-error' | 'dropped' | 'server-error';

/** Why a frame was answered dropped: a newer one replaced it (drop-oldest), or its sender was over a rate cap. */
export type DropReason = 'drop-oldest' | CapExceeded;

export interface FrameReport {
  camera: string;
  status: ReplyStatus;
  count?: number;
  /** Why a worker failed the frame (frame-error / server-error from a worker). */
  cause?: FailureCause;
  /** Why it was dropped (status dropped). */
  dropReason?: DropReason;
  queueUs: number;
  decodeUs: number;
  inferUs: number;
  serverUs: number;
}

/**
 * Why the server itself ended or refused a connection (protocol errors are
 * reported separately, by rule).
 */
export type ServerCloseReason =
  | 'refused-server-full'
  | 'refused-per-ip'
  | 'refused-handshakes'
  | 'refused-shutting-down'
  | 'handshake-timeout'
  | 'message-timeout'
  | 'idle-timeout'
  | 'output-buffer-hard'
  | 'output-buffer-soft'
  | 'max-age'
  | 'reset-before-accept'
  | 'peer-gone';

export interface ServerObserver {
  connectionOpened?(protocol: 'v1' | 'legacy'): void;
  connectionClosed?(protocol: 'v1' | 'legacy'): void;
  connectionEnded?(reason: ServerCloseReason): void;
  frameReceived?(camera: string): void;
  frameAnswered?(report: FrameReport): void;
  protocolError?(rule: string): void;
  /** Under the queue policy, a connection paused because its sender is over a rate cap. */
  rateCapWait?(cap: CapExceeded): void;
}
