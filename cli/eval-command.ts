import { writeFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { formatBands, parseBandEdges } from '../models/density-bands.js';
import { evaluate } from '../models/evaluate.js';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, modelPath } from '../src/app/paths.js';
import { parseSize } from '../src/common/parse.js';
import { DEFAULT_INPUT_SIZE_LIMITS, INPUT_SIZE_POLICIES, type InputSizePolicy } from '../src/workers/input-size.js';
import type { DeviceChoice } from '../src/workers/types.js';

interface EvalArgv {
  split: string;
  model: string;
  device: DeviceChoice;
  workers?: number;
  'intra-op-threads'?: number;
  'input-size'?: string;
  'input-policy': InputSizePolicy;
  'max-tiles': number;
  'max-input-pixels': number;
  bands: string;
  skip: number;
  limit?: number;
  csv?: string;
  json?: string;
}

export const evalCommand: CommandModule<object, EvalArgv> = {
  command: 'eval <split>',
  describe: "Measure a model (MAE, RMSE, per-image counts) on a dataset split through the server's own decode/resize/inference code",
  builder: (yargs: Argv) =>
    yargs
      .positional('split', { type: 'string', demandOption: true, describe: 'folder with images/ and points.json' })
      .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, coerce: modelPath, describe: MODEL_OPTION_HELP })
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- yargs infers the option's type from its default: without the assertion 'auto' widens to string and tsc rejects the builder
      .option('device', { choices: ['auto', 'cuda', 'cpu'] as const, default: 'auto' as DeviceChoice })
      .option('workers', { type: 'number' })
      .option('intra-op-threads', { type: 'number' })
      .option('input-size', { type: 'string', describe: 'network input WxH (default: the manifest preferred size)' })
      .option('input-policy', {
        choices: INPUT_SIZE_POLICIES,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- yargs infers the option's type from its default: without the assertion 'fixed' widens to string and tsc rejects the builder
        default: 'fixed' as InputSizePolicy,
        describe:
          'how a frame becomes network input: fixed (resized to the input size), native (its own size, rounded), tiled (tiles at its own resolution, stitched)',
      })
      .option('max-tiles', {
        type: 'number',
        default: DEFAULT_INPUT_SIZE_LIMITS.maxTiles,
        describe: 'tiled: most tiles per frame (a larger frame is scaled down to fit)',
      })
      .option('max-input-pixels', {
        type: 'number',
        default: DEFAULT_INPUT_SIZE_LIMITS.maxInputPixels,
        describe: 'native: most network-input pixels per frame (a larger frame is scaled down)',
      })
      .option('bands', { type: 'string', default: '100,500', describe: 'density band edges in people, for the error by true count' })
      .option('skip', { type: 'number', default: 0, describe: 'skip the first N images (sorted by name)' })
      .option('limit', { type: 'number', describe: 'evaluate at most N images' })
      .option('csv', { type: 'string', describe: 'write per-image results (file,truth,predicted,error) here' })
      .option('json', { type: 'string', describe: 'write the whole report as JSON here' })
      .example('$0 eval ../shared/datasets/shanghaitech-b/test', 'ShanghaiTech B test split')
      .example('$0 eval ../shared/datasets/beijing-brt/train --skip 600', 'the held-out tail of BRT train')
      .example('$0 eval ../shared/datasets/shanghaitech-a/test --model crowdline-v2 --input-policy tiled', "dense crowds, tiles at the frames' own resolution"),
  handler: async (argv) => {
    const bar = process.stderr.isTTY
      ? new SingleBar({ format: 'eval [{bar}] {value}/{total} images | {eta_formatted} left' }, Presets.shades_classic)
      : undefined;
    let started = false;
    const report = await evaluate({
      split: argv.split,
      modelPath: argv.model,
      device: argv.device,
      workers: argv.workers,
      intraOpThreads: argv['intra-op-threads'],
      inputSize: argv['input-size'] ? parseSize(argv['input-size']) : undefined,
      inputPolicy: argv['input-policy'],
      inputSizeLimits: { maxTiles: argv['max-tiles'], maxInputPixels: argv['max-input-pixels'] },
      bandEdges: parseBandEdges(argv.bands),
      skip: argv.skip,
      limit: argv.limit,
      onProgress: (done, total) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      },
    });
    bar?.stop();
    if (argv.csv) {
      const rows = report.results.map((r) => `${r.file},${r.truth},${r.predicted.toFixed(3)},${r.error.toFixed(3)}`);
      writeFileSync(argv.csv, ['file,truth,predicted,error', ...rows].join('\n') + '\n');
    }
    if (argv.json) writeFileSync(argv.json, JSON.stringify(report, null, 2) + '\n');
    for (const r of report.results) process.stdout.write(`${r.file}\ttruth ${r.truth}\tpredicted ${r.predicted.toFixed(1)}\n`);
    process.stdout.write(
      `\n${report.images} images from ${report.split}\n` +
        `MAE ${report.mae.toFixed(2)}  RMSE ${report.rmse.toFixed(2)}  bias ${report.bias >= 0 ? '+' : ''}${report.bias.toFixed(2)}  ` +
        `(mean true count ${report.meanTruth.toFixed(1)}; ${report.msPerImage.toFixed(1)} ms/image wall)\n` +
        `input policy ${report.inputPolicy}: worker time per image ${report.decodeMsPerImage.toFixed(1)} ms decode + ${report.inferMsPerImage.toFixed(1)} ms inference; ` +
        `peak memory ${report.maxRssMiB.toFixed(0)} MiB\n` +
        `${formatBands(report.bands)}\n`,
    );
  },
};
