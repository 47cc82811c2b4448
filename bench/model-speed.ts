/**
 * Model speed alone: ONNX Runtime session.run on one 768x576 frame (or
 * --size), batch 1, for each intra-op thread count. Feeds the model card.
 * A uint8 (folded) model's time includes its in-graph normalisation.
 *   node dist/bench/model-speed.js [--model m.onnx | crowdline-v2] [--size 768x576] [--threads 1,2] [--runs 50]
 */
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, modelPath } from '../src/app/paths.js';
import { parseSize } from '../src/cli/parse.js';
import { channelCount, resolveModel } from '../src/workers/manifest.js';
import { summarize } from './stats.js';

const argv = yargs(hideBin(process.argv))
  .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, coerce: modelPath, describe: MODEL_OPTION_HELP })
  .option('size', { type: 'string', default: '768x576' })
  .option('threads', { type: 'string', default: '1,2', describe: 'comma-separated intra-op thread counts' })
  .option('runs', { type: 'number', default: 50 })
  .strict()
  .parseSync();

const spec = resolveModel(argv.model);
const { width, height } = parseSize(argv.size);
const channels = channelCount(spec.manifest.input.channelOrder);
// A folded model (models/fold_input.py) takes raw NHWC bytes and normalises them itself.
const raw = spec.manifest.input.elementType === 'uint8';
const input = raw ? new Uint8Array(channels * width * height) : new Float32Array(channels * width * height);
for (let i = 0; i < input.length; i++) input[i] = raw ? Math.round(127.5 + 127.5 * Math.sin(i * 0.001)) : Math.sin(i * 0.001);
const tensor =
  input instanceof Uint8Array ? new ort.Tensor('uint8', input, [1, height, width, channels]) : new ort.Tensor('float32', input, [1, channels, height, width]);

for (const threads of argv.threads.split(',').map(Number)) {
  const session = await ort.InferenceSession.create(spec.onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = { [spec.manifest.input.name]: tensor };
  for (let i = 0; i < 5; i++) await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < argv.runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const s = summarize(times);
  console.log(
    `${spec.manifest.name} ${width}x${height} batch 1, ${threads} intra-op thread(s): ` +
      `median ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, min ${Math.min(...times).toFixed(1)} ms (${argv.runs} runs)`,
  );
  await session.release();
}
