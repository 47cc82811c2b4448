/** Hooks the accept layer calls as frames move; metrics implement them. */
import type { FailureCause } from '../workers/types.js';

export type ReplyStatus = 'ok' | 'frame-error' | 'dropped' | 'server-error';

export interface FrameReport {
  camera: string;
  status: ReplyStatus;
  count?: number;
  /** Why a worker failed the frame (frame-error / server-error from a worker). */
  cause?: FailureCause;
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
  | 'reset-before-accept';

export interface ServerObserver {
  connectionOpened?(protocol: 'v1' | 'legacy'): void;
  connectionClosed?(protocol: 'v1' | 'legacy'): void;
  connectionEnded?(reason: ServerCloseReason): void;
  frameReceived?(camera: string): void;
  frameAnswered?(report: FrameReport): void;
  protocolError?(rule: string): void;
}
