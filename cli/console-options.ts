/** The console's flags (docs/console.md): where it listens, what it shows, and its limits. */
import type { Options } from 'yargs';
import { consoleExposureProblem, DEFAULT_CONSOLE_LIMITS, DEFAULT_CONSOLE_SETTINGS, type ConsoleSettings, type ConsoleVideo } from '../src/console/options.js';
import { UsageError } from '../src/common/usage-error.js';

export interface ConsoleArgv {
  console: boolean;
  'console-port': number;
  'console-host': string;
  'console-insecure': boolean;
  'console-video': ConsoleVideo;
  'console-fps': number;
  'console-stale-ms': number;
  'console-max-connections': number;
  'console-max-viewers': number;
  'console-viewer-max-buffered-bytes': number;
  'console-viewer-stall-ms': number;
  'console-max-message-bytes': number;
  'console-max-request-bytes': number;
  'console-max-sessions': number;
  'console-session-hours': number;
}

const group = 'Console:';
const d = DEFAULT_CONSOLE_SETTINGS;
const l = DEFAULT_CONSOLE_LIMITS;

export function withConsoleOptions(): Record<keyof ConsoleArgv, Options> {
  return {
    console: { type: 'boolean', default: true, describe: 'serve the operator console (live wall, zones, alerts) in a browser; --no-console: none', group },
    'console-port': { type: 'number', default: d.port, describe: 'console port (0: any free port)', group },
    'console-host': {
      type: 'string',
      default: d.host,
      describe: 'address the console listens on; beyond loopback only with --auth (or --console-insecure)',
      group,
    },
    'console-insecure': {
      type: 'boolean',
      default: false,
      describe: 'allow --console-host beyond loopback WITHOUT --auth: anyone who reaches the port sees every camera',
      group,
    },
    'console-video': {
      choices: ['on', 'off'] as const,
      default: d.video,
      describe: 'off: privacy mode, the density on a neutral background; no camera pixel is ever sent to a browser',
      group,
    },
    'console-fps': { type: 'number', default: d.fps, describe: 'updates per camera per second sent to each viewer (at most)', group },
    'console-stale-ms': { type: 'number', default: d.staleAfterMs, describe: 'a camera with no answered frame for this long is shown stale', group },
    'console-max-connections': {
      type: 'number',
      default: l.maxConnections,
      describe: 'HTTP connections the console accepts at once (viewers included)',
      group,
    },
    'console-max-viewers': { type: 'number', default: l.maxViewers, describe: 'live viewers (WebSockets) at once; more are refused with 503', group },
    'console-viewer-max-buffered-bytes': {
      type: 'number',
      default: l.viewerMaxBufferedBytes,
      describe: 'cut a viewer with more than this many bytes it has not taken',
      group,
    },
    'console-viewer-stall-ms': { type: 'number', default: l.viewerStallMs, describe: 'cut a viewer that takes nothing for this long', group },
    'console-max-message-bytes': { type: 'number', default: l.maxMessageBytes, describe: 'largest WebSocket message a browser may send', group },
    'console-max-request-bytes': { type: 'number', default: l.maxRequestBytes, describe: 'largest HTTP request body the console reads', group },
    'console-max-sessions': { type: 'number', default: l.maxSessions, describe: 'signed-in sessions kept (the oldest ends first)', group },
    'console-session-hours': { type: 'number', default: l.sessionTtlMs / 3600_000, describe: 'a sign-in lasts this long', group },
  };
}

const POSITIVE_INTEGERS = [
  'console-stale-ms',
  'console-max-connections',
  'console-max-viewers',
  'console-viewer-max-buffered-bytes',
  'console-viewer-stall-ms',
  'console-max-message-bytes',
  'console-max-request-bytes',
  'console-max-sessions',
] as const;

/** Checked with the other flags, before the model loads. */
export function checkConsoleArgv(argv: ConsoleArgv, auth: boolean): void {
  for (const name of POSITIVE_INTEGERS) {
    const value = argv[name];
    if (!(Number.isInteger(value) && value > 0)) throw new UsageError(`--${name} must be a positive whole number, got ${String(value)}`);
  }
  const port = argv['console-port'];
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new UsageError(`--console-port must be a port number 0..65535 (0: any free port), got ${String(port)}`);
  const fps = argv['console-fps'];
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 30)) throw new UsageError(`--console-fps must be more than 0 and at most 30, got ${String(fps)}`);
  const hours = argv['console-session-hours'];
  if (!(Number.isFinite(hours) && hours > 0 && hours <= 24 * 30))
    throw new UsageError(`--console-session-hours must be more than 0 and at most 720, got ${String(hours)}`);
  if (argv.console) {
    const problem = consoleExposureProblem({ host: argv['console-host'], insecure: argv['console-insecure'] }, auth);
    if (problem) throw new UsageError(problem);
  }
}

export function consoleFromArgv(argv: ConsoleArgv): ConsoleSettings | undefined {
  if (!argv.console) return undefined;
  return {
    ...DEFAULT_CONSOLE_SETTINGS,
    host: argv['console-host'],
    port: argv['console-port'],
    insecure: argv['console-insecure'],
    video: argv['console-video'],
    fps: argv['console-fps'],
    staleAfterMs: argv['console-stale-ms'],
    limits: {
      ...DEFAULT_CONSOLE_LIMITS,
      maxConnections: argv['console-max-connections'],
      maxViewers: argv['console-max-viewers'],
      viewerMaxBufferedBytes: argv['console-viewer-max-buffered-bytes'],
      viewerStallMs: argv['console-viewer-stall-ms'],
      maxMessageBytes: argv['console-max-message-bytes'],
      maxRequestBytes: argv['console-max-request-bytes'],
      maxSessions: argv['console-max-sessions'],
      sessionTtlMs: Math.round(argv['console-session-hours'] * 3600_000),
    },
  };
}
