/** crowdline protocol v1 (docs/protocol.md §2-§5) for one connection. */
import {
  DensityFormat,
  encodeError,
  encodeLines,
  encodeResultChunks,
  encodeWelcome,
  encodeZones,
  ErrorCode,
  FrameStatus,
  PROTOCOL_VERSION,
  ProtocolError,
  ServerSideParser,
  type DensityFormatCode,
  type ErrorCodeValue,
  type FrameStatusCode,
  type HelloMessage,
  type LinesMessage,
  type ZonesMessage,
} from '../framing/index.js';
import type { JobOutcome } from '../batcher/types.js';
import { isValidName, NAME_RULE } from '../common/camera-name.js';
import { peerText } from '../log/peer-text.js';
import type { AdapterEvent, ModelInfo, ProtocolAdapter, ReplyContext } from './adapter.js';
import type { ServerOptions } from './options.js';

const STATUS: Record<JobOutcome['status'], FrameStatusCode> = {
  ok: FrameStatus.Ok,
  'frame-error': FrameStatus.FrameError,
  dropped: FrameStatus.Dropped,
  'server-error': FrameStatus.ServerError,
};

export class V1Adapter implements ProtocolAdapter {
  readonly protocol = 'v1' as const;
  private readonly parser: ServerSideParser;
  private greeted = false;
  private lastSeq = -1;
  private densityFormat: DensityFormatCode = DensityFormat.Float32;
  private countOnly = false;
  /** v1.2: the client asked for zones; only then do RESULTs carry a zone block. */
  private wantsZones = false;
  /** v1.4: the client asked for lines; only then do RESULTs carry a line block. */
  private wantsLines = false;

  constructor(
    private readonly options: ServerOptions,
    private readonly model: ModelInfo,
  ) {
    this.parser = new ServerSideParser({ maxFrameBytes: options.maxFrameBytes });
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
    const msg = this.parser.next();
    if (!msg) return undefined;
    if (msg.type === 'hello') return this.greet(msg);
    if (!this.greeted) {
      throw new ProtocolError('v1 §3.1', `${msg.type.toUpperCase()} before HELLO`, ErrorCode.UnexpectedMessage);
    }
    if (msg.type === 'bye') return { kind: 'bye' };
    if (msg.seq <= this.lastSeq) {
      throw new ProtocolError('v1 §3.3', `FRAME seq ${msg.seq} is not greater than the previous ${this.lastSeq}`, ErrorCode.SequenceOrder);
    }
    this.lastSeq = msg.seq;
    return { kind: 'frame', frame: { seq: msg.seq, captureTimeMs: msg.captureTimeMs, jpeg: msg.jpeg } };
  }

  private greet(msg: HelloMessage): AdapterEvent {
    if (this.greeted) throw new ProtocolError('v1 §3.1', 'HELLO sent twice', ErrorCode.UnexpectedMessage);
    if (msg.version !== PROTOCOL_VERSION) {
      throw new ProtocolError('v1 §3.1', `client speaks version ${msg.version}; this server speaks ${PROTOCOL_VERSION}`, ErrorCode.UnsupportedVersion);
    }
    // The name becomes a metric label, an MQTT topic level and the client's file names: the site file's rule (empty: no name, as in v1.0).
    if (msg.cameraName !== '' && !isValidName(msg.cameraName)) {
      throw new ProtocolError('v1 §3.1', `camera name ${peerText(msg.cameraName)} is not ${NAME_RULE}`);
    }
    this.greeted = true;
    this.densityFormat = msg.densityFormat;
    this.countOnly = msg.countOnly || msg.densityFormat === DensityFormat.None;
    this.wantsZones = msg.wantsZones === true;
    this.wantsLines = msg.wantsLines === true;
    const window = Math.min(msg.window || this.options.window, this.options.maxWindow);
    const reply = encodeWelcome({
      version: PROTOCOL_VERSION,
      densityFormat: this.countOnly ? DensityFormat.None : this.densityFormat,
      countOnly: this.countOnly,
      window,
      maxFrameBytes: this.options.maxFrameBytes,
      inputWidth: this.model.inputWidth,
      inputHeight: this.model.inputHeight,
      outputStride: this.model.outputStride,
      modelName: this.model.name,
      provider: this.model.provider,
    });
    return {
      kind: 'hello',
      camera: msg.cameraName,
      window,
      reply: [reply],
      token: msg.token,
      wantsZones: this.wantsZones,
      wantsLines: this.wantsLines,
      inputPolicy: msg.inputPolicy,
    };
  }

  encodeReply(ctx: ReplyContext, outcome: JobOutcome): Buffer[] {
    const timings = { ...outcome.timings, serverUs: ctx.serverUs };
    if (outcome.status === 'ok') {
      return encodeResultChunks({
        seq: ctx.seq,
        status: FrameStatus.Ok,
        captureTimeMs: ctx.captureTimeMs,
        count: outcome.count,
        timings,
        densityFormat: this.countOnly ? DensityFormat.None : this.densityFormat,
        density: this.countOnly ? undefined : outcome.density,
        // A client that did not ask gets no zone block: the exact bytes of v1.1.
        zones: this.wantsZones ? (ctx.zones ?? []) : undefined,
        lines: this.wantsLines ? (ctx.lines ?? []) : undefined,
      });
    }
    return encodeResultChunks({
      seq: ctx.seq,
      status: STATUS[outcome.status],
      captureTimeMs: ctx.captureTimeMs,
      count: Number.NaN,
      timings,
      densityFormat: DensityFormat.None,
      reason: outcome.reason,
    });
  }

  encodeZones(zones: Omit<ZonesMessage, 'type'>): Buffer {
    return encodeZones(zones);
  }

  encodeLines(lines: Omit<LinesMessage, 'type'>): Buffer {
    return encodeLines(lines);
  }

  encodeFatal(code: ErrorCodeValue, reason: string): Buffer {
    return encodeError({ code, reason });
  }
}
