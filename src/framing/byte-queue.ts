/**
 * Bytes received but not yet parsed, kept as the chunks TCP delivered.
 * Taking n bytes copies only when they straddle chunks, so a frame that
 * arrived in one read is handed on as a view, not a copy.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Byte at offset i from the front (i < length). */
  peekByte(i: number): number {
    let at = this.head + i;
    for (const chunk of this.chunks) {
      if (at < chunk.length) return chunk[at];
      at -= chunk.length;
    }
    throw new RangeError('peek past end of queue');
  }

  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Buffer {
    if (n > this.total) throw new RangeError('take past end of queue');
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const avail = chunk.length - this.head;
      const want = Math.min(avail, n - filled);
      chunk.copy(out, filled, this.head, this.head + want);
      filled += want;
      this.advance(want);
    }
    return out;
  }

  /** Drops everything (used once a connection is condemned). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }

  private advance(n: number): void {
    this.total -= n;
    this.head += n;
    while (this.chunks.length > 0 && this.head >= this.chunks[0].length) {
      this.head -= this.chunks[0].length;
      this.chunks.shift();
    }
  }
}
