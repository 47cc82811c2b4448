/**
 * Composition root for `crowdline serve` (and the in-process server of
 * `crowdline demo`): worker pool -> batcher -> TCP server.
 */
import type { InputSizeLimits, InputSizePolicy } from '../workers/input-size.js';
import type { AddressInfo } from 'node:net';
import { CrowdServer } from '../accept/server.js';
import type { ServerObserver } from '../accept/observer.js';
import type { ServerOptions } from '../accept/options.js';
import type { BatcherObserver } from '../batcher/batcher.js';
import { combineObservers } from '../metrics/combine.js';
import { startMetricsHttp, type MetricsHttp, type MetricsHttpLimits } from '../metrics/http.js';
import { RateLimitedLog, type RateLimitOptions } from '../log/rate-limited-log.js';
import { createLogger, type LogSink } from '../log/logger.js';
import { TotalsLog } from '../log/totals-log.js';
import { DEFAULT_JPEG_LIMITS, screenJpeg, type JpegLimits } from '../workers/jpeg-inspect.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { securityWarnings } from '../auth/posture.js';
import { setUpSecurity, type Security, type SecurityOptions } from '../auth/security.js';
import { WorkerPool } from '../workers/pool.js';
import { nativeResize, nativeResizeStatus } from '../workers/native-resize.js';
import type { DeviceChoice } from '../workers/types.js';
import { readServerFiles } from './server-files.js';
import { setUpZones, type ZoneEventOptions, type ZoneSetup } from './zones-setup.js';
import type { HistoryOptions } from './history-setup.js';
import type { HistoryStore } from '../history/store.js';
import { DEFAULT_API_LIMITS, HistoryApi, type ApiLimits } from '../history/api.js';
import { HISTORY_API_PATHS, serveHistoryApi } from '../history/http-routes.js';
import { createHub, startConsole, type RunningConsole } from '../console/console.js';
import type { ConsoleHub } from '../console/hub.js';
import { consoleExposureProblem, type ConsoleSettings } from '../console/options.js';
import type { StaticRoots } from '../console/static-files.js';
import { CONSOLE_WEB_ROOTS } from './paths.js';

export interface StartServerOptions {
  modelPath: string;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  /** Threads that only decode (see WorkerPool). */
  decodeThreads?: number;
  /** Nice the worker and decode threads add to the process's (see WorkerPool; default DEFAULT_WORKER_NICE). */
  workerNice?: number;
  inputSize?: { width: number; height: number };
  /** Policy of frames whose camera has none from the site file or the client (default fixed). */
  inputPolicy?: InputSizePolicy;
  /** Bounds on native and tiled frames (default DEFAULT_INPUT_SIZE_LIMITS). */
  inputSizeLimits?: Partial<InputSizeLimits>;
  maxBatch: number;
  maxBatchDelayMs: number;
  server: Partial<ServerOptions>;
  observer?: ServerObserver & BatcherObserver;
  /** Serve Prometheus metrics, /healthz and /readyz here (port 0: any free port). */
  metrics?: { host: string; port: number; limits?: Partial<MetricsHttpLimits> };
  /** Checked on every JPEG before decoding (default DEFAULT_JPEG_LIMITS). */
  imageLimits?: Partial<JpegLimits>;
  logRateLimit?: RateLimitOptions;
  /** Where log lines go (default: a pino logger on stderr, JSON unless stderr is a terminal). */
  log?: LogSink;
  /** A totals line this often (default DEFAULT_TOTALS_INTERVAL_MS; 0: none). */
  totalsIntervalMs?: number;
  /** Per-camera metric series go this long after the camera was last heard from (default DEFAULT_CAMERA_SERIES_TTL_MS). */
  cameraSeriesTtlMs?: number;
  /** Worker module override (tests inject failures with it). */
  workerFile?: URL;
  /** Tokens, TLS, legacy policy (docs/security.md). */
  security?: SecurityOptions;
  /** Site file with camera zones (docs/zones.md); reloaded by reload(). */
  sitePath?: string;
  /** Where zone counts and alerts go (MQTT, JSON lines); used only with sitePath. */
  zoneEvents?: ZoneEventOptions;
  /** Keep per-second zone history in SQLite (docs/history.md); used only with sitePath. Absent: no history. */
  history?: HistoryOptions;
  /** Limits of the history API (docs/api.md; default DEFAULT_API_LIMITS). */
  historyApi?: Partial<ApiLimits>;
  /** The operator's console (docs/console.md); absent: none. */
  console?: {
    settings: ConsoleSettings;
    /** Default: this checkout's build (CONSOLE_WEB_ROOTS). */
    roots?: StaticRoots;
    /** When the port is taken, take any free one instead of going without (the demo). */
    anyPortIfTaken?: boolean;
  };
}

export interface RunningServer {
  server: CrowdServer;
  pool: WorkerPool;
  address: AddressInfo;
  /** Present when options.metrics was given. */
  metrics?: { address: AddressInfo; registry: ServerMetrics['registry'] };
  /** Graceful: stop accepting, answer in-flight frames, stop workers. */
  close(): Promise<void>;
  /**
   * For load balancers (SIGTERM): /readyz says 503 at once, connections are
   * still accepted for delayMs so health checks notice, then close(). With
   * no metrics endpoint nothing can notice, so there is no delay.
   * onStopAccepting runs when the delay is over, just before close().
   */
  drain(delayMs: number, onStopAccepting?: () => void): Promise<void>;
  /** SIGHUP: re-read credentials, TLS files and the site file; open connections stay. Resolves to a log line. */
  reload(): Promise<string>;
  /** Zones of the site file (absent without one). */
  zones?: ZoneSetup;
  /** The history store (absent without a site file, with history off, or when it could not start). */
  history?: HistoryStore;
  /** The history API (docs/api.md) for the console's HTTP server to mount with serveHistoryApi (viewer role). */
  historyApi: HistoryApi;
  /** Present when options.console was given and its port could be bound. */
  console?: RunningConsole;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? createLogger().log;
  // Refused before anything loads: a console that would show every camera to the network without sign-in.
  const exposure = options.console && consoleExposureProblem(options.console.settings, options.security?.authFile !== undefined);
  if (exposure) throw new Error(exposure);
  // Every file (credentials, certificates, site file, MQTT password...) is read before anything
  // listens or loads, by the code `serve --dry-run` runs too: a bad file fails the start at once.
  const files = await readServerFiles(options);
  const metrics = options.metrics ? new ServerMetrics({ cameraSeriesTtlMs: options.cameraSeriesTtlMs }) : undefined;
  const totals = new TotalsLog(log, options.totalsIntervalMs);
  let server: CrowdServer | undefined;
  // TLS handshake failures come from peers: the same per-kind budget as every other peer-caused line.
  const tlsLog = new RateLimitedLog(log, options.logRateLimit);
  const security = setUpSecurity(options.security ?? {}, files.security, {
    handshakeTimeoutMs: options.server.handshakeTimeoutMs ?? 10_000,
    log: (line) => tlsLog.write('tls-handshake-failed', line),
    onRefused: (cause) => metrics?.authRefused(cause),
    adopt: (socket) => (server ? server.adopt(socket) : socket.destroy()),
  });
  let zones: ZoneSetup | undefined;
  if (options.sitePath && files.zones) {
    try {
      // Line steps go to the worker pool, started below (no frame, so no step, arrives before it is).
      zones = await setUpZones(
        options.sitePath,
        options.zoneEvents ?? {},
        { log, registry: metrics?.registry, motion: (job) => pool.runMotion(job) },
        files.zones,
      );
    } catch (err) {
      metrics?.stop();
      throw err;
    }
  }
  let history: HistoryStore | undefined;
  if (zones && options.history) {
    try {
      // Loaded only when asked for: the SQLite binding is native code that --history off never needs.
      const { setUpHistory } = await import('./history-setup.js');
      history = setUpHistory(options.history, { tracker: zones.tracker, lines: zones.lines, log, registry: metrics?.registry });
    } catch (err) {
      await zones.close();
      metrics?.stop();
      throw err;
    }
  }
  // Metrics before the model, so /healthz answers (and /readyz says 503) while models load.
  let metricsHttp: MetricsHttp | undefined;
  let draining = false;
  if (metrics && options.metrics) {
    metricsHttp = await startMetricsHttp({
      ...options.metrics,
      registry: metrics.registry,
      isReady: () => metrics.ready && !draining,
      unreadyReason: () => (draining ? 'draining' : 'model loading'),
    });
    log(`metrics on http://${metricsHttp.address.address}:${metricsHttp.address.port}/metrics (/healthz, /readyz)`, {
      event: 'metrics-listening',
      address: `${metricsHttp.address.address}:${metricsHttp.address.port}`,
    });
  }
  const stopMetrics = async (): Promise<void> => {
    // After the last frame was answered: its seconds are written before the file closes.
    history?.close();
    tlsLog.flush();
    await zones?.close();
    metrics?.stop();
    await metricsHttp?.close();
  };
  // The same limits for the main thread's screen and the workers' full check.
  const imageLimits: JpegLimits = { ...DEFAULT_JPEG_LIMITS, ...options.imageLimits };
  let pool: WorkerPool;
  try {
    pool = await WorkerPool.start({
      modelPath: options.modelPath,
      device: options.device,
      workers: options.workers,
      intraOpThreads: options.intraOpThreads,
      decodeThreads: options.decodeThreads,
      workerNice: options.workerNice,
      maxBatch: options.maxBatch,
      inputSize: options.inputSize,
      inputPolicy: options.inputPolicy,
      inputSizeLimits: options.inputSizeLimits,
      imageLimits,
      log,
      workerFile: options.workerFile,
    });
  } catch (err) {
    await stopMetrics();
    throw err;
  }
  const manifest = pool.spec.manifest;
  // The console's hub sees answered frames (and the zones' alerts) from the start; its page comes up below.
  const hub = options.console ? createHub(options.console.settings, zones?.tracker, log, zones?.lines) : undefined;
  if (hub) zones?.tracker.addListener(hub);
  server = new CrowdServer({
    runner: pool,
    model: () => ({
      name: manifest.name,
      provider: pool.provider,
      inputWidth: pool.inputWidth,
      inputHeight: pool.inputHeight,
      outputStride: manifest.output.stride,
    }),
    options: options.server,
    batching: { maxBatch: options.maxBatch, maxDelayMs: options.maxBatchDelayMs },
    observer: combineObservers(options.observer, metrics, totals),
    log,
    logRateLimit: options.logRateLimit,
    gate: security.gate,
    screen: (jpeg) => {
      const verdict = screenJpeg(jpeg, imageLimits);
      return 'rejected' in verdict ? { refused: { reason: verdict.rejected.message, cause: verdict.rejected.reason } } : verdict;
    },
    route: security.route,
    zones: zones?.tracker,
    lines: zones?.lines,
    tap: hub,
  });
  const crowd = server;
  let address: AddressInfo;
  try {
    address = await crowd.listen();
  } catch (err) {
    await pool.close();
    await stopMetrics();
    throw err;
  }
  // Bound only now, so /readyz is true once workers are loaded AND the port is open.
  metrics?.bind({
    queueDepth: () => crowd.batcher.queueDepth,
    queueBytes: () => crowd.batcher.queueBytes,
    runningBatches: () => crowd.batcher.runningBatches,
    readyWorkers: () => pool.readyWorkers,
    poolSize: () => pool.size,
    connections: () => crowd.connectionCount,
  });
  totals.start({ connections: () => crowd.connectionCount, queueDepth: () => crowd.batcher.queueDepth });
  // Only the uint8 fast path resizes in C; say which loop it got (a missing build is slower, not broken), and whether it runs inside the decode (native/decode-resize.c).
  const fused = nativeResize()?.decodeResizeU8 !== undefined ? ' in one pass with the decode' : '';
  const resize = manifest.input.elementType === 'uint8' ? `${nativeResizeStatus()}${fused}` : 'float path';
  log(
    `crowdline serving ${manifest.name} on ${address.address}:${address.port} ` +
      `(${pool.size} worker(s) x ${pool.intraOpThreads} thread(s) on ${pool.provider}, ${pool.decodeThreads > 0 ? `${pool.decodeThreads} decode thread(s)` : 'decoding in the workers'}, input ${pool.inputWidth}x${pool.inputHeight}, resize ${resize}, ` +
      `max batch ${options.maxBatch}, overload ${crowd.options.overload}${security.tls ? ', TLS' : ''}${security.authRequired ? ', auth required' : ''})`,
    {
      event: 'serving',
      model: manifest.name,
      address: `${address.address}:${address.port}`,
      workers: pool.size,
      provider: pool.provider,
      resize,
      max_batch: options.maxBatch,
      overload: crowd.options.overload,
      tls: security.tls,
      auth: security.authRequired,
    },
  );
  const warnings = securityWarnings({
    host: address.address,
    port: address.port,
    authRequired: security.authRequired,
    tls: security.tls,
    legacy: security.legacy,
    metricsHost: metricsHttp?.address.address,
  });
  for (const line of warnings) log(line, { level: 'warn', event: 'security-warning' });
  const reload = async (): Promise<string> => {
    // The site first: a failing credentials reload must not keep new zones from clients.
    const site = await zones?.reload();
    if (site?.changed) {
      crowd.zonesChanged();
      hub?.siteChanged();
    }
    const rest = await security.reload().catch((err: Error) => {
      if (!site) throw err;
      return `credentials/TLS reload failed, keeping the previous ones: ${err.message}`;
    });
    await consoleRunning?.http
      .reload()
      .catch((err: Error) => log(`console: TLS reload failed, keeping the previous certificate: ${err.message}`, { level: 'error', event: 'reload' }));
    if (!site) return rest;
    return rest === 'nothing to reload' ? site.line : `${site.line}; ${rest}`;
  };
  const consoleRunning = hub && options.console ? await openConsole(options.console, hub, security, log, reload, options.sitePath) : undefined;
  const historyApi = new HistoryApi({
    site: () => zones?.tracker.config,
    store: history,
    clock: { now: () => Date.now() },
    limits: { ...DEFAULT_API_LIMITS, ...options.historyApi },
  });
  // The history API on the console's port, for signed-in viewers and admins (docs/api.md).
  for (const path of HISTORY_API_PATHS) {
    consoleRunning?.http.router.add({
      method: 'GET',
      path,
      access: 'viewer',
      maxBodyBytes: 0,
      handler: (ctx) => {
        const served = serveHistoryApi(historyApi, ctx.req, ctx.res, (err) =>
          log(`history API: ${err.message}`, { level: 'error', event: 'history-read-failed' }),
        );
        if (!served) ctx.sendJson(404, { error: 'not found' });
      },
    });
  }
  const close = async (): Promise<void> => {
    totals.stop();
    await consoleRunning?.close();
    await crowd.close();
    await crowd.batcher.whenIdle();
    await pool.close();
    await stopMetrics();
  };
  return {
    server: crowd,
    pool,
    address,
    metrics: metrics && metricsHttp ? { address: metricsHttp.address, registry: metrics.registry } : undefined,
    reload,
    console: consoleRunning,
    close,
    zones,
    history,
    historyApi,
    drain: async (delayMs, onStopAccepting) => {
      draining = true;
      if (metricsHttp && delayMs > 0) {
        log(`draining: /readyz says 503; still accepting for ${delayMs} ms so load balancers move new connections away`, {
          event: 'draining',
          delay_ms: delayMs,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      onStopAccepting?.();
      await close();
    },
  };
}

/**
 * Starts the console's listener. A port that cannot be bound does not stop
 * the server (counting goes on; the log says why); the demo takes any free
 * port instead.
 */
async function openConsole(
  console: NonNullable<StartServerOptions['console']>,
  hub: ConsoleHub,
  security: Security,
  log: LogSink,
  reload: () => Promise<string>,
  sitePath: string | undefined,
): Promise<RunningConsole | undefined> {
  const start = (port: number): Promise<RunningConsole> =>
    startConsole({
      settings: { ...console.settings, port },
      hub,
      roots: console.roots ?? CONSOLE_WEB_ROOTS,
      tokens: security.tokens,
      tls: security.tlsFiles,
      log,
      reload,
      sitePath,
    });
  let running: RunningConsole;
  try {
    running = await start(console.settings.port).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && console.anyPortIfTaken) return start(0);
      throw err;
    });
  } catch (err) {
    log(
      `console NOT started on ${console.settings.host}:${console.settings.port}: ${(err as Error).message} (frames are served as usual; set --console-port, or --no-console)`,
      {
        level: 'error',
        event: 'console-failed',
      },
    );
    return undefined;
  }
  const a = running.http.address;
  log(
    `console on ${running.url} (${console.settings.video === 'on' ? 'video' : 'privacy mode: no camera pixels'}, ${console.settings.fps} fps per camera${security.tokens ? ', sign-in required' : ''})`,
    {
      event: 'console-listening',
      address: `${a.address}:${a.port}`,
      url: running.url,
    },
  );
  if (security.tokens && security.tokens.consoleIdentities() === 0) {
    log('console: nobody can sign in yet: add a viewer or admin to the credentials file (crowdline auth add NAME --role viewer) and send SIGHUP', {
      level: 'warn',
      event: 'console-no-identities',
    });
  }
  return running;
}
