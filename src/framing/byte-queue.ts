/**
 * Bytes received but not yet parsed. Every operation costs time linear in the
 * bytes it touches, however the stream was split: a peer sending one byte
 * per TCP segment must not make parsing quadratic (docs/reliability.md).
 *
 * - Large chunks are kept as TCP delivered them, so a message that arrived
 *   in one read is handed on as a view, not a copy (take).
 * - A frame's image is taken into a buffer of its own (takeOwned): one copy,
 *   which the worker pool then moves to a worker thread without another.
 * - Small chunks are appended into a shared tail buffer, so a trickle of tiny
 *   reads costs one copy per byte and no per-chunk object overhead.
 * - Consumed chunks are dropped by advancing an index; the array is compacted
 *   only when at least half of it is dead (amortised O(1) per chunk).
 */

/** Chunks shorter than this are copied into the tail buffer. */
const COALESCE_BELOW = 4096;
/** Size of a fresh tail buffer. */
const TAIL_BYTES = 16 * 1024;

export class ByteQueue {
  private chunks: Buffer[] = [];
  private first = 0; // index of the first live chunk
  private head = 0; // offset into chunks[first]
  private total = 0;
  /** The last chunk when it is our own coalescing buffer, and how much of it is filled. */
  private tail: Buffer | undefined;
  private tailUsed = 0;

  get length(): number {
    return this.total;
  }

  /** Live chunks held (bounded by length / COALESCE_BELOW + 2 whatever the split). */
  get chunkCount(): number {
    return this.chunks.length - this.first;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    if (chunk.length >= COALESCE_BELOW) {
      this.tail = undefined;
      this.chunks.push(chunk);
      return;
    }
    if (this.tail && this.tailUsed + chunk.length <= this.tail.length) {
      chunk.copy(this.tail, this.tailUsed);
      this.tailUsed += chunk.length;
      // The tail is the last chunk; extend its visible view.
      this.chunks[this.chunks.length - 1] = this.tail.subarray(0, this.tailUsed);
      return;
    }
    this.tail = Buffer.allocUnsafe(TAIL_BYTES);
    chunk.copy(this.tail, 0);
    this.tailUsed = chunk.length;
    this.chunks.push(this.tail.subarray(0, this.tailUsed));
  }

  /** Byte at offset i from the front (i < length). */
  peekByte(i: number): number {
    if (i < 0 || i >= this.total) throw new RangeError('peek past end of queue');
    let at = this.head + i;
    for (let k = this.first; k < this.chunks.length; k++) {
      const chunk = this.chunks[k];
      if (at < chunk.length) return chunk[at];
      at -= chunk.length;
    }
    throw new RangeError('peek past end of queue');
  }

  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Buffer {
    if (n > this.total) throw new RangeError('take past end of queue');
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.first];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    return this.copyOut(Buffer.allocUnsafe(n));
  }

  /**
   * Removes the first n bytes (n <= length) into a buffer of their own: an
   * exact-size ArrayBuffer (never a slab of Node's pool, never a view of a
   * received chunk) that nothing else references, so its owner may move it
   * to another thread instead of copying it again. Costs one copy however
   * the bytes were split, and holds no chunk alive once taken.
   */
  takeOwned(n: number): Buffer {
    if (n > this.total) throw new RangeError('take past end of queue');
    // allocUnsafeSlow: unpooled, not zero-filled (copyOut writes every byte).
    return this.copyOut(Buffer.allocUnsafeSlow(n));
  }

  /** Moves the first out.length bytes into `out`. */
  private copyOut(out: Buffer): Buffer {
    let filled = 0;
    while (filled < out.length) {
      const chunk = this.chunks[this.first];
      const want = Math.min(chunk.length - this.head, out.length - filled);
      chunk.copy(out, filled, this.head, this.head + want);
      filled += want;
      this.advance(want);
    }
    return out;
  }

  /** Drops everything (used once a connection is condemned). */
  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.total = 0;
    this.tail = undefined;
    this.tailUsed = 0;
  }

  private advance(n: number): void {
    this.total -= n;
    this.head += n;
    while (this.first < this.chunks.length && this.head >= this.chunks[this.first].length) {
      this.head -= this.chunks[this.first].length;
      this.first++;
    }
    if (this.first === this.chunks.length) {
      // Empty: start afresh. The tail buffer is dropped too (views of it may
      // still be in use by the caller; they are never written again).
      this.chunks.length = 0;
      this.first = 0;
      this.tail = undefined;
      this.tailUsed = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
