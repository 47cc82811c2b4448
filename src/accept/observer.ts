/** Hooks the accept layer calls as frames move; metrics implement them. */
export type ReplyStatus = 'ok' | 'frame-error' | 'dropped' | 'server-error';

export interface FrameReport {
  camera: string;
  status: ReplyStatus;
  count?: number;
  queueUs: number;
  decodeUs: number;
  inferUs: number;
  serverUs: number;
}

export interface ServerObserver {
  connectionOpened?(protocol: 'v1' | 'legacy'): void;
  connectionClosed?(protocol: 'v1' | 'legacy'): void;
  frameReceived?(camera: string): void;
  frameAnswered?(report: FrameReport): void;
  protocolError?(rule: string): void;
}
