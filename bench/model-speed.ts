/**
 * Model speed alone: ONNX Runtime session.run on one 768x576 frame (or
 * --size), batch 1, for each intra-op thread count. Feeds the model card.
 * A uint8 (folded) model's time includes its in-graph normalisation.
 *   node dist/bench/model-speed.js [--model m.onnx | crowdline-v2[,crowdline-v1,...]] [--size 768x576] [--threads 1,2] [--runs 50]
 *
 * Several models (comma-separated) are timed interleaved, in blocks of
 * --block runs of each in turn, so a machine whose speed drifts (other
 * tenants, clocks) slows them alike; each line also gives the ratio to the
 * first model's median. Blocks, not single runs, and a pause between them:
 * an idle session's intra-op threads spin-wait after its run, and alternating
 * run by run measured v1 at 48 ms instead of 22 (2 threads).
 */
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, modelPath } from '../src/app/paths.js';
import { parseSize } from '../src/common/parse.js';
import { channelCount, resolveModel, type ModelSpec } from '../src/workers/manifest.js';
import ort from '../src/workers/ort.js';
import { summarize } from './stats.js';

const argv = yargs(hideBin(process.argv))
  .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, describe: `${MODEL_OPTION_HELP}; several, comma-separated, are interleaved` })
  .option('size', { type: 'string', default: '768x576' })
  .option('threads', { type: 'string', default: '1,2', describe: 'comma-separated intra-op thread counts' })
  .option('runs', { type: 'number', default: 50 })
  .option('block', { type: 'number', default: 10, describe: 'with several models: runs of one model before the next' })
  .strict()
  .parseSync();

let specs: ModelSpec[];
try {
  specs = argv.model.split(',').map((m) => resolveModel(modelPath(m.trim())));
} catch (err) {
  console.error(`model-speed: ${(err as Error).message}`);
  process.exit(2);
}
const { width, height } = parseSize(argv.size);

/** A deterministic frame in the layout and element type the model's manifest asks for. */
function inputFor(spec: ModelSpec): ort.Tensor {
  const channels = channelCount(spec.manifest.input.channelOrder);
  // A folded model (models/fold_input.py) takes raw NHWC bytes and normalises them itself.
  if (spec.manifest.input.elementType === 'uint8') {
    const bytes = new Uint8Array(channels * width * height);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(127.5 + 127.5 * Math.sin(i * 0.001));
    return new ort.Tensor('uint8', bytes, [1, height, width, channels]);
  }
  const floats = new Float32Array(channels * width * height);
  for (let i = 0; i < floats.length; i++) floats[i] = Math.sin(i * 0.001);
  return new ort.Tensor('float32', floats, [1, channels, height, width]);
}

const inputs = specs.map(inputFor);

for (const threads of argv.threads.split(',').map(Number)) {
  const runs = await Promise.all(
    specs.map(async (spec, k) => ({
      spec,
      session: await ort.InferenceSession.create(spec.onnxPath, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      }),
      feeds: { [spec.manifest.input.name]: inputs[k] },
      times: [] as number[],
    })),
  );
  for (const r of runs) for (let i = 0; i < 5; i++) await r.session.run(r.feeds); // warm-up
  while (runs[0].times.length < argv.runs) {
    for (const r of runs) {
      if (runs.length > 1) await new Promise((resolve) => setTimeout(resolve, 100)); // let the other pools' threads park
      await r.session.run(r.feeds); // the block's own warm-up, not timed
      for (let i = 0; i < argv.block && r.times.length < argv.runs; i++) {
        const t0 = performance.now();
        await r.session.run(r.feeds);
        r.times.push(performance.now() - t0);
      }
    }
  }
  const firstMedian = summarize(runs[0].times).p50;
  for (const r of runs) {
    const s = summarize(r.times);
    const ratio = runs.length > 1 ? `, ${(s.p50 / firstMedian).toFixed(2)} x ${runs[0].spec.manifest.name}` : '';
    console.log(
      `${r.spec.manifest.name} ${width}x${height} batch 1, ${threads} intra-op thread(s): ` +
        `median ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, min ${Math.min(...r.times).toFixed(1)} ms (${argv.runs} runs${ratio})`,
    );
  }
  await Promise.all(runs.map((r) => r.session.release()));
}
