/**
 * A BatchRunner that needs no model: each "JPEG" is the ASCII text of a
 * number, and the frame's count is that number. Delays are random, so
 * batches finish out of order.
 */
import type { BatchRunner } from '../../src/batcher/types.js';
import type { BatchResult, FrameOutcome } from '../../src/workers/types.js';

export class FakeRunner implements BatchRunner {
  batches: number[] = [];
  private state: number;

  constructor(
    readonly size: number,
    private readonly maxDelayMs: number,
    seed = 1,
  ) {
    this.state = seed;
  }

  private random(): number {
    // xorshift: reproducible delays.
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return (this.state >>> 0) / 0x100000000;
  }

  async runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    this.batches.push(jpegs.length);
    const startedAtMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, this.random() * this.maxDelayMs));
    const densities = new Float32Array(jpegs.length);
    const outcomes: FrameOutcome[] = jpegs.map((bytes, i) => {
      const value = Number(Buffer.from(bytes).toString('latin1'));
      if (!Number.isFinite(value)) return { ok: false, reason: 'not a number', decodeUs: 0, cause: 'corrupt' };
      densities[i] = value;
      return { ok: true, count: value, decodeUs: 1, height: 1, width: 1, densityOffset: i };
    });
    return { outcomes, densities, inferUs: 1, startedAtMs, batchSize: jpegs.length };
  }
}

export const numberFrame = (n: number): Buffer => Buffer.from(String(n), 'latin1');

/** A FakeRunner whose batches all wait until release() is called. */
export class GatedRunner extends FakeRunner {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));

  constructor(size: number) {
    super(size, 0);
  }

  release(): void {
    this.opened();
  }

  override async runBatch(jpegs: readonly Uint8Array[]): Promise<BatchResult> {
    await this.gate;
    return super.runBatch(jpegs);
  }
}
