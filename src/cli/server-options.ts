/** yargs options shared by every command that starts a server. */
import os from 'node:os';
import type { Argv } from 'yargs';
import { DEFAULT_SERVER_OPTIONS, type OverloadPolicy } from '../accept/options.js';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, modelPath } from '../app/paths.js';
import type { StartServerOptions } from '../app/start-server.js';
import type { DeviceChoice } from '../workers/types.js';
import { parseSize } from './parse.js';

export function withServerOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, coerce: modelPath, describe: MODEL_OPTION_HELP, group: 'Model:' })
    .option('device', { choices: ['auto', 'cuda', 'cpu'] as const, default: 'auto' as DeviceChoice, describe: 'auto tries CUDA, then CPU', group: 'Model:' })
    .option('workers', { type: 'number', describe: `worker threads, one ONNX session each (default: one per core on CPU, ${os.availableParallelism()} here; 2 on CUDA)`, group: 'Model:' })
    .option('intra-op-threads', { type: 'number', describe: 'ONNX Runtime threads per CPU session (default 1: several single-threaded sessions beat one wide one; 2 lowers single-frame latency)', group: 'Model:' })
    .option('input-size', { type: 'string', describe: 'network input WxH (default: the manifest preferred size)', group: 'Model:' })
    .option('max-batch', { type: 'number', default: 1, describe: 'largest batch of frames (from any connections) per session call', group: 'Batching:' })
    .option('max-batch-delay-ms', { type: 'number', default: 2, describe: 'how long a partial batch may wait for more frames', group: 'Batching:' })
    .option('overload', {
      choices: ['queue', 'drop-oldest'] as const,
      default: DEFAULT_SERVER_OPTIONS.overload as OverloadPolicy,
      describe: 'queue: backpressure, nothing dropped (files); drop-oldest: answer the oldest waiting frame "dropped", keep the newest (live cameras)',
      group: 'Limits:',
    })
    .option('window', { type: 'number', default: DEFAULT_SERVER_OPTIONS.window, describe: 'default frames in flight per connection', group: 'Limits:' })
    .option('max-window', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxWindow, describe: 'most frames in flight a client may ask for', group: 'Limits:' })
    .option('max-queue', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxQueue, describe: 'frames waiting for a worker across all connections; when full, every connection pauses', group: 'Limits:' })
    .option('max-connections', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxConnections, group: 'Limits:' })
    .option('max-frame-bytes', { type: 'number', default: DEFAULT_SERVER_OPTIONS.maxFrameBytes, describe: 'largest JPEG accepted', group: 'Limits:' })
    .option('handshake-timeout-ms', { type: 'number', default: DEFAULT_SERVER_OPTIONS.handshakeTimeoutMs, group: 'Limits:' })
    .option('idle-timeout-ms', { type: 'number', default: DEFAULT_SERVER_OPTIONS.idleTimeoutMs, group: 'Limits:' })
    .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics, /healthz and /readyz on this port (same host as the server; 0: any free port)', group: 'Metrics:' });
}

export interface ServerArgv {
  model: string;
  device: DeviceChoice;
  workers?: number;
  'intra-op-threads'?: number;
  'input-size'?: string;
  'max-batch': number;
  'max-batch-delay-ms': number;
  overload: OverloadPolicy;
  window: number;
  'max-window': number;
  'max-queue': number;
  'max-connections': number;
  'max-frame-bytes': number;
  'handshake-timeout-ms': number;
  'idle-timeout-ms': number;
  'metrics-port'?: number;
}

export function toStartOptions(argv: ServerArgv, host: string, port: number): StartServerOptions {
  return {
    modelPath: argv.model,
    device: argv.device,
    workers: argv.workers,
    intraOpThreads: argv['intra-op-threads'],
    inputSize: argv['input-size'] ? parseSize(argv['input-size']) : undefined,
    maxBatch: argv['max-batch'],
    maxBatchDelayMs: argv['max-batch-delay-ms'],
    metrics: argv['metrics-port'] === undefined ? undefined : { host, port: argv['metrics-port'] },
    server: {
      host,
      port,
      overload: argv.overload,
      window: argv.window,
      maxWindow: argv['max-window'],
      maxQueue: argv['max-queue'],
      maxConnections: argv['max-connections'],
      maxFrameBytes: argv['max-frame-bytes'],
      handshakeTimeoutMs: argv['handshake-timeout-ms'],
      idleTimeoutMs: argv['idle-timeout-ms'],
    },
  };
}
