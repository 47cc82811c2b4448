/** `crowdline bench`: load test against the machine's own limit (see bench/run.ts). */
import { execFileSync } from 'node:child_process';
import cliProgress from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { runBench, type ProgressSink } from '../bench/run.js';
import { limitsTable, pointsTable, targetsTable, tlsTable } from '../bench/table.js';
import { preprocessingTable, servedVsPureTable, simulatedDeviceTable } from '../bench/host-table.js';
import type { OverloadPolicy } from '../src/accept/options.js';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, SAMPLE_VIDEO, modelPath } from '../src/app/paths.js';
import type { DensityFormatName } from '../src/framing/index.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { parseHostPort, parseSize } from '../src/common/parse.js';

interface BenchArgv {
  connect?: string;
  'metrics-url'?: string;
  model: string;
  device: DeviceChoice;
  workers?: number;
  'intra-op-threads'?: number;
  'decode-threads'?: number;
  'input-size'?: string;
  'max-batch': string;
  'max-batch-delay-ms': number;
  cameras: string;
  window: number;
  duration: number;
  warmup: number;
  'limit-seconds': number;
  'single-seconds': number;
  'pure-seconds'?: number;
  preprocessing: boolean;
  'sim-device': string;
  'sim-batches': string;
  'sim-seconds': number;
  'sim-decode-threads'?: number;
  'open-load': number;
  'open-cameras': number;
  'open-window': number;
  'open-overload': string;
  'max-pending': number;
  source: string;
  frames: number;
  'jpeg-quality': number;
  density: DensityFormatName;
  out: string;
  'limit-only': boolean;
  tls: boolean;
}

/**
 * crowdline-v1 on a Titan RTX-class GPU, TensorRT FP16, scaled by FLOPs from
 * a published ResNet-50 figure (docs/performance.md, "Simulated accelerator").
 */
const SIM_DEVICE_DEFAULT = '0.3,0.22';

function deviceModel(text: string): { aMs: number; bMs: number } {
  const [a, b, ...rest] = text.split(',').map((s) => Number(s.trim()));
  if (rest.length > 0 || !Number.isFinite(a) || !Number.isFinite(b) || a < 0 || b <= 0)
    throw new Error(`--sim-device wants "A,B" (ms, A >= 0, B > 0), got "${text}"`);
  return { aMs: a, bMs: b };
}

const numberList = (text: string): number[] => {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`expected a comma-separated list of positive integers, got "${text}"`);
  return values;
};

const policyList = (text: string): OverloadPolicy[] =>
  text.split(',').map((s) => {
    const p = s.trim();
    if (p !== 'queue' && p !== 'drop-oldest') throw new Error(`overload policy must be queue or drop-oldest, got "${p}"`);
    return p;
  });

export const benchCommand: CommandModule<object, BenchArgv> = {
  command: 'bench',
  describe: "Load test: simulated cameras over TCP, measured against the worker pool's own limit",
  builder: (yargs: Argv) =>
    yargs
      .option('connect', { type: 'string', describe: 'HOST:PORT of a running server (default: start one as a child process)', group: 'Target:' })
      .option('metrics-url', { type: 'string', describe: 'with --connect: its /metrics URL (for event-loop delay and memory)', group: 'Target:' })
      .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, coerce: modelPath, describe: MODEL_OPTION_HELP, group: 'Server and limit:' })
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- yargs infers the option's type from its default: without the assertion 'auto' widens to string and tsc rejects the builder
      .option('device', { choices: ['auto', 'cuda', 'cpu'] as const, default: 'auto' as DeviceChoice, group: 'Server and limit:' })
      .option('workers', { type: 'number', group: 'Server and limit:' })
      .option('intra-op-threads', { type: 'number', group: 'Server and limit:' })
      .option('decode-threads', { type: 'number', describe: "threads that only decode (server and limit; default: the server's)", group: 'Server and limit:' })
      .option('input-size', { type: 'string', describe: 'network input WxH', group: 'Server and limit:' })
      .option('max-batch', { type: 'string', default: '1,8', describe: 'max-batch settings to compare (1 = batching off)', group: 'Server and limit:' })
      .option('max-batch-delay-ms', { type: 'number', default: 2, group: 'Server and limit:' })
      .option('cameras', { type: 'string', default: '1,2,4,8,16', describe: 'closed-loop camera counts', group: 'Load:' })
      .option('window', { type: 'number', default: 4, describe: 'closed loop: frames in flight per camera', group: 'Load:' })
      .option('duration', { type: 'number', default: 15, describe: 'measured seconds per point', group: 'Load:' })
      .option('warmup', { type: 'number', default: 3, describe: 'seconds before each measurement', group: 'Load:' })
      .option('limit-seconds', { type: 'number', default: 8, describe: 'seconds of full-batch running for the limit', group: 'Load:' })
      .option('single-seconds', { type: 'number', default: 3, describe: 'seconds of one-frame-at-a-time running for the latency floor', group: 'Load:' })
      .option('pure-seconds', {
        type: 'number',
        describe: 'seconds of pure inference (same sessions, pre-made tensor) per limit; default --limit-seconds, 0 skips',
        group: 'Load:',
      })
      .option('preprocessing', {
        type: 'boolean',
        default: true,
        describe: "measure decode + preprocessing per frame (frames' size and 1920x1080); --no-preprocessing skips",
        group: 'Host path:',
      })
      .option('sim-device', {
        type: 'string',
        default: SIM_DEVICE_DEFAULT,
        describe: 'simulated accelerator "A,B": a batch of N takes A + B*N ms (docs/performance.md says where the default comes from); "none" skips',
        group: 'Host path:',
      })
      .option('sim-batches', { type: 'string', default: '8,16', describe: 'batch sizes to feed the simulated device', group: 'Host path:' })
      .option('sim-seconds', { type: 'number', default: 8, describe: 'seconds per simulated-device batch size', group: 'Host path:' })
      .option('sim-decode-threads', { type: 'number', describe: 'decode threads feeding the simulated device (default: one per core)', group: 'Host path:' })
      .option('open-load', { type: 'number', default: 2, describe: 'open loop: offered load as a multiple of the limit (0: skip)', group: 'Open loop:' })
      .option('open-cameras', { type: 'number', default: 4, group: 'Open loop:' })
      .option('open-window', { type: 'number', default: 1, describe: 'window each open-loop camera asks for', group: 'Open loop:' })
      .option('open-overload', { type: 'string', default: 'drop-oldest,queue', describe: 'overload policies to run the open loop under', group: 'Open loop:' })
      .option('max-pending', { type: 'number', default: 32, describe: 'open loop: a camera skips a frame when this many are unanswered', group: 'Open loop:' })
      .option('source', { type: 'string', default: SAMPLE_VIDEO, describe: 'video, folder of .jpg files, or one .jpg', group: 'Frames:' })
      .option('frames', { type: 'number', default: 100, describe: 'frames to pre-encode', group: 'Frames:' })
      .option('jpeg-quality', { type: 'number', default: 85, group: 'Frames:' })
      .option('density', {
        choices: ['f32', 'f16', 'u8', 'none'] as const,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- as for --device: the default's type is the option's type
        default: 'f32' as DensityFormatName,
        describe: 'density map format the cameras ask for',
        group: 'Frames:',
      })
      .option('limit-only', {
        type: 'boolean',
        default: false,
        describe: 'only measure the worker pool limit (compare --workers / --intra-op-threads)',
        group: 'Load:',
      })
      .option('tls', {
        type: 'boolean',
        default: false,
        describe: 'measure TLS: every closed-loop point loads a plain and a TLS server (throwaway certificate) at the same time',
        group: 'Load:',
      })
      .option('out', { type: 'string', default: 'bench-results', describe: 'folder for the JSON result and the SVG chart', group: 'Output:' })
      .example('$0 bench', 'full sweep: 1-16 cameras, batching off and on, open loop at 2x the limit')
      .example('$0 bench --cameras 8 --max-batch 1 --duration 5 --open-load 0', 'one quick point'),
  handler: async (argv) => {
    const connect = argv.connect ? { ...parseHostPort(argv.connect), metricsUrl: argv['metrics-url'] } : undefined;
    if (connect && !['127.0.0.1', 'localhost', '::1'].includes(connect.host)) {
      process.stderr.write(`note: the limit is measured on this machine; it describes ${connect.host} only if that is the same hardware and settings\n`);
    }
    const { report, jsonPath, chartPath } = await runBench({
      connect,
      model: argv.model,
      device: argv.device,
      workers: argv.workers,
      intraOpThreads: argv['intra-op-threads'],
      decodeThreads: argv['decode-threads'],
      inputSize: argv['input-size'] ? parseSize(argv['input-size']) : undefined,
      maxBatches: numberList(argv['max-batch']),
      maxBatchDelayMs: argv['max-batch-delay-ms'],
      cameras: numberList(argv.cameras),
      window: argv.window,
      durationS: argv.duration,
      warmupS: argv.warmup,
      limitS: argv['limit-seconds'],
      singleS: argv['single-seconds'],
      pureS: argv['pure-seconds'],
      preprocessing: argv.preprocessing,
      simulatedDevice:
        argv['sim-device'] === 'none'
          ? null
          : {
              device: deviceModel(argv['sim-device']),
              batches: numberList(argv['sim-batches']),
              durationS: argv['sim-seconds'],
              decodeThreads: argv['sim-decode-threads'],
            },
      open:
        argv['open-load'] > 0
          ? {
              loadFactor: argv['open-load'],
              cameras: argv['open-cameras'],
              window: argv['open-window'],
              policies: policyList(argv['open-overload']),
              maxPending: argv['max-pending'],
            }
          : null,
      limitOnly: argv['limit-only'],
      tls: argv.tls,
      source: argv.source,
      frameCount: argv.frames,
      jpegQuality: argv['jpeg-quality'],
      densityFormat: argv.density,
      outDir: argv.out,
      otherLoad: otherLoad(),
      log: (line) => process.stderr.write(`${line}\n`),
      progress: progressBar(),
    });
    process.stdout.write(`\n## Limit (worker pool alone)\n\n${limitsTable(report)}\n\n## Points\n\n${pointsTable(report)}\n\n`);
    process.stdout.write(
      `## Served vs pure inference (same run)\n\n${servedVsPureTable(report)}\n\n## Decode and preprocessing per frame\n\n${preprocessingTable(report)}\n\n`,
    );
    process.stdout.write(
      `## Simulated accelerator\n\n${simulatedDeviceTable(report)}\n\nload average (1/5/15 min): ${report.loadAverage?.start.join(' ')} at start, ${report.loadAverage?.end.join(' ')} at end\n\n`,
    );
    process.stdout.write(`## Targets\n\n${targetsTable(report)}\n\n`);
    if (argv.tls) process.stdout.write(`## TLS cost (same run)\n\n${tlsTable(report)}\n\n`);
    if (jsonPath) process.stdout.write(`results: ${jsonPath}\nchart:   ${chartPath}\n`);
  },
};

/** One bar per point, on stderr so stdout stays the tables. */
function progressBar(): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(name, totalS) {
      bar = new cliProgress.SingleBar(
        { format: `${name.padEnd(28)} [{bar}] {value}/{total} s | {ok} ok frames`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.round(totalS), 0, { ok: 0 });
    },
    update(elapsedS, ok) {
      bar?.update(Math.min(bar.getTotal(), Math.round(elapsedS)), { ok });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** Other CPU-heavy work on the machine skews every figure; say so in the report. */
function otherLoad(): string {
  try {
    const out = execFileSync('pgrep', ['-fa', 'train.py'], { encoding: 'utf8' }).trim();
    return out ? `model training running during the bench: ${out.split('\n')[0]}` : 'none known';
  } catch {
    return 'none known';
  }
}
