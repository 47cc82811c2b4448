/**
 * Writes tiny ONNX models by hand (protobuf, no python) so tests can check
 * the whole path against exact expected numbers. Known-answer graph:
 *   image [N,C,H,W] -> (C=3: 1x1 Conv averaging channels) -> AveragePool k x k
 *   -> density [N,1,H/k,W/k]
 * so density = mean normalised grey level of each k x k block.
 */
import { writeFileSync } from 'node:fs';

class Pb {
  private parts: Buffer[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    const bytes: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      bytes.push(b);
    } while (v > 0n);
    this.parts.push(Buffer.from(bytes));
  }

  int(field: number, value: number): this {
    this.varint((field << 3) | 0);
    this.varint(value);
    return this;
  }

  bytes(field: number, data: Buffer): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.parts.push(data);
    return this;
  }

  str(field: number, text: string): this {
    return this.bytes(field, Buffer.from(text, 'utf8'));
  }

  msg(field: number, inner: Pb): this {
    return this.bytes(field, inner.build());
  }

  float(field: number, value: number): this {
    this.varint((field << 3) | 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(b);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const FLOAT = 1;

function tensorType(dims: Array<number | string>): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  return new Pb().msg(1, new Pb().int(1, FLOAT).msg(2, shape));
}

function valueInfo(name: string, dims: Array<number | string>): Pb {
  return new Pb().str(1, name).msg(2, tensorType(dims));
}

function intsAttr(name: string, values: number[]): Pb {
  const a = new Pb().str(1, name).int(20, 7);
  for (const v of values) a.int(8, v);
  return a;
}

export interface KnownAnswerModelOptions {
  channels: 1 | 3;
  /** Pooling block = output stride. */
  stride: number;
  inputName?: string;
  outputName?: string;
  /** Adds an initializer no node reads: ONNX Runtime logs a warning when it removes it at load. */
  unusedInitializer?: boolean;
}

export function buildKnownAnswerModel(options: KnownAnswerModelOptions): Buffer {
  const inputName = options.inputName ?? 'image';
  const outputName = options.outputName ?? 'density';
  const graph = new Pb();
  let poolInput = inputName;
  if (options.channels === 3) {
    const weights = new Pb().int(1, 1).int(1, 3).int(1, 1).int(1, 1).int(2, FLOAT).str(8, 'w');
    const raw = Buffer.alloc(12);
    for (let i = 0; i < 3; i++) raw.writeFloatLE(1 / 3, i * 4);
    weights.bytes(9, raw);
    graph.msg(1, new Pb().str(1, inputName).str(1, 'w').str(2, 'grey').str(3, 'mix').str(4, 'Conv'));
    graph.msg(5, weights);
    poolInput = 'grey';
  }
  const pool = new Pb()
    .str(1, poolInput)
    .str(2, outputName)
    .str(3, 'pool')
    .str(4, 'AveragePool')
    .msg(5, intsAttr('kernel_shape', [options.stride, options.stride]))
    .msg(5, intsAttr('strides', [options.stride, options.stride]));
  graph.msg(1, pool);
  if (options.unusedInitializer) {
    const unused = new Pb().int(1, 1).int(2, FLOAT).str(8, 'unused');
    graph.msg(5, unused.bytes(9, Buffer.alloc(4)));
  }
  graph.str(2, 'known-answer');
  graph.msg(11, valueInfo(inputName, ['N', options.channels, 'H', 'W']));
  graph.msg(12, valueInfo(outputName, ['N', 1, 'h', 'w']));
  return new Pb().int(1, 8).str(2, 'crowdline-tests').msg(7, graph).msg(8, new Pb().str(1, '').int(2, 13)).build();
}

export interface WrittenModel {
  onnxPath: string;
  manifestPath: string;
}

/** Writes model + manifest (pixelScale 1/255, mean 0, std 1, countScale 1). */
export function writeKnownAnswerModel(
  dir: string,
  name: string,
  options: KnownAnswerModelOptions & { width: number; height: number; manifestChannels?: 1 | 3 },
): WrittenModel {
  const onnxPath = `${dir}/${name}.onnx`;
  const manifestPath = `${dir}/${name}.json`;
  writeFileSync(onnxPath, buildKnownAnswerModel(options));
  const channels = options.manifestChannels ?? options.channels;
  writeFileSync(
    manifestPath,
    JSON.stringify(
      {
        schema: 'crowdline.model-manifest/1',
        name,
        onnx: `${name}.onnx`,
        input: {
          name: options.inputName ?? 'image',
          layout: 'NCHW',
          channelOrder: channels === 1 ? 'GRAY' : 'RGB',
          pixelScale: 1 / 255,
          mean: new Array(channels).fill(0),
          std: new Array(channels).fill(1),
          preferredSize: { width: options.width, height: options.height },
          sizeMultiple: options.stride,
        },
        output: { name: options.outputName ?? 'density', stride: options.stride, countScale: 1 },
      },
      null,
      2,
    ),
  );
  return { onnxPath, manifestPath };
}
