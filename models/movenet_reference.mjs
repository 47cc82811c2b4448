// Runs MoveNet-Lightning's original TF.js graph (pure-JS CPU backend, no
// TensorFlow needed) on a raw RGB image and writes intermediate tensors, so
// convert_movenet.py can check the PyTorch conversion against the original.
//
//   TFJS_DIR=/tmp/tfjs node models/movenet_reference.mjs <model.json> <in.rgb> <W> <H> <out-dir> <node>...
//
// TFJS_DIR: a scratch folder with @tensorflow/tfjs-core, -converter and
// -backend-cpu installed (kept out of the project's package.json: it is only
// needed for this check). <in.rgb> is W*H*3 bytes, RGB, row-major. Each
// requested graph node is written to <out-dir>/<i>.f32 (float32, NHWC) with
// its shape in <out-dir>/shapes.json.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [modelJson, rgbPath, w, h, outDir, ...nodes] = process.argv.slice(2);
if (!process.env.TFJS_DIR || nodes.length === 0) {
  console.error('usage: TFJS_DIR=... node movenet_reference.mjs model.json in.rgb W H out-dir node...');
  process.exit(2);
}
const require = createRequire(path.join(process.env.TFJS_DIR, 'package.json'));
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { loadGraphModel } = require('@tensorflow/tfjs-converter');

await tf.setBackend('cpu');
const model = JSON.parse(readFileSync(modelJson, 'utf8'));
// The graph declares a fixed 192x192 input; the backbone itself is size-agnostic, so free H and W
// to check a non-square size too (the stride-2 'SAME' padding differs on each axis).
const placeholder = model.modelTopology.node.find((n) => n.op === 'Placeholder');
for (const dim of placeholder.attr.shape.shape.dim.slice(1, 3)) dim.size = '-1';
const specs = model.weightsManifest.flatMap((g) => g.weights);
const bin = readFileSync(path.join(path.dirname(modelJson), model.weightsManifest[0].paths[0]));
const weights = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
const graph = await loadGraphModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: specs, weightData: weights }));

const width = Number(w);
const height = Number(h);
const pixels = Int32Array.from(readFileSync(rgbPath));
const input = tf.tensor4d(pixels, [1, height, width, 3], 'int32');
const outs = await graph.executeAsync({ input }, nodes);
const shapes = [];
for (const [i, t] of (Array.isArray(outs) ? outs : [outs]).entries()) {
  const data = await t.data();
  writeFileSync(path.join(outDir, `${i}.f32`), Buffer.from(new Float32Array(data).buffer));
  shapes.push({ node: nodes[i], shape: t.shape });
}
writeFileSync(path.join(outDir, 'shapes.json'), JSON.stringify(shapes, null, 1));
console.log(`tfjs ${tf.version_core}: wrote ${shapes.length} tensors`);
