/**
 * The console's settings and limits (docs/console.md, docs/reliability.md).
 * Everything a browser can make the server hold is bounded here: sockets,
 * viewers, bytes queued for a viewer, request and message sizes, sessions.
 */

export interface ConsoleLimits {
  /** HTTP connections at once (page loads, API calls and WebSocket viewers together). */
  maxConnections: number;
  /** Live WebSocket viewers at once; one more is refused with 503. */
  maxViewers: number;
  /** A viewer whose unsent bytes pass this is cut (frames are never queued past one per camera; this bounds the rest). */
  viewerMaxBufferedBytes: number;
  /** A viewer that takes no bytes at all for this long is cut, so a stuck tab cannot hold a viewer slot. */
  viewerStallMs: number;
  /** Largest WebSocket message a browser may send. */
  maxMessageBytes: number;
  /** Largest request body (sign-in, issue 29's zone edits). */
  maxRequestBytes: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Signed-in sessions kept; past it the oldest is ended. */
  maxSessions: number;
  /** A session ends this long after sign-in. */
  sessionTtlMs: number;
  /** Cameras the hub remembers (live and recently gone); past it the longest-gone is forgotten. */
  maxCameras: number;
}

export const DEFAULT_CONSOLE_LIMITS: ConsoleLimits = {
  maxConnections: 64,
  maxViewers: 32,
  viewerMaxBufferedBytes: 8 * 1024 * 1024,
  viewerStallMs: 20_000,
  maxMessageBytes: 4 * 1024,
  maxRequestBytes: 64 * 1024,
  maxHeaderBytes: 8 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxSessions: 256,
  sessionTtlMs: 12 * 3600_000,
  maxCameras: 256,
};

export type ConsoleVideo = 'on' | 'off';

export interface ConsoleSettings {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Updates per camera per second sent to a viewer. */
  fps: number;
  /** off: privacy mode, no camera pixel ever leaves the server. */
  video: ConsoleVideo;
  /** A camera with no answered frame for this long is shown stale. */
  staleAfterMs: number;
  /** A camera whose connection closed stays (as offline) this long, then its tile goes. */
  forgetAfterMs: number;
  /** Serve beyond loopback without --auth (anyone who reaches the port sees every camera). */
  insecure: boolean;
  limits: ConsoleLimits;
}

export const DEFAULT_CONSOLE_PORT = 7880;

export const DEFAULT_CONSOLE_SETTINGS: ConsoleSettings = {
  host: '127.0.0.1',
  port: DEFAULT_CONSOLE_PORT,
  fps: 5,
  video: 'on',
  staleAfterMs: 5_000,
  forgetAfterMs: 60_000,
  insecure: false,
  limits: DEFAULT_CONSOLE_LIMITS,
};

/** Loopback addresses and names: what the console may bind to, and be called, without --auth. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Why these settings must not start, or undefined (checked before anything listens). */
export function consoleExposureProblem(settings: Pick<ConsoleSettings, 'host' | 'insecure'>, auth: boolean): string | undefined {
  if (auth || settings.insecure || isLoopbackHost(settings.host)) return undefined;
  return (
    `--console-host ${settings.host} would show every camera to anyone who can reach it, with no sign-in: ` +
    'give --auth FILE (and identities with `crowdline auth add NAME --role viewer`), keep the console on 127.0.0.1, ' +
    'or say --console-insecure if the network is yours alone'
  );
}
