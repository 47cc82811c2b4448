/** What a session needs from a wire protocol (v1 or legacy). */
import type { InputSizePolicy } from '../workers/input-size.js';
import type { JobOutcome } from '../batcher/types.js';
import type { ErrorCodeValue, LineCrossings, LinesMessage, ZoneReading, ZonesMessage } from '../framing/index.js';

export interface IncomingFrame {
  seq: number;
  captureTimeMs: number;
  /** In a buffer of its own (the parsers' ByteQueue.takeOwned): the session may give it away to a worker. */
  jpeg: Uint8Array;
}

export type AdapterEvent =
  | {
      kind: 'hello';
      camera: string;
      window: number;
      reply: Buffer[];
      token?: string;
      wantsZones?: boolean;
      wantsLines?: boolean;
      inputPolicy?: InputSizePolicy;
    }
  | { kind: 'frame'; frame: IncomingFrame }
  | { kind: 'bye' };

export interface ReplyContext {
  seq: number;
  captureTimeMs: number;
  serverUs: number;
  /** v1.2: the frame's zone readings (sent only to a client that asked for zones). */
  zones?: ZoneReading[];
  /** v1.4: the camera's line crossings (sent only to a client that asked for lines). */
  lines?: LineCrossings[];
}

export interface ProtocolAdapter {
  readonly protocol: 'v1' | 'legacy';
  /** Part of a message (even only its header) has arrived, but not all of it. */
  readonly midMessage: boolean;
  /** Bytes received and not yet parsed into messages. */
  readonly buffered: number;
  /** Adds received bytes. */
  feed(chunk: Buffer): void;
  /** Next event, or undefined until more bytes arrive. Throws ProtocolError on a violation. */
  next(): AdapterEvent | undefined;
  encodeReply(ctx: ReplyContext, outcome: JobOutcome): Buffer[];
  /** Bytes that tell the client why the connection ends, if the protocol can say it. */
  encodeFatal(code: ErrorCodeValue, reason: string): Buffer | undefined;
  /** v1.2: the ZONES message, for protocols that have one. */
  encodeZones?(zones: Omit<ZonesMessage, 'type'>): Buffer;
  /** v1.4: the LINES message, for protocols that have one. */
  encodeLines?(lines: Omit<LinesMessage, 'type'>): Buffer;
}

/** Facts about the model the server reports in WELCOME. */
export interface ModelInfo {
  name: string;
  provider: string;
  inputWidth: number;
  inputHeight: number;
  outputStride: number;
}
