/** Server limits and policies. Memory is bounded by these, not by clients. */
export type OverloadPolicy = 'queue' | 'drop-oldest';

export interface ServerOptions {
  host: string;
  port: number;
  maxConnections: number;
  /** Largest JPEG accepted, in bytes. */
  maxFrameBytes: number;
  /** Default frames in flight per connection (v1 clients may ask for fewer or more, up to maxWindow). */
  window: number;
  maxWindow: number;
  /** Frames waiting for a worker across all connections; beyond it every session pauses. */
  maxQueue: number;
  /** A client must send HELLO (v1) or its first byte (legacy) within this. */
  handshakeTimeoutMs: number;
  /** A connection with nothing in flight and no bytes for this long is closed. */
  idleTimeoutMs: number;
  /** How long graceful shutdown waits for in-flight frames before forcing. */
  shutdownGraceMs: number;
  overload: OverloadPolicy;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  host: '0.0.0.0',
  port: 7878,
  maxConnections: 64,
  maxFrameBytes: 8 * 1024 * 1024,
  window: 4,
  maxWindow: 32,
  maxQueue: 256,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  shutdownGraceMs: 30_000,
  overload: 'queue',
};
