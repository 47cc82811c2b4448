/**
 * Decode + preprocess + inference for a batch of JPEGs on one thread (a
 * Piscina worker in the server): the fused mode, where the thread that
 * decodes also runs the session. Reuses one input tensor buffer, batch after
 * batch (a worker runs one batch at a time).
 */
import { FramePreparer } from './prepare.js';
import { Inferencer } from './infer.js';
import type { BatchResult, WorkerConfig } from './types.js';

export class FrameProcessor {
  private constructor(
    private readonly preparer: FramePreparer,
    readonly inferencer: Inferencer,
  ) {}

  get provider(): 'cuda' | 'cpu' {
    return this.inferencer.provider;
  }

  static async load(config: WorkerConfig, log: (line: string) => void): Promise<FrameProcessor> {
    const inferencer = await Inferencer.load(config, log);
    const preparer = new FramePreparer(inferencer.spec.manifest, config.inputWidth, config.inputHeight, config.imageLimits, true);
    return new FrameProcessor(preparer, inferencer);
  }

  runBatch(jpegs: Uint8Array[], motion?: readonly boolean[]): Promise<BatchResult> {
    return this.inferencer.run(this.preparer.prepare(jpegs, undefined, motion));
  }
}
