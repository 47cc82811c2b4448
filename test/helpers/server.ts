/** Starts real servers on loopback for tests. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { CrowdServer } from '../../src/accept/server.js';
import type { ServerOptions } from '../../src/accept/options.js';
import type { ServerObserver } from '../../src/accept/observer.js';
import type { FrameScreen, ZoneSource } from '../../src/accept/session-deps.js';
import type { ConnectionGate } from '../../src/accept/gate.js';
import type { ResultTap } from '../../src/accept/result-tap.js';
import type { BatchRunner } from '../../src/batcher/types.js';
import type { JpegLimits } from '../../src/workers/jpeg-inspect.js';
import type { RateLimitOptions } from '../../src/log/rate-limited-log.js';
import type { LogSink } from '../../src/log/logger.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/app/start-server.js';
import { writeKnownAnswerModel, type WrittenModel } from './onnx-builder.js';

export function tempDir(prefix = 'crowdline-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function knownAnswerModel(
  options: { channels?: 1 | 3; width?: number; height?: number; stride?: number; unusedInitializer?: boolean } = {},
): WrittenModel {
  return writeKnownAnswerModel(tempDir(), 'known-answer', {
    unusedInitializer: options.unusedInitializer,
    channels: options.channels ?? 1,
    stride: options.stride ?? 8,
    width: options.width ?? 64,
    height: options.height ?? 48,
  });
}

const quiet = (): void => undefined;

/**
 * Rate caps off: tests send as fast as the machine allows, far above any
 * camera's rate. The tests of the caps themselves (rate-caps) set them.
 */
export const NO_RATE_CAPS: Partial<ServerOptions> = { maxFps: 0, maxPixelRate: 0, unauthMaxFps: 0, unauthMaxPixelRate: 0 };

/** Real pool + server on 127.0.0.1 with an ephemeral port; closed after the test. */
export async function startKnownAnswerServer(
  t: ExecutionContext,
  options: {
    model?: WrittenModel;
    channels?: 1 | 3;
    workers?: number;
    decodeThreads?: number;
    maxBatch?: number;
    server?: Partial<ServerOptions>;
    workerFile?: URL;
    metrics?: boolean;
    log?: LogSink;
    imageLimits?: Partial<JpegLimits>;
    security?: StartServerOptions['security'];
  } = {},
): Promise<RunningServer> {
  const model = options.model ?? knownAnswerModel({ channels: options.channels });
  const running = await startServer({
    modelPath: model.onnxPath,
    device: 'cpu',
    workers: options.workers ?? 1,
    decodeThreads: options.decodeThreads,
    intraOpThreads: 1,
    maxBatch: options.maxBatch ?? 1,
    maxBatchDelayMs: 2,
    server: { host: '127.0.0.1', port: 0, ...NO_RATE_CAPS, ...options.server },
    imageLimits: options.imageLimits,
    log: options.log ?? quiet,
    workerFile: options.workerFile,
    security: options.security,
    metrics: options.metrics ? { host: '127.0.0.1', port: 0 } : undefined,
  });
  t.teardown(() => running.close());
  return running;
}

/** Server over any BatchRunner (fakes that finish out of order, slow ones...). */
export async function startServerWithRunner(
  t: ExecutionContext,
  runner: BatchRunner,
  options: {
    server?: Partial<ServerOptions>;
    maxBatch?: number;
    observer?: ServerObserver;
    log?: LogSink;
    logRateLimit?: RateLimitOptions;
    screen?: FrameScreen;
    gate?: ConnectionGate;
    rateClock?: () => number;
    zones?: ZoneSource;
    tap?: ResultTap;
  } = {},
): Promise<{ server: CrowdServer; port: number }> {
  const server = new CrowdServer({
    runner,
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0, ...NO_RATE_CAPS, ...options.server },
    batching: { maxBatch: options.maxBatch ?? 1, maxDelayMs: 1 },
    observer: options.observer,
    log: options.log ?? quiet,
    logRateLimit: options.logRateLimit,
    screen: options.screen,
    gate: options.gate,
    rateClock: options.rateClock,
    zones: options.zones,
    tap: options.tap,
  });
  const address = await server.listen();
  t.teardown(() => server.close());
  return { server, port: address.port };
}
