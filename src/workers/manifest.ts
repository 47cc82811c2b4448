/**
 * The model manifest (docs/model-manifest.md): everything the server needs to
 * know about a network lives in this JSON file beside the .onnx, so no
 * network is hard-coded outside models/.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export type ChannelOrder = 'RGB' | 'BGR' | 'GRAY';

/**
 * What the graph's input takes: `float32` NCHW, normalised by the server
 * (x = (pixel * pixelScale - mean) / std); or `uint8` NHWC raw pixels, the
 * graph normalising them itself (models/fold_input.py folds mean/std in).
 */
export type InputElementType = 'float32' | 'uint8';
export type InputLayout = 'NCHW' | 'NHWC';

export interface ModelManifest {
  schema: 'crowdline.model-manifest/1';
  name: string;
  description?: string;
  onnx: string;
  input: {
    name: string;
    /** NCHW with float32, NHWC with uint8. */
    layout: InputLayout;
    /** Default float32. */
    elementType: InputElementType;
    channelOrder: ChannelOrder;
    /** x = (pixel * pixelScale - mean[c]) / std[c] (done in the graph when elementType is uint8) */
    pixelScale: number;
    mean: number[];
    std: number[];
    preferredSize: { width: number; height: number };
    sizeMultiple: number;
  };
  output: {
    name: string;
    stride: number;
    /** count = sum(density) * countScale */
    countScale: number;
  };
}

/** A manifest plus the absolute path of the ONNX file it describes. */
export interface ModelSpec {
  manifest: ModelManifest;
  onnxPath: string;
  manifestPath: string;
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export function channelCount(order: ChannelOrder): number {
  return order === 'GRAY' ? 1 : 3;
}

/**
 * Resolves `--model`: either an .onnx path (manifest = same name .json) or a
 * manifest .json path. Reads and validates the manifest; checks the ONNX file
 * exists and looks like ONNX. The graph itself is checked against the
 * manifest when a session is created (see session.ts).
 */
export function resolveModel(modelPath: string): ModelSpec {
  const abs = path.resolve(modelPath);
  const manifestPath = abs.endsWith('.json') ? abs : abs.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(abs)) throw new ModelLoadError(`model file not found: ${abs}`);
  if (!existsSync(manifestPath)) {
    throw new ModelLoadError(`model manifest not found: ${manifestPath} (every model needs a manifest beside it; see docs/model-manifest.md)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`model manifest ${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  const manifest = validateManifest(raw, manifestPath);
  const onnxPath = abs.endsWith('.json') ? path.resolve(path.dirname(manifestPath), manifest.onnx) : abs;
  if (!existsSync(onnxPath)) throw new ModelLoadError(`ONNX file named by ${manifestPath} not found: ${onnxPath}`);
  checkLooksLikeOnnx(onnxPath);
  return { manifest, onnxPath, manifestPath };
}

/** ONNX files are protobuf ModelProto; field 1 (ir_version, varint) comes first. */
function checkLooksLikeOnnx(onnxPath: string): void {
  const head = readFileSync(onnxPath).subarray(0, 2);
  if (head.length < 2 || head[0] !== 0x08) {
    throw new ModelLoadError(`${onnxPath} is not an ONNX model (it does not start with a protobuf ModelProto ir_version field)`);
  }
}

function fail(file: string, field: string, want: string): never {
  throw new ModelLoadError(`${file}: field "${field}" must be ${want}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

export function validateManifest(raw: unknown, file = 'manifest'): ModelManifest {
  if (!isObject(raw)) fail(file, '(root)', 'an object');
  if (raw.schema !== 'crowdline.model-manifest/1') fail(file, 'schema', '"crowdline.model-manifest/1"');
  if (typeof raw.name !== 'string' || raw.name === '') fail(file, 'name', 'a non-empty string');
  if (typeof raw.onnx !== 'string' || raw.onnx === '') fail(file, 'onnx', 'the ONNX file name');
  const input = raw.input;
  if (!isObject(input)) fail(file, 'input', 'an object');
  if (typeof input.name !== 'string') fail(file, 'input.name', 'the graph input name');
  const elementType = input.elementType ?? 'float32';
  if (elementType !== 'float32' && elementType !== 'uint8') fail(file, 'input.elementType', '"float32" or "uint8"');
  // The float path writes planar floats; the uint8 path interleaved bytes (what a JPEG decoder gives).
  const layout = elementType === 'uint8' ? 'NHWC' : 'NCHW';
  if (input.layout !== layout) fail(file, 'input.layout', `"${layout}" (with elementType ${elementType})`);
  const order = input.channelOrder;
  if (order !== 'RGB' && order !== 'BGR' && order !== 'GRAY') fail(file, 'input.channelOrder', '"RGB", "BGR" or "GRAY"');
  const channels = channelCount(order);
  if (!positiveNumber(input.pixelScale)) fail(file, 'input.pixelScale', 'a positive number');
  const mean = input.mean;
  const std = input.std;
  if (!Array.isArray(mean) || mean.length !== channels || !mean.every((m) => typeof m === 'number')) {
    fail(file, 'input.mean', `${channels} numbers`);
  }
  if (!Array.isArray(std) || std.length !== channels || !std.every(positiveNumber)) {
    fail(file, 'input.std', `${channels} positive numbers`);
  }
  const size = input.preferredSize;
  if (!isObject(size) || !positiveNumber(size.width) || !positiveNumber(size.height)) {
    fail(file, 'input.preferredSize', '{ width, height } in pixels');
  }
  const multiple = input.sizeMultiple ?? 1;
  if (!positiveNumber(multiple) || !Number.isInteger(multiple)) fail(file, 'input.sizeMultiple', 'a positive integer');
  const output = raw.output;
  if (!isObject(output)) fail(file, 'output', 'an object');
  if (typeof output.name !== 'string') fail(file, 'output.name', 'the graph output name');
  if (!positiveNumber(output.stride) || !Number.isInteger(output.stride)) fail(file, 'output.stride', 'a positive integer');
  const countScale = output.countScale ?? 1;
  if (!positiveNumber(countScale)) fail(file, 'output.countScale', 'a positive number');
  return {
    schema: 'crowdline.model-manifest/1',
    name: raw.name,
    description: typeof raw.description === 'string' ? raw.description : undefined,
    onnx: raw.onnx,
    input: {
      name: input.name,
      layout,
      elementType,
      channelOrder: order,
      pixelScale: input.pixelScale,
      mean: mean,
      std: std,
      preferredSize: { width: size.width, height: size.height },
      sizeMultiple: multiple,
    },
    output: { name: output.name, stride: output.stride, countScale },
  };
}

/** Input size actually fed to the network: requested size rounded to sizeMultiple. */
export function networkInputSize(manifest: ModelManifest, requested?: { width: number; height: number }): { width: number; height: number } {
  const size = requested ?? manifest.input.preferredSize;
  const m = manifest.input.sizeMultiple;
  return {
    width: Math.max(m, Math.round(size.width / m) * m),
    height: Math.max(m, Math.round(size.height / m) * m),
  };
}
