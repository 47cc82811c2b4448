/**
 * Server limits and policies. Memory, worker time and connection slots are
 * bounded by these, never by what clients send; docs/reliability.md gives
 * each one's default and why.
 */
import { DEFAULT_LOWER_CLASS_SHARE } from '../batcher/fair-queue.js';
import { DEFAULT_LONG_FRAME_MS } from '../batcher/hold-limit.js';
export type OverloadPolicy = 'queue' | 'drop-oldest';

export interface ServerOptions {
  host: string;
  port: number;
  maxConnections: number;
  /** Connections one client address may hold, so one host cannot take every slot. */
  maxConnectionsPerIp: number;
  /**
   * With TLS on the port: connections still before their session (waiting
   * for the first byte, or in the TLS handshake), in all and per address. A
   * quarter of the slots is kept for addresses that completed a handshake
   * recently, so handshakes held open by strangers cannot lock out cameras.
   */
  maxHandshakes: number;
  maxHandshakesPerIp: number;
  /** Largest JPEG accepted, in bytes. */
  maxFrameBytes: number;
  /** Default frames in flight per connection (v1 clients may ask for fewer or more, up to maxWindow). */
  window: number;
  maxWindow: number;
  /** Frames waiting for a worker across all connections; beyond it only connections under their fair part (maxQueue / connections) may queue more. */
  maxQueue: number;
  /** JPEG bytes waiting for a worker across all connections; beyond it, likewise, only connections under their fair part. */
  maxQueueBytes: number;
  /** JPEG bytes one connection may have waiting for a worker; beyond it that connection pauses. */
  maxConnectionQueueBytes: number;
  /** A connection must complete its first message (v1 HELLO, legacy frame) within this. */
  handshakeTimeoutMs: number;
  /** A message whose first byte has arrived must be complete within this (slow senders). */
  frameTimeoutMs: number;
  /** A connection with nothing in flight and no complete message for this long is closed. */
  idleTimeoutMs: number;
  /**
   * Replies written but not yet taken by a slow or non-reading peer (like
   * Redis's client-output-buffer-limit): over hardBytes the connection is
   * cut at once; over softBytes for softMs it is cut too.
   */
  outputBufferHardBytes: number;
  outputBufferSoftBytes: number;
  outputBufferSoftMs: number;
  /** How long graceful shutdown waits for in-flight frames before forcing. */
  shutdownGraceMs: number;
  /**
   * Behind a load balancer: after about this long (+-10 % jitter, so cameras
   * do not all move at once) a connection is closed gracefully, its frames
   * answered, and the camera reconnects, maybe to a newer, emptier server
   * (gRPC's MAX_CONNECTION_AGE). 0: never (the default; docs/deploy.md).
   */
  maxConnectionAgeMs: number;
  overload: OverloadPolicy;
  /**
   * Frame-rate and pixel-rate caps per sender (src/accept/rate-caps.ts; 0:
   * none). An authenticated identity's camera (identity/camera) has its own
   * bucket, with these defaults unless its credentials entry says otherwise;
   * unauthenticated peers (no --auth, legacy clients) share one bucket per
   * client address. Over a cap, the queue policy pauses the connection and
   * drop-oldest answers the frame "dropped".
   */
  maxFps: number;
  maxPixelRate: number;
  unauthMaxFps: number;
  unauthMaxPixelRate: number;
  /** Bucket depth, in ms of the sender's rate: what it may send at once after a pause. */
  rateBurstMs: number;
  /**
   * Least share of worker time a waiting lower priority class keeps against
   * the classes above it (src/batcher/fair-queue.ts), 0-0.5; 0: strict
   * priority, a lower class waits while any higher one has frames.
   */
  lowerClassShare: number;
  /**
   * A frame estimated to cost a worker more than this (ms) is long: a
   * sender's long frames hold at most its share of the workers while another
   * sender is active (src/batcher/hold-limit.ts); 0: every frame.
   */
  longFrameMs: number;
}

/** A 4K (3840x2160) camera at 30 frames a second: the pixel-rate cap of one authenticated camera. */
export const CAMERA_PIXEL_RATE = 3840 * 2160 * 30;
/** A 1080p camera at 30 frames a second: the pixel-rate cap of one unauthenticated address. */
export const UNAUTH_PIXEL_RATE = 1920 * 1080 * 30;

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  host: '0.0.0.0',
  port: 7878,
  maxConnections: 64,
  maxConnectionsPerIp: 32,
  maxHandshakes: 32,
  maxHandshakesPerIp: 8,
  maxFrameBytes: 8 * 1024 * 1024,
  window: 4,
  maxWindow: 32,
  maxQueue: 256,
  maxQueueBytes: 256 * 1024 * 1024,
  maxConnectionQueueBytes: 32 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  frameTimeoutMs: 20_000,
  idleTimeoutMs: 120_000,
  outputBufferHardBytes: 16 * 1024 * 1024,
  outputBufferSoftBytes: 4 * 1024 * 1024,
  outputBufferSoftMs: 10_000,
  shutdownGraceMs: 30_000,
  maxConnectionAgeMs: 0,
  overload: 'queue',
  maxFps: 30,
  maxPixelRate: CAMERA_PIXEL_RATE,
  // Eight cameras behind one address (a small site's router, a laptop demo): 8 x 30 fps.
  unauthMaxFps: 240,
  // One 1080p camera at 30 fps (or eight 768x576 ones at 15): 0.2-0.3 of a CPU core of decode at the measured 3-5 ms
  // per megapixel, and 3.5 cores at the worst a legal frame costs (57 ms per megapixel, 4K progressive). It was
  // 8 x 1080p30, 1.5-2.7 cores of decode alone: more than a small CPU server has (docs/reliability.md).
  unauthMaxPixelRate: UNAUTH_PIXEL_RATE,
  rateBurstMs: 2_000,
  // A car park beside a busy entrance still gets a frame in ten: never starved, hardly in the way.
  lowerClassShare: DEFAULT_LOWER_CLASS_SHARE,
  // Five ordinary frames of a CPU worker: they fill every worker; the costliest legal frames (~0.5 s) hold a sender's share.
  longFrameMs: DEFAULT_LONG_FRAME_MS,
};

/** Under drop-oldest, frames a connection may have unanswered, as a multiple of its window. */
export const DROP_OLDEST_BACKLOG_WINDOWS = 2;
/** Under drop-oldest, frames of one connection that may wait for a worker: a newer frame replaces the one waiting. */
export const DROP_OLDEST_WAITING = 1;
