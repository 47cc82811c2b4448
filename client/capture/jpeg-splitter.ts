/**
 * Splits a byte stream of concatenated JPEGs (ffmpeg's image2pipe/mjpeg
 * output) into single images. Inside a JPEG's entropy-coded data every 0xFF
 * byte is followed by 0x00 (byte stuffing) or a restart marker, so the first
 * 0xFF 0xD9 after a start-of-image is that image's end.
 */
const SOI = 0xd8;
const EOI = 0xd9;
/** Bytes without an end marker beyond this are garbage (a broken stream): dropped, not buffered forever. */
const MAX_JPEG_BYTES = 32 * 1024 * 1024;

export class JpegSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** pending starts with a start-of-image marker. */
  private inImage = false;
  /** Where to resume looking for the end marker, so a large frame is not rescanned per chunk. */
  private scanFrom = 0;

  /** Feeds bytes; returns the complete JPEGs they finish, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      if (!this.inImage) {
        const start = findMarker(this.pending, SOI, 0);
        if (start < 0) {
          // Keep a trailing 0xFF: it may be half of the next start marker.
          this.pending = this.pending.subarray(this.pending[this.pending.length - 1] === 0xff ? this.pending.length - 1 : this.pending.length);
          break;
        }
        this.pending = this.pending.subarray(start);
        this.inImage = true;
        this.scanFrom = 2;
      }
      const end = findMarker(this.pending, EOI, this.scanFrom);
      if (end < 0) {
        this.scanFrom = Math.max(2, this.pending.length - 1);
        break;
      }
      // A copy, so the (larger) chunk it came in can be freed.
      out.push(Buffer.from(this.pending.subarray(0, end + 2)));
      this.pending = this.pending.subarray(end + 2);
      this.inImage = false;
    }
    if (this.pending.length > MAX_JPEG_BYTES) {
      this.pending = Buffer.alloc(0);
      this.inImage = false;
    }
    return out;
  }
}

/** Index of the first 0xFF `code` pair at or after `from`, or -1. */
function findMarker(data: Buffer, code: number, from: number): number {
  for (let i = data.indexOf(0xff, from); i >= 0 && i + 1 < data.length; i = data.indexOf(0xff, i + 1)) {
    if (data[i + 1] === code) return i;
  }
  return -1;
}
