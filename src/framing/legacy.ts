/**
 * The seed's wire format (docs/protocol.md §6, ../shared/docs/legacy-protocol.md):
 * 16-byte space-padded ASCII decimal length, then a JPEG; the reply is three
 * such headers (byte length, height, width) and raw float32 LE values.
 */
import { ByteQueue } from './byte-queue.js';
import { ErrorCode } from './constants.js';
import { encodeDensity } from './density-codec.js';
import { DensityFormat } from './constants.js';
import { ProtocolError } from './errors.js';

export const LEGACY_HEADER_BYTES = 16;

/** A header is digits then spaces (Python's str(n).ljust(16)). */
const HEADER_PATTERN = /^[0-9]+ *$/;

function parseHeader(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  if (!HEADER_PATTERN.test(text)) {
    const shown = JSON.stringify(text);
    throw new ProtocolError('legacy §6.1', `header ${shown} is not a space-padded decimal number`);
  }
  return Number.parseInt(text, 10);
}

function formatHeader(value: number): string {
  const text = String(value);
  if (text.length > LEGACY_HEADER_BYTES) throw new RangeError(`${value} does not fit a legacy header`);
  return text.padEnd(LEGACY_HEADER_BYTES, ' ');
}

/** Incremental parser for legacy frames; yields one JPEG per frame. */
export class LegacyFrameParser {
  private readonly queue = new ByteQueue();
  private pendingLength: number | undefined;
  private failed: ProtocolError | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** True between frames: no partial header or JPEG is buffered. */
  get atBoundary(): boolean {
    return this.pendingLength === undefined && this.queue.length === 0;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.queue.length;
  }

  feed(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.queue.push(chunk);
  }

  /** The next complete JPEG, or undefined; throws (and stays failed) on a bad header. */
  next(): Buffer | undefined {
    if (this.failed) throw this.failed;
    try {
      for (;;) {
        if (this.pendingLength === undefined) {
          if (this.queue.length < LEGACY_HEADER_BYTES) return undefined;
          const length = parseHeader(this.queue.take(LEGACY_HEADER_BYTES));
          if (length === 0) throw new ProtocolError('legacy §6.1', 'frame length is zero');
          if (length > this.maxFrameBytes) {
            throw new ProtocolError('legacy §6.1', `frame of ${length} bytes exceeds the server's maximum of ${this.maxFrameBytes}`, ErrorCode.FrameTooLarge);
          }
          this.pendingLength = length;
        } else {
          if (this.queue.length < this.pendingLength) return undefined;
          // A buffer of its own, which the worker pool moves rather than copies (ByteQueue.takeOwned).
          const jpeg = this.queue.takeOwned(this.pendingLength);
          this.pendingLength = undefined;
          return jpeg;
        }
      }
    } catch (err) {
      this.failed = err instanceof ProtocolError ? err : new ProtocolError('legacy §6', String(err));
      this.queue.clear();
      throw this.failed;
    }
  }

  push(chunk: Buffer): Buffer[] {
    this.feed(chunk);
    const out: Buffer[] = [];
    for (let jpeg = this.next(); jpeg !== undefined; jpeg = this.next()) out.push(jpeg);
    return out;
  }
}

/** Reply chunks for one frame: the three headers, then the float32 payload. */
export function encodeLegacyReply(height: number, width: number, values: Float32Array): Buffer[] {
  if (values.length !== height * width) throw new RangeError('density size does not match its shape');
  const payload = encodeDensity(values, DensityFormat.Float32).bytes;
  const head = Buffer.from(formatHeader(payload.length) + formatHeader(height) + formatHeader(width), 'latin1');
  return [head, payload];
}

/** Client side of the legacy format, as the seed's client.py sends it. */
export function encodeLegacyFrame(jpeg: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(formatHeader(jpeg.length), 'latin1'), jpeg]);
}

/** Parses one legacy reply from a complete buffer (used by tests and tools). */
export class LegacyReplyParser {
  private readonly queue = new ByteQueue();
  private shape: { bytes: number; height: number; width: number } | undefined;

  push(chunk: Buffer): Array<{ height: number; width: number; values: Float32Array }> {
    this.queue.push(chunk);
    const out: Array<{ height: number; width: number; values: Float32Array }> = [];
    for (;;) {
      if (!this.shape) {
        if (this.queue.length < 3 * LEGACY_HEADER_BYTES) break;
        const bytes = parseHeader(this.queue.take(LEGACY_HEADER_BYTES));
        const height = parseHeader(this.queue.take(LEGACY_HEADER_BYTES));
        const width = parseHeader(this.queue.take(LEGACY_HEADER_BYTES));
        if (bytes !== height * width * 4) throw new ProtocolError('legacy §6.2', `reply length ${bytes} does not match ${height}x${width} float32`);
        this.shape = { bytes, height, width };
      } else {
        if (this.queue.length < this.shape.bytes) break;
        const raw = this.queue.take(this.shape.bytes);
        const values = new Float32Array(this.shape.height * this.shape.width);
        for (let i = 0; i < values.length; i++) values[i] = raw.readFloatLE(i * 4);
        out.push({ height: this.shape.height, width: this.shape.width, values });
        this.shape = undefined;
      }
    }
    return out;
  }
}
