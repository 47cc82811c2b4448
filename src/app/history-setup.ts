/**
 * Composition of the history store for a server: opened before anything
 * listens, fed by the zone tracker, closed (pending seconds written) after
 * the last frame is answered. A directory that cannot be used fails the
 * start with its name; a full disk at start leaves the server serving
 * without history (a log line and crowdline_history_writing 0 say so).
 */
import os from 'node:os';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { LogSink } from '../log/logger.js';
import { HistoryMetrics } from '../metrics/history-metrics.js';
import { failureReason, HistoryStore } from '../history/store.js';
import { DEFAULT_HISTORY_LIMITS, type Clock, type HistoryLimits } from '../history/types.js';
import type { LineTracker } from '../lines/line-tracker.js';
import type { ZoneTracker } from '../zones/zone-tracker.js';

export interface HistoryOptions {
  /** Where history.db lives (default defaultHistoryDir()). */
  dir?: string;
  limits?: Partial<HistoryLimits>;
  /** Tests: a controlled clock and faster timers. */
  clock?: Clock;
  flushIntervalMs?: number;
  maintenanceIntervalMs?: number;
  retryMs?: number;
}

/**
 * The server's state directory: systemd's $STATE_DIRECTORY (StateDirectory=crowdline:
 * /var/lib/crowdline), else $XDG_STATE_HOME/crowdline, else ~/.local/state/crowdline.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(xdg, 'crowdline');
}

export function defaultHistoryDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultStateDir(env), 'history');
}

export class HistoryDirError extends Error {
  override name = 'HistoryDirError';
}

export function setUpHistory(
  options: HistoryOptions,
  deps: { tracker: ZoneTracker; lines?: LineTracker; log: LogSink; registry?: Registry },
): HistoryStore | undefined {
  const dir = options.dir ?? defaultHistoryDir();
  const limits = { ...DEFAULT_HISTORY_LIMITS, ...options.limits };
  let store: HistoryStore | undefined;
  const counters = deps.registry
    ? new HistoryMetrics(deps.registry, { writing: () => store?.writing ?? false, diskBytes: () => store?.diskBytes() ?? 0 })
    : undefined;
  try {
    store = HistoryStore.open({
      dir,
      limits,
      log: deps.log,
      clock: options.clock,
      counters,
      flushIntervalMs: options.flushIntervalMs,
      maintenanceIntervalMs: options.maintenanceIntervalMs,
      retryMs: options.retryMs,
    });
  } catch (err) {
    const reason = failureReason(err);
    if (reason === 'disk-full' || reason === 'io-error') {
      deps.log(`history: not started (${reason}: ${(err as Error).message}); serving without history`, {
        level: 'error',
        event: 'history-write-failed',
        reason,
      });
      counters?.writeFailed(reason);
      return undefined;
    }
    throw new HistoryDirError(`--history-dir ${dir}: ${(err as Error).message} (--history off runs without history)`);
  }
  deps.tracker.addListener(store.recorder);
  deps.lines?.addListener(store.lineRecorder);
  store.start();
  deps.log(
    `history: ${store.file} (seconds for ${limits.fineHours} h, minutes for ${limits.days} days, at most ${Math.round(limits.maxBytes / 1048576)} MiB)`,
    { event: 'history-open', file: store.file },
  );
  return store;
}
