/**
 * Composition root for `crowdline serve` (and the in-process server of
 * `crowdline demo`): worker pool -> batcher -> TCP server.
 */
import type { AddressInfo } from 'node:net';
import { CrowdServer } from '../accept/server.js';
import type { ServerObserver } from '../accept/observer.js';
import type { ServerOptions } from '../accept/options.js';
import type { BatcherObserver } from '../batcher/batcher.js';
import { WorkerPool } from '../workers/pool.js';
import type { DeviceChoice } from '../workers/types.js';

export interface StartServerOptions {
  modelPath: string;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  inputSize?: { width: number; height: number };
  maxBatch: number;
  maxBatchDelayMs: number;
  server: Partial<ServerOptions>;
  observer?: ServerObserver & BatcherObserver;
  log?: (line: string) => void;
}

export interface RunningServer {
  server: CrowdServer;
  pool: WorkerPool;
  address: AddressInfo;
  /** Graceful: stop accepting, answer in-flight frames, stop workers. */
  close(): Promise<void>;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const pool = await WorkerPool.start({
    modelPath: options.modelPath,
    device: options.device,
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
    inputSize: options.inputSize,
    log,
  });
  const manifest = pool.spec.manifest;
  const server = new CrowdServer({
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
    observer: options.observer,
    log,
  });
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    await pool.close();
    throw err;
  }
  log(
    `crowdline serving ${manifest.name} on ${address.address}:${address.port} ` +
      `(${pool.size} worker(s) x ${pool.intraOpThreads} thread(s) on ${pool.provider}, input ${pool.inputWidth}x${pool.inputHeight}, ` +
      `max batch ${options.maxBatch}, overload ${server.options.overload})`,
  );
  return {
    server,
    pool,
    address,
    close: async () => {
      await server.close();
      await server.batcher.whenIdle();
      await pool.close();
    },
  };
}
