/**
 * How an inference worker hands a tensor slot to ONNX Runtime.
 * onnxruntime-node 1.30 refuses a typed array over a SharedArrayBuffer
 * ("Invalid argument" from session.run). With the native addon
 * (native/shared-view.c) each slot gets a plain ArrayBuffer alias over the
 * same memory, made once at start: the session reads the batch where the
 * decode thread wrote it. Without the addon each batch is copied into this
 * worker's own buffer, reused batch after batch (docs/performance.md has
 * the copy's cost).
 */
import { nativeAddon } from './native-resize.js';

export type AliasShared = (view: Uint8Array) => ArrayBuffer;

export class SlotInput {
  private readonly aliases: ArrayBuffer[] | undefined;
  private local: Uint8Array<ArrayBuffer> | undefined;

  /** `alias`: the addon's aliasShared by default; null (or no addon, or CROWDLINE_SLOT_COPY=1) copies instead. */
  constructor(
    private readonly slots: readonly SharedArrayBuffer[],
    alias: AliasShared | null = (process.env.CROWDLINE_SLOT_COPY === '1' ? undefined : nativeAddon()?.aliasShared) ?? null,
  ) {
    // The aliases own nothing: `slots` (workerData, alive as long as the thread) keeps the memory.
    this.aliases = alias ? SlotInput.aliasAll(slots, alias) : undefined;
  }

  /** Aliases for every slot, or undefined (copy mode) where the runtime refuses external buffers. */
  private static aliasAll(slots: readonly SharedArrayBuffer[], alias: AliasShared): ArrayBuffer[] | undefined {
    try {
      return slots.map((slot) => alias(new Uint8Array(slot)));
    } catch {
      return undefined;
    }
  }

  get mode(): 'alias' | 'copy' {
    return this.aliases ? 'alias' : 'copy';
  }

  /** A buffer ONNX Runtime accepts whose first `bytes` are slot `index`'s: the alias, or this worker's copy. */
  input(index: number, bytes: number): ArrayBuffer {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no tensor slot ${index}`);
    if (bytes > slot.byteLength) throw new RangeError(`${bytes} bytes do not fit tensor slot ${index} (${slot.byteLength})`);
    if (this.aliases) return this.aliases[index];
    if (!this.local || this.local.byteLength < bytes) this.local = new Uint8Array(slot.byteLength);
    this.local.set(new Uint8Array(slot, 0, bytes));
    return this.local.buffer;
  }
}
