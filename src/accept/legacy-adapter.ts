/**
 * The seed's protocol (docs/protocol.md §6). No handshake, no sequence
 * numbers, no error replies: a frame that fails is answered with an empty
 * 0x0 map so the connection stays usable and the count is never faked.
 */
import { encodeLegacyReply, LegacyFrameParser, type ErrorCodeValue } from '../framing/index.js';
import type { JobOutcome } from '../batcher/types.js';
import type { AdapterEvent, ProtocolAdapter, ReplyContext } from './adapter.js';

const EMPTY = new Float32Array(0);

export class LegacyAdapter implements ProtocolAdapter {
  readonly protocol = 'legacy' as const;
  private readonly parser: LegacyFrameParser;
  private nextSeq = 0;

  constructor(maxFrameBytes: number) {
    this.parser = new LegacyFrameParser(maxFrameBytes);
  }

  get midMessage(): boolean {
    return !this.parser.atBoundary;
  }

  get buffered(): number {
    return this.parser.buffered;
  }

  feed(chunk: Buffer): void {
    this.parser.feed(chunk);
  }

  next(): AdapterEvent | undefined {
    const jpeg = this.parser.next();
    return jpeg && { kind: 'frame', frame: { seq: this.nextSeq++, captureTimeMs: Date.now(), jpeg } };
  }

  encodeReply(_ctx: ReplyContext, outcome: JobOutcome): Buffer[] {
    if (outcome.status === 'ok') {
      return encodeLegacyReply(outcome.density.height, outcome.density.width, outcome.density.values);
    }
    return encodeLegacyReply(0, 0, EMPTY);
  }

  encodeFatal(_code: ErrorCodeValue, _reason: string): undefined {
    return undefined;
  }
}
