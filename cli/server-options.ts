/** yargs options shared by every command that starts a server. */
import { DEFAULT_INPUT_SIZE_LIMITS, INPUT_SIZE_LIMIT_RANGES, INPUT_SIZE_POLICIES, type InputSizePolicy } from '../src/workers/input-size.js';
import os from 'node:os';
import type { Argv } from 'yargs';
import { DEFAULT_SERVER_OPTIONS, type OverloadPolicy } from '../src/accept/options.js';
import { serveModelPath } from '../src/app/default-model.js';
import { MODEL_OPTION_HELP, modelPath } from '../src/app/paths.js';
import type { StartServerOptions } from '../src/app/start-server.js';
import { securityFromArgv, withSecurityOptions, type SecurityArgv } from './security-options.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { parseSize } from '../src/common/parse.js';
import { UsageError } from '../src/common/usage-error.js';
import { DEFAULT_JPEG_LIMITS } from '../src/workers/jpeg-inspect.js';
import { DEFAULT_WORKER_NICE, WORKER_NICE_RANGE } from '../src/workers/thread-nice.js';
import { DEFAULT_LOG_RATE_LIMIT } from '../src/log/rate-limited-log.js';
import { DEFAULT_METRICS_HTTP_LIMITS } from '../src/metrics/http.js';
import { DEFAULT_CAMERA_SERIES_TTL_MS } from '../src/metrics/server-metrics.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../src/log/logger.js';
import { DEFAULT_TOTALS_INTERVAL_MS } from '../src/log/totals-log.js';
import { DEFAULT_MQTT_MAX_QUEUED_ALERTS, DEFAULT_MQTT_TOPIC_PREFIX, DEFAULT_ZONE_PUBLISH_INTERVAL_MS } from '../src/events/defaults.js';
import { defaultHistoryDir } from '../src/app/history-setup.js';
import { DEFAULT_HISTORY_LIMITS } from '../src/history/types.js';
import { DEFAULT_API_LIMITS } from '../src/history/api.js';
import { checkConsoleArgv, consoleFromArgv, withConsoleOptions, type ConsoleArgv } from './console-options.js';

/** Zone events come from a site file's zones: asking for them without one is a usage error (serve and demo). */
export function requireSiteForZoneEvents(argv: { site?: string; 'mqtt-url'?: string; 'events-file'?: string }): void {
  if ((argv['mqtt-url'] !== undefined || argv['events-file'] !== undefined) && argv.site === undefined) {
    throw new UsageError('--mqtt-url and --events-file publish zone events: give --site too');
  }
}

/** A TCP port: 0 (any free one) to 65535. */
export function checkPort(flag: string, value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535)) {
    throw new UsageError(
      `--${flag} must be a port number 0..65535 (0: any free port), got ${typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  }
}

const POSITIVE_INTEGERS = [
  'workers',
  'intra-op-threads',
  'max-batch',
  'window',
  'max-window',
  'max-queue',
  'max-queue-bytes',
  'max-connection-queue-bytes',
  'max-frame-work',
  'max-connections',
  'max-connections-per-ip',
  'max-handshakes',
  'max-handshakes-per-ip',
  'max-frame-bytes',
  'max-frame-pixels',
  'max-jpeg-scans',
  'handshake-timeout-ms',
  'frame-timeout-ms',
  'idle-timeout-ms',
  'output-buffer-hard-bytes',
  'output-buffer-soft-bytes',
  'output-buffer-soft-ms',
  'shutdown-grace-ms',
  'log-burst',
  'metrics-max-connections',
  'metrics-max-connections-per-ip',
  'zone-publish-interval-ms',
  'mqtt-max-queued-alerts',
  'max-tiles',
  'max-input-pixels',
  'rate-burst-ms',
] as const;
/** The security group's limits (typed apart: withSecurityOptions() is a plain record). */
const SECURITY_POSITIVE_INTEGERS = ['max-auth-checks', 'max-auth-checks-per-ip'] as const;

/** Rate caps: 0 turns one off; frames per second may be fractional (a camera sampled every 2 s is 0.5). */
const RATE_CAPS = { fps: ['max-fps', 'unauth-max-fps'], pixels: ['max-pixel-rate', 'unauth-max-pixel-rate'] } as const;
/** Highest frame-rate cap (above any camera; 0 means none). */
const MAX_FPS_CAP = 1000;

export function withServerOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('model', {
      type: 'string',
      coerce: modelPath,
      describe: `${MODEL_OPTION_HELP} (default: crowdline-v2 with --device cuda, or auto where the CUDA provider is installed; else crowdline-v1)`,
      group: 'Model:',
    })
    .option('device', { choices: ['auto', 'cuda', 'cpu'] as const, default: 'auto', describe: 'auto tries CUDA, then CPU', group: 'Model:' })
    .option('workers', {
      type: 'number',
      describe: `worker threads, one ONNX session each (default: one per core on CPU, ${os.availableParallelism()} here; 2 on CUDA)`,
      group: 'Model:',
    })
    .option('intra-op-threads', {
      type: 'number',
      describe: 'ONNX Runtime threads per CPU session (default 1: several single-threaded sessions beat one wide one; 2 lowers single-frame latency)',
      group: 'Model:',
    })
    .option('decode-threads', {
      type: 'number',
      describe: `threads that only decode JPEGs, apart from the sessions (default: 0 on CPU, each worker decodes its own frames; on CUDA every core but two, ${Math.max(1, os.availableParallelism() - 2)} here)`,
      group: 'Model:',
    })
    .option('worker-nice', {
      type: 'number',
      default: DEFAULT_WORKER_NICE,
      describe: `nice added to the worker and decode threads (and ONNX Runtime's threads), above the process's own, so the main thread (accept, reads, replies, probes) gets a core first (${WORKER_NICE_RANGE.min}-${WORKER_NICE_RANGE.max}; 0: off; Linux)`,
      group: 'Model:',
    })
    .option('input-size', { type: 'string', describe: 'network input WxH (default: the manifest preferred size)', group: 'Model:' })
    .option('input-policy', {
      choices: INPUT_SIZE_POLICIES,
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- yargs infers the option's type from its default: without the assertion 'fixed' widens to string and tsc rejects the builder
      default: 'fixed' as InputSizePolicy,
      describe:
        "default input-size policy (a site file entry, then the client, may choose per camera): fixed = every frame resized to the input size; native = the frame at its own size, rounded; tiled = tiles of the input size at the frame's own resolution, maps stitched",
      group: 'Model:',
    })
    .option('max-tiles', {
      type: 'number',
      default: DEFAULT_INPUT_SIZE_LIMITS.maxTiles,
      describe: `tiled: most tiles per frame (${INPUT_SIZE_LIMIT_RANGES.maxTiles.min}-${INPUT_SIZE_LIMIT_RANGES.maxTiles.max}); a larger frame is scaled down to fit`,
      group: 'Limits:',
    })
    .option('max-input-pixels', {
      type: 'number',
      default: DEFAULT_INPUT_SIZE_LIMITS.maxInputPixels,
      describe: 'native: most network-input pixels per frame (default 1920x1080); a larger frame is scaled down to fit',
      group: 'Limits:',
    })
    .option('max-batch', { type: 'number', default: 1, describe: 'largest batch of frames (from any connections) per session call', group: 'Batching:' })
    .option('max-batch-delay-ms', { type: 'number', default: 2, describe: 'how long a partial batch may wait for more frames', group: 'Batching:' })
    .option('overload', {
      choices: ['queue', 'drop-oldest'] as const,
      default: DEFAULT_SERVER_OPTIONS.overload,
      describe: 'queue: backpressure, nothing dropped (files); drop-oldest: answer the oldest waiting frame "dropped", keep the newest (live cameras)',
      group: 'Limits:',
    })
    .option('window', { type: 'number', default: DEFAULT_SERVER_OPTIONS.window, describe: 'default frames in flight per connection', group: 'Limits:' })
    .option('max-window', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxWindow,
      describe: 'most frames in flight a client may ask for',
      group: 'Limits:',
    })
    .option('max-queue', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxQueue,
      describe: 'frames waiting for a worker across all connections; when full, only connections under their fair part (this / connections) may queue more',
      group: 'Limits:',
    })
    .option('max-queue-bytes', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxQueueBytes,
      describe: 'JPEG bytes waiting for a worker across all connections; when full, only connections under their fair part may queue more',
      group: 'Limits:',
    })
    .option('max-connection-queue-bytes', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxConnectionQueueBytes,
      describe: 'JPEG bytes one connection may have waiting for a worker; beyond it that connection pauses',
      group: 'Limits:',
    })
    .option('max-connections', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxConnections, group: 'Limits:' })
    .option('max-connections-per-ip', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxConnectionsPerIp,
      describe: 'connections one client address may hold (cameras behind one NAT share an address)',
      group: 'Limits:',
    })
    .option('max-handshakes', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxHandshakes,
      describe:
        'with TLS: connections still in their handshake (or before their first byte); a quarter is kept for addresses that completed a TLS handshake in the last hour',
      group: 'Limits:',
    })
    .option('max-handshakes-per-ip', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxHandshakesPerIp,
      describe: 'with TLS: connections one address may have in their handshake',
      group: 'Limits:',
    })
    .option('max-frame-bytes', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxFrameBytes, describe: 'largest JPEG accepted', group: 'Limits:' })
    .option('max-frame-pixels', {
      type: 'number',
      default: DEFAULT_JPEG_LIMITS.maxPixels,
      describe: 'largest image (width x height) decoded; checked from the JPEG header before decoding (default 8K UHD)',
      group: 'Limits:',
    })
    .option('max-jpeg-scans', { type: 'number', default: DEFAULT_JPEG_LIMITS.maxScans, describe: 'most scans a (progressive) JPEG may have', group: 'Limits:' })
    .option('max-frame-work', {
      type: 'number',
      default: DEFAULT_JPEG_LIMITS.maxWork,
      describe:
        'largest decode work, in pixel-passes (width x height; x max(scans, 6) for progressive JPEG), checked from the header before decoding (default 3 x 8K: any baseline JPEG up to 8K, progressive up to 16.6 MP)',
      group: 'Limits:',
    })
    .option('handshake-timeout-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.handshakeTimeoutMs,
      describe: 'a new connection must complete its first message (HELLO, legacy frame) within this',
      group: 'Limits:',
    })
    .option('frame-timeout-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.frameTimeoutMs,
      describe: 'a message whose first byte arrived must be complete within this',
      group: 'Limits:',
    })
    .option('idle-timeout-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.idleTimeoutMs,
      describe: 'close a connection with nothing in flight and no complete message for this long',
      group: 'Limits:',
    })
    .option('output-buffer-hard-bytes', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.outputBufferHardBytes,
      describe: 'cut a connection at once when this many reply bytes are unread',
      group: 'Limits:',
    })
    .option('output-buffer-soft-bytes', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.outputBufferSoftBytes,
      describe: 'cut a connection when this many reply bytes stay unread for --output-buffer-soft-ms',
      group: 'Limits:',
    })
    .option('output-buffer-soft-ms', { type: 'number', default: DEFAULT_SERVER_OPTIONS.outputBufferSoftMs, group: 'Limits:' })
    .option('shutdown-grace-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.shutdownGraceMs,
      describe: 'on SIGTERM/SIGINT, how long connections may take to answer their frames in flight before they are dropped',
      group: 'Limits:',
    })
    .option('max-connection-age-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxConnectionAgeMs,
      describe:
        'behind a load balancer: close each connection gracefully after about this long (+-10 %) so cameras reconnect and spread over new servers (0: never; docs/deploy.md)',
      group: 'Limits:',
    })
    .option('max-fps', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxFps,
      describe:
        "frames per second each authenticated camera (identity/camera) may send; its credentials entry's max_fps wins. Over it: --overload queue pauses the connection, drop-oldest answers the frame dropped (0: no cap)",
      group: 'Limits:',
    })
    .option('max-pixel-rate', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.maxPixelRate,
      describe:
        "decoded pixels per second (from each JPEG's header) each authenticated camera may send (default a 4K camera at 30 fps); its entry's max_pixel_rate wins (0: no cap)",
      group: 'Limits:',
    })
    .option('unauth-max-fps', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.unauthMaxFps,
      describe:
        'frames per second all unauthenticated connections from one address (IPv6: one /64) may send together (no --auth, legacy clients; default 8 cameras at 30 fps; 0: no cap)',
      group: 'Limits:',
    })
    .option('unauth-max-pixel-rate', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.unauthMaxPixelRate,
      describe:
        'decoded pixels per second all unauthenticated connections from one address (IPv6: one /64) may send together (default one 1080p camera at 30 fps, 62208000; 0: no cap)',
      group: 'Limits:',
    })
    .option('rate-burst-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.rateBurstMs,
      describe: "how much of its rate a sender may send at once after a pause, in ms of it (each cap's token bucket depth)",
      group: 'Limits:',
    })
    .option('lower-class-share', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.lowerClassShare,
      describe:
        'least share of worker time a waiting lower priority class keeps against the classes above it (priority: in the credentials or site file), 0 to 0.5; 0: strict priority',
      group: 'Limits:',
    })
    .option('long-frame-ms', {
      type: 'number',
      default: DEFAULT_SERVER_OPTIONS.longFrameMs,
      describe:
        "a frame estimated to cost a worker more than this is long: one sender's long frames hold at most its share of the workers while another sender is active; 0: every frame",
      group: 'Limits:',
    })
    .option('log-burst', {
      type: 'number',
      default: DEFAULT_LOG_RATE_LIMIT.burst,
      describe: 'log lines of one kind per 10 s before they are counted and summarised instead',
      group: 'Limits:',
    })
    .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics, /healthz and /readyz on this port (0: any free port)', group: 'Metrics:' })
    .option('metrics-host', {
      type: 'string',
      default: '127.0.0.1',
      describe: 'address the metrics port listens on (unauthenticated: keep it local or firewalled)',
      group: 'Metrics:',
    })
    .option('metrics-max-connections', {
      type: 'number',
      default: DEFAULT_METRICS_HTTP_LIMITS.maxConnections,
      describe: 'connections the metrics endpoint accepts at once',
      group: 'Metrics:',
    })
    .option('metrics-max-connections-per-ip', {
      type: 'number',
      default: DEFAULT_METRICS_HTTP_LIMITS.maxConnectionsPerIp,
      describe:
        'connections one address may hold on the metrics endpoint; when all are taken, a new connection displaces the one idle longest, so probes always get in',
      group: 'Metrics:',
    })
    .option('metrics-camera-ttl-ms', {
      type: 'number',
      default: DEFAULT_CAMERA_SERIES_TTL_MS,
      describe:
        "a camera's series (crowdline_camera_*) are removed this long after its last answered frame, so cameras that left stop showing stale counts (0: never)",
      group: 'Metrics:',
    })
    .option('log-format', {
      choices: LOG_FORMATS,
      default: 'auto',
      describe: 'auto: JSON lines (pino) unless stderr is a terminal, then one readable line per record',
      group: 'Logs:',
    })
    .option('log-level', {
      choices: LOG_LEVELS,
      default: 'info',
      describe: 'least severe level logged (connection lines are info, refusals and timeouts warn)',
      group: 'Logs:',
    })
    .option('log-totals-interval-ms', {
      type: 'number',
      default: DEFAULT_TOTALS_INTERVAL_MS,
      describe: 'a line of totals (frames, cameras, connections, latency) this often (0: none)',
      group: 'Logs:',
    })
    .options(withSecurityOptions())
    .options(withConsoleOptions())
    .option('site', {
      type: 'string',
      describe: 'site file (YAML) with zones per camera: counts, smoothing and alerts per zone (docs/zones.md); reloaded on SIGHUP',
      group: 'Zones:',
    })
    .option('zone-publish-interval-ms', {
      type: 'number',
      default: DEFAULT_ZONE_PUBLISH_INTERVAL_MS,
      describe: "publish each zone's count at most this often (alert transitions: always)",
      group: 'Zones:',
    })
    .option('events-file', { type: 'string', describe: "write zone counts and alerts as JSON lines to this file ('-': stdout)", group: 'Zones:' })
    .option('mqtt-url', { type: 'string', describe: 'publish zone counts and alerts to this MQTT broker (mqtt://host:1883, mqtts://...)', group: 'Zones:' })
    .option('mqtt-topic-prefix', {
      type: 'string',
      default: DEFAULT_MQTT_TOPIC_PREFIX,
      describe: 'topics are <prefix>/<camera>/<zone>/count|alert and <prefix>/server/<client id>/status',
      group: 'Zones:',
    })
    .option('mqtt-client-id', {
      type: 'string',
      describe: 'MQTT client id, also the server id in the status topic (default crowdline-<hostname>; give each server on a host its own)',
      group: 'Zones:',
    })
    .option('mqtt-username', { type: 'string', group: 'Zones:' })
    .option('mqtt-password-file', { type: 'string', describe: 'file holding the MQTT password', group: 'Zones:' })
    .option('mqtt-ca', { type: 'string', describe: 'CA certificate (PEM) for an mqtts:// broker', group: 'Zones:' })
    .option('mqtt-max-queued-alerts', {
      type: 'number',
      default: DEFAULT_MQTT_MAX_QUEUED_ALERTS,
      describe: 'alert events kept while the broker is away (oldest dropped first)',
      group: 'Zones:',
    })
    .option('history', {
      choices: ['on', 'off'] as const,
      default: 'on' as const,
      describe: "keep each zone's counts per second and its alerts in an SQLite database (with --site; docs/history.md)",
      group: 'History:',
    })
    .option('history-dir', {
      type: 'string',
      describe: `directory of history.db (default: $STATE_DIRECTORY/history under systemd, else $XDG_STATE_HOME/crowdline/history or ~/.local/state/crowdline/history; here ${defaultHistoryDir()})`,
      group: 'History:',
    })
    .option('history-fine-hours', {
      type: 'number',
      default: DEFAULT_HISTORY_LIMITS.fineHours,
      describe: 'keep one row per second this long, then one per minute',
      group: 'History:',
    })
    .option('history-days', { type: 'number', default: DEFAULT_HISTORY_LIMITS.days, describe: 'delete history older than this', group: 'History:' })
    .option('history-max-mb', {
      type: 'number',
      default: DEFAULT_HISTORY_LIMITS.maxBytes / 1048576,
      describe: 'hard cap on the database (with its write-ahead log); the oldest rows are deleted first',
      group: 'History:',
    })
    .option('history-max-skew-s', {
      type: 'number',
      default: DEFAULT_HISTORY_LIMITS.maxSkewMs / 1000,
      describe: "a frame whose capture time is further than this from the server's clock is recorded at the server's clock",
      group: 'History:',
    })
    .option('api-max-range-days', {
      type: 'number',
      default: DEFAULT_API_LIMITS.maxRangeS / 86_400,
      describe: 'history API: longest from..to of one request (docs/api.md)',
      group: 'History:',
    })
    .option('api-max-points', {
      type: 'number',
      default: DEFAULT_API_LIMITS.maxPoints,
      describe: 'history API: most points (buckets x zones) one request returns',
      group: 'History:',
    })
    .option('api-max-alerts', {
      type: 'number',
      default: DEFAULT_API_LIMITS.maxAlerts,
      describe: 'history API: most alert transitions one request returns',
      group: 'History:',
    })
    .check((argv) => {
      requireSiteForZoneEvents(argv);
      checkHistoryOptions(argv);
      // Both become MQTT topic levels, where + and # are wildcards a publisher may not use.
      for (const name of ['mqtt-topic-prefix', 'mqtt-client-id'] as const) {
        const value = argv[name];
        if (value !== undefined && !/^[^+#\u0000]+$/.test(value)) throw new Error(`--${name} must be non-empty, without + or #, got ${JSON.stringify(value)}`);
      }
      // Limits must be positive whole numbers: a 0 or NaN limit would disable protection silently.
      for (const name of POSITIVE_INTEGERS) {
        const value = argv[name];
        if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
          throw new UsageError(`--${name} must be a positive whole number, got ${String(value)}`);
        }
      }
      for (const name of SECURITY_POSITIVE_INTEGERS) {
        // yargs has made it a number (type: 'number'; NaN for text).
        const value = (argv as unknown as Record<string, number | undefined>)[name];
        if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
          throw new UsageError(`--${name} must be a positive whole number, got ${String(value)}`);
        }
      }
      for (const name of RATE_CAPS.fps) {
        const value = argv[name];
        if (!(Number.isFinite(value) && value >= 0 && value <= MAX_FPS_CAP)) {
          throw new UsageError(`--${name} must be frames per second from 0 (no cap) to ${MAX_FPS_CAP}, got ${String(value)}`);
        }
      }
      for (const name of RATE_CAPS.pixels) {
        const value = argv[name];
        if (!(Number.isInteger(value) && value >= 0))
          throw new UsageError(`--${name} must be a whole number of pixels per second (0: no cap), got ${String(value)}`);
      }
      const nice = argv['worker-nice'];
      if (!(Number.isInteger(nice) && nice >= WORKER_NICE_RANGE.min && nice <= WORKER_NICE_RANGE.max))
        throw new UsageError(`--worker-nice must be a whole number from ${WORKER_NICE_RANGE.min} (off) to ${WORKER_NICE_RANGE.max}, got ${String(nice)}`);
      const share = argv['lower-class-share'];
      if (!(Number.isFinite(share) && share >= 0 && share <= 0.5))
        throw new UsageError(`--lower-class-share must be from 0 (strict priority) to 0.5, got ${String(share)}`);
      const long = argv['long-frame-ms'];
      if (!(Number.isFinite(long) && long >= 0)) throw new UsageError(`--long-frame-ms must be a number of milliseconds >= 0, got ${String(long)}`);
      for (const name of ['max-connection-age-ms', 'log-totals-interval-ms', 'metrics-camera-ttl-ms'] as const) {
        const value = argv[name];
        if (!(Number.isInteger(value) && value >= 0)) throw new UsageError(`--${name} must be a whole number >= 0, got ${String(value)}`);
      }
      const delay = argv['max-batch-delay-ms'];
      if (!(Number.isFinite(delay) && delay >= 0)) throw new UsageError(`--max-batch-delay-ms must be a number of milliseconds >= 0, got ${String(delay)}`);
      checkPort('metrics-port', argv['metrics-port']);
      const tiles = argv['max-tiles'];
      if (tiles < INPUT_SIZE_LIMIT_RANGES.maxTiles.min || tiles > INPUT_SIZE_LIMIT_RANGES.maxTiles.max) {
        throw new UsageError(`--max-tiles must be ${INPUT_SIZE_LIMIT_RANGES.maxTiles.min}-${INPUT_SIZE_LIMIT_RANGES.maxTiles.max}, got ${tiles}`);
      }
      const pixels = argv['max-input-pixels'];
      if (pixels < INPUT_SIZE_LIMIT_RANGES.maxInputPixels.min || pixels > INPUT_SIZE_LIMIT_RANGES.maxInputPixels.max) {
        throw new UsageError(
          `--max-input-pixels must be ${INPUT_SIZE_LIMIT_RANGES.maxInputPixels.min}-${INPUT_SIZE_LIMIT_RANGES.maxInputPixels.max}, got ${pixels}`,
        );
      }
      const size = argv['input-size'];
      if (size !== undefined) {
        try {
          parseSize(size);
        } catch (err) {
          throw new UsageError(`--input-size: ${(err as Error).message}`);
        }
      }
      checkConsoleArgv(argv as unknown as ConsoleArgv, argv.auth !== undefined);
      // --tls-cert/--tls-key pairing and --legacy syntax, checked now rather than after the model loads.
      try {
        securityFromArgv(argv as SecurityArgv);
      } catch (err) {
        throw new UsageError((err as Error).message.startsWith('--') ? (err as Error).message : `--legacy: ${(err as Error).message}`);
      }
      return true;
    });
}

/** History limits: positive, and the per-second rows cannot outlive the whole history. */
export function checkHistoryOptions(
  argv: Pick<
    ServerArgv,
    'history-fine-hours' | 'history-days' | 'history-max-mb' | 'history-max-skew-s' | 'api-max-range-days' | 'api-max-points' | 'api-max-alerts'
  >,
): void {
  for (const name of ['api-max-points', 'api-max-alerts'] as const) {
    const value = argv[name];
    if (!(Number.isInteger(value) && value > 0)) throw new UsageError(`--${name} must be a positive whole number, got ${String(value)}`);
  }
  for (const name of ['history-fine-hours', 'history-days', 'history-max-mb', 'history-max-skew-s', 'api-max-range-days'] as const) {
    const value = argv[name];
    if (!(Number.isFinite(value) && value > 0)) throw new UsageError(`--${name} must be a number > 0, got ${String(value)}`);
  }
  if (argv['history-fine-hours'] > argv['history-days'] * 24) {
    throw new UsageError(`--history-fine-hours (${argv['history-fine-hours']}) must not exceed --history-days (${argv['history-days']}) x 24`);
  }
  if (argv['history-max-mb'] < 1) throw new UsageError(`--history-max-mb must be at least 1, got ${argv['history-max-mb']}`);
}

export interface ServerArgv extends SecurityArgv, ConsoleArgv {
  /** Unset: the device's default (serveModelPath). */
  model?: string;
  device: DeviceChoice;
  workers?: number;
  'intra-op-threads'?: number;
  'decode-threads'?: number;
  'worker-nice': number;
  'input-size'?: string;
  'input-policy': InputSizePolicy;
  'max-tiles': number;
  'max-input-pixels': number;
  'max-batch': number;
  'max-batch-delay-ms': number;
  overload: OverloadPolicy;
  window: number;
  'max-window': number;
  'max-queue': number;
  'max-queue-bytes': number;
  'max-connection-queue-bytes': number;
  'max-frame-work': number;
  'max-connections': number;
  'max-connections-per-ip': number;
  'max-handshakes': number;
  'max-handshakes-per-ip': number;
  'max-frame-bytes': number;
  'max-frame-pixels': number;
  'max-jpeg-scans': number;
  'handshake-timeout-ms': number;
  'frame-timeout-ms': number;
  'idle-timeout-ms': number;
  'output-buffer-hard-bytes': number;
  'output-buffer-soft-bytes': number;
  'output-buffer-soft-ms': number;
  'shutdown-grace-ms': number;
  'max-connection-age-ms': number;
  'max-fps': number;
  'max-pixel-rate': number;
  'unauth-max-fps': number;
  'unauth-max-pixel-rate': number;
  'rate-burst-ms': number;
  'lower-class-share': number;
  'long-frame-ms': number;
  'log-burst': number;
  'metrics-port'?: number;
  'metrics-max-connections': number;
  'metrics-max-connections-per-ip': number;
  'metrics-host': string;
  'metrics-camera-ttl-ms': number;
  'log-format': LogFormat;
  'log-level': LogLevel;
  'log-totals-interval-ms': number;
  site?: string;
  'zone-publish-interval-ms': number;
  'events-file'?: string;
  'mqtt-url'?: string;
  'mqtt-topic-prefix': string;
  'mqtt-client-id'?: string;
  'mqtt-username'?: string;
  'mqtt-password-file'?: string;
  'mqtt-ca'?: string;
  'mqtt-max-queued-alerts': number;
  history: 'on' | 'off';
  'history-dir'?: string;
  'history-fine-hours': number;
  'history-days': number;
  'history-max-mb': number;
  'history-max-skew-s': number;
  'api-max-range-days': number;
  'api-max-points': number;
  'api-max-alerts': number;
}

export function toStartOptions(argv: ServerArgv, host: string, port: number): StartServerOptions {
  return {
    modelPath: serveModelPath(argv.model, argv.device),
    device: argv.device,
    workers: argv.workers,
    intraOpThreads: argv['intra-op-threads'],
    decodeThreads: argv['decode-threads'],
    workerNice: argv['worker-nice'],
    inputSize: argv['input-size'] ? parseSize(argv['input-size']) : undefined,
    inputPolicy: argv['input-policy'],
    inputSizeLimits: { maxTiles: argv['max-tiles'], maxInputPixels: argv['max-input-pixels'] },
    maxBatch: argv['max-batch'],
    maxBatchDelayMs: argv['max-batch-delay-ms'],
    metrics:
      argv['metrics-port'] === undefined
        ? undefined
        : {
            host: argv['metrics-host'],
            port: argv['metrics-port'],
            limits: { maxConnections: argv['metrics-max-connections'], maxConnectionsPerIp: argv['metrics-max-connections-per-ip'] },
          },
    imageLimits: { maxPixels: argv['max-frame-pixels'], maxScans: argv['max-jpeg-scans'], maxWork: argv['max-frame-work'] },
    logRateLimit: { ...DEFAULT_LOG_RATE_LIMIT, burst: argv['log-burst'] },
    totalsIntervalMs: argv['log-totals-interval-ms'],
    cameraSeriesTtlMs: argv['metrics-camera-ttl-ms'],
    security: securityFromArgv(argv),
    console: (() => {
      const settings = consoleFromArgv(argv);
      return settings && { settings };
    })(),
    sitePath: argv.site,
    zoneEvents: {
      countIntervalMs: argv['zone-publish-interval-ms'],
      eventsFile: argv['events-file'],
      mqtt:
        argv['mqtt-url'] === undefined
          ? undefined
          : {
              url: argv['mqtt-url'],
              topicPrefix: argv['mqtt-topic-prefix'],
              clientId: argv['mqtt-client-id'],
              username: argv['mqtt-username'],
              passwordFile: argv['mqtt-password-file'],
              caFile: argv['mqtt-ca'],
              maxQueuedAlerts: argv['mqtt-max-queued-alerts'],
            },
    },
    history:
      argv.history === 'off'
        ? undefined
        : {
            dir: argv['history-dir'],
            limits: {
              fineHours: argv['history-fine-hours'],
              days: argv['history-days'],
              maxBytes: Math.round(argv['history-max-mb'] * 1048576),
              maxSkewMs: Math.round(argv['history-max-skew-s'] * 1000),
            },
          },
    historyApi: { maxRangeS: Math.round(argv['api-max-range-days'] * 86_400), maxPoints: argv['api-max-points'], maxAlerts: argv['api-max-alerts'] },
    server: {
      host,
      port,
      overload: argv.overload,
      window: argv.window,
      maxWindow: argv['max-window'],
      maxQueue: argv['max-queue'],
      maxQueueBytes: argv['max-queue-bytes'],
      maxConnectionQueueBytes: argv['max-connection-queue-bytes'],
      maxConnections: argv['max-connections'],
      maxConnectionsPerIp: argv['max-connections-per-ip'],
      maxHandshakes: argv['max-handshakes'],
      maxHandshakesPerIp: argv['max-handshakes-per-ip'],
      maxFrameBytes: argv['max-frame-bytes'],
      handshakeTimeoutMs: argv['handshake-timeout-ms'],
      frameTimeoutMs: argv['frame-timeout-ms'],
      idleTimeoutMs: argv['idle-timeout-ms'],
      outputBufferHardBytes: argv['output-buffer-hard-bytes'],
      outputBufferSoftBytes: argv['output-buffer-soft-bytes'],
      outputBufferSoftMs: argv['output-buffer-soft-ms'],
      shutdownGraceMs: argv['shutdown-grace-ms'],
      maxConnectionAgeMs: argv['max-connection-age-ms'],
      maxFps: argv['max-fps'],
      maxPixelRate: argv['max-pixel-rate'],
      unauthMaxFps: argv['unauth-max-fps'],
      unauthMaxPixelRate: argv['unauth-max-pixel-rate'],
      rateBurstMs: argv['rate-burst-ms'],
      lowerClassShare: argv['lower-class-share'],
      longFrameMs: argv['long-frame-ms'],
    },
  };
}
