/**
 * Incremental v1 parser (docs/protocol.md §2-§3): an explicit two-state
 * machine (header, body) fed any split of the byte stream. A length is
 * checked against its limit before anything is allocated for it.
 */
import { ByteQueue } from './byte-queue.js';
import {
  DensityFormat,
  ErrorCode,
  FRAME_FIXED_BYTES,
  HEADER_BYTES,
  HELLO_FIXED_BYTES,
  HelloFlags,
  LINE_BLOCK_HEAD_BYTES,
  LINE_ENTRY_BYTES,
  MAGIC,
  MAX_LINES_BODY_BYTES,
  MAX_CONTROL_BODY_BYTES,
  MAX_ZONES_BODY_BYTES,
  MessageType,
  RESULT_FIXED_BYTES,
  ResultFlags,
  WELCOME_FIXED_BYTES,
  ZONE_BLOCK_HEAD_BYTES,
  ZONE_ENTRY_BYTES,
  ZoneAlertState,
  type ZoneAlertStateCode,
  type DensityFormatCode,
  type ErrorCodeValue,
  type FrameStatusCode,
} from './constants.js';
import { bytesPerValue, decodeDensity, isDensityFormat } from './density-codec.js';
import { ProtocolError } from './errors.js';
import { decodeHelloExtensions } from './hello-extensions.js';
import { decodeLinesBody } from './lines-message.js';
import { decodeZonesBody } from './zones-message.js';
import type { ClientMessage, ErrorMessage, HelloMessage, LineCrossings, ResultMessage, ServerMessage, WelcomeMessage, ZoneReading } from './messages.js';

export interface ParserLimits {
  /** Largest JPEG a FRAME may carry (§3.3). */
  maxFrameBytes: number;
  /** Largest RESULT body accepted by a client parser (§3.4). */
  maxResultBytes?: number;
}

type State = { kind: 'header' } | { kind: 'body'; type: number; length: number };

abstract class MessageParser<M> {
  private readonly queue = new ByteQueue();
  private state: State = { kind: 'header' };
  private failed: ProtocolError | undefined;

  /** Bytes buffered but not yet part of a complete message. */
  get buffered(): number {
    return this.queue.length;
  }

  /** True between messages: no partial header or body is buffered. */
  get atBoundary(): boolean {
    return this.state.kind === 'header' && this.queue.length === 0;
  }

  /** Adds received bytes; take messages out with next(). */
  feed(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.queue.push(chunk);
  }

  /**
   * The next complete message, or undefined until more bytes arrive. Throws a
   * ProtocolError on the first violation, after every message before it was
   * returned; the parser then stays failed.
   */
  next(): M | undefined {
    if (this.failed) throw this.failed;
    try {
      for (;;) {
        if (this.state.kind === 'header') {
          if (this.queue.length < HEADER_BYTES) return undefined;
          const h = this.queue.take(HEADER_BYTES);
          const type = h.readUInt8(0);
          if (h.readUInt8(1) !== 0 || h.readUInt16LE(2) !== 0) {
            throw new ProtocolError('v1 §2.2', 'header flags and reserved bytes must be zero');
          }
          const length = h.readUInt32LE(4);
          this.checkLength(type, length);
          this.state = { kind: 'body', type, length };
        } else {
          if (this.queue.length < this.state.length) return undefined;
          const { type, length } = this.state;
          this.state = { kind: 'header' };
          return this.takeBody(this.queue, type, length);
        }
      }
    } catch (err) {
      this.failed = err instanceof ProtocolError ? err : new ProtocolError('v1 §2', String(err));
      this.queue.clear();
      throw this.failed;
    }
  }

  /** feed() then every message now complete (throws on a violation). */
  push(chunk: Buffer): M[] {
    this.feed(chunk);
    const out: M[] = [];
    for (let m = this.next(); m !== undefined; m = this.next()) out.push(m);
    return out;
  }

  /** Takes a complete body (length bytes, all buffered) off the queue and decodes it. */
  protected takeBody(queue: ByteQueue, type: number, length: number): M {
    return this.decodeBody(type, queue.take(length));
  }

  /** Validates type and length against §2.3 limits before any allocation. */
  protected abstract checkLength(type: number, length: number): void;
  protected abstract decodeBody(type: number, body: Buffer): M;
}

function typeName(type: number): string {
  const entry = Object.entries(MessageType).find(([, code]) => code === type);
  return entry ? entry[0].toUpperCase() : `0x${type.toString(16).padStart(2, '0')}`;
}

function controlLength(type: number, length: number, min: number): void {
  if (length < min) {
    throw new ProtocolError('v1 §2.3', `${typeName(type)} body is ${length} bytes, shorter than its fixed part (${min})`);
  }
  if (length > MAX_CONTROL_BODY_BYTES) {
    throw new ProtocolError('v1 §2.3', `${typeName(type)} body of ${length} bytes exceeds ${MAX_CONTROL_BODY_BYTES}`);
  }
}

function readName(body: Buffer, at: number, what: string, rule: string): { value: string; next: number } {
  if (at >= body.length) throw new ProtocolError(rule, `${what} length byte missing`);
  const n = body.readUInt8(at);
  if (at + 1 + n > body.length) throw new ProtocolError(rule, `${what} runs past the end of the message`);
  return { value: body.toString('utf8', at + 1, at + 1 + n), next: at + 1 + n };
}

/** Parses what a client sends: HELLO, FRAME, BYE. */
export class ServerSideParser extends MessageParser<ClientMessage> {
  constructor(private readonly limits: ParserLimits) {
    super();
  }

  protected checkLength(type: number, length: number): void {
    switch (type) {
      case MessageType.Hello:
        return controlLength(type, length, HELLO_FIXED_BYTES);
      case MessageType.Frame: {
        const jpegBytes = length - FRAME_FIXED_BYTES;
        if (jpegBytes <= 0) throw new ProtocolError('v1 §2.3', `FRAME body of ${length} bytes carries no image bytes (minimum ${FRAME_FIXED_BYTES + 1})`);
        if (jpegBytes > this.limits.maxFrameBytes) {
          throw new ProtocolError(
            'v1 §2.3',
            `FRAME image of ${jpegBytes} bytes exceeds the server's maximum of ${this.limits.maxFrameBytes}`,
            ErrorCode.FrameTooLarge,
          );
        }
        return;
      }
      case MessageType.Bye:
        if (length !== 0) throw new ProtocolError('v1 §3.6', 'BYE has no body');
        return;
      default:
        throw new ProtocolError('v1 §2.1', `message type ${typeName(type)} is not one a client may send`, ErrorCode.UnexpectedMessage);
    }
  }

  /**
   * A FRAME's image is taken into a buffer of its own (ByteQueue.takeOwned),
   * so the worker pool moves it to a worker rather than copying it again:
   * an 8 MB frame costs the main thread one copy, not two.
   */
  protected override takeBody(queue: ByteQueue, type: number, length: number): ClientMessage {
    if (type !== MessageType.Frame) return super.takeBody(queue, type, length);
    const fixed = queue.take(FRAME_FIXED_BYTES);
    return { type: 'frame', seq: fixed.readUInt32LE(0), captureTimeMs: fixed.readDoubleLE(4), jpeg: queue.takeOwned(length - FRAME_FIXED_BYTES) };
  }

  /** HELLO and BYE (FRAME bodies go through takeBody). */
  protected decodeBody(type: number, body: Buffer): ClientMessage {
    if (type === MessageType.Hello) return decodeHello(body);
    return { type: 'bye' };
  }
}

/** Parses what a server sends: WELCOME, RESULT, ERROR. */
export class ClientSideParser extends MessageParser<ServerMessage> {
  private readonly maxResultBytes: number;

  constructor(limits: Partial<ParserLimits> = {}) {
    super();
    this.maxResultBytes = limits.maxResultBytes ?? 64 * 1024 * 1024;
  }

  protected checkLength(type: number, length: number): void {
    switch (type) {
      case MessageType.Welcome:
        return controlLength(type, length, WELCOME_FIXED_BYTES + 2);
      case MessageType.Error:
        return controlLength(type, length, 2);
      case MessageType.Zones:
        if (length < 2 || length > MAX_ZONES_BODY_BYTES) {
          throw new ProtocolError('v1.2 §2.3', `ZONES body of ${length} bytes is outside 2-${MAX_ZONES_BODY_BYTES}`);
        }
        return;
      case MessageType.Lines:
        if (length < 2 || length > MAX_LINES_BODY_BYTES) {
          throw new ProtocolError('v1.4 §2.3', `LINES body of ${length} bytes is outside 2-${MAX_LINES_BODY_BYTES}`);
        }
        return;
      case MessageType.Result:
        if (length < RESULT_FIXED_BYTES) throw new ProtocolError('v1 §3.4', `RESULT body of ${length} bytes is shorter than ${RESULT_FIXED_BYTES}`);
        if (length > this.maxResultBytes) throw new ProtocolError('v1 §3.4', `RESULT body of ${length} bytes exceeds ${this.maxResultBytes}`);
        return;
      default:
        throw new ProtocolError('v1 §2.1', `message type ${typeName(type)} is not one a server may send`, ErrorCode.UnexpectedMessage);
    }
  }

  protected decodeBody(type: number, body: Buffer): ServerMessage {
    switch (type) {
      case MessageType.Welcome:
        return decodeWelcome(body);
      case MessageType.Error:
        return decodeError(body);
      case MessageType.Zones:
        return decodeZonesBody(body);
      case MessageType.Lines:
        return decodeLinesBody(body);
      default:
        return decodeResult(body);
    }
  }
}

function densityFormatAt(body: Buffer, at: number, rule: string): DensityFormatCode {
  const value = body.readUInt8(at);
  if (!isDensityFormat(value)) throw new ProtocolError(rule, `unknown density format ${value}`);
  return value;
}

function decodeHello(body: Buffer): HelloMessage {
  if (!body.subarray(0, 4).equals(MAGIC)) {
    throw new ProtocolError('v1 §3.1', 'HELLO does not start with the magic "CRWD"', ErrorCode.BadMagic);
  }
  const name = readName(body, 10, 'camera name', 'v1 §3.1');
  const flags = body.readUInt8(7);
  const hello: HelloMessage = {
    type: 'hello',
    version: body.readUInt16LE(4),
    densityFormat: densityFormatAt(body, 6, 'v1 §3.1'),
    countOnly: (flags & HelloFlags.CountOnly) !== 0,
    window: body.readUInt16LE(8),
    cameraName: name.value,
  };
  // v1.1: without the flag, bytes after the name stay ignored (v1.0 rule).
  if (flags & HelloFlags.Extensions) {
    const ext = decodeHelloExtensions(body, name.next);
    if (ext.token !== undefined) hello.token = ext.token;
    if (ext.wantsZones) hello.wantsZones = true;
    if (ext.inputPolicy !== undefined) hello.inputPolicy = ext.inputPolicy;
    if (ext.wantsLines) hello.wantsLines = true;
  }
  return hello;
}

function decodeWelcome(body: Buffer): WelcomeMessage {
  const model = readName(body, WELCOME_FIXED_BYTES, 'model name', 'v1 §3.2');
  const provider = readName(body, model.next, 'provider name', 'v1 §3.2');
  return {
    type: 'welcome',
    version: body.readUInt16LE(0),
    densityFormat: densityFormatAt(body, 2, 'v1 §3.2'),
    countOnly: (body.readUInt8(3) & HelloFlags.CountOnly) !== 0,
    window: body.readUInt16LE(4),
    maxFrameBytes: body.readUInt32LE(6),
    inputWidth: body.readUInt16LE(10),
    inputHeight: body.readUInt16LE(12),
    outputStride: body.readUInt8(14),
    modelName: model.value,
    provider: provider.value,
  };
}

function decodeResult(body: Buffer): ResultMessage {
  const status = body.readUInt8(4);
  if (status > 3) throw new ProtocolError('v1 §3.4', `unknown RESULT status ${status}`);
  const format = densityFormatAt(body, 5, 'v1 §3.4');
  const height = body.readUInt16LE(36);
  const width = body.readUInt16LE(38);
  const scale = body.readFloatLE(40);
  // v1.2 (§3.4.2): flag bit 0 puts a zone block before the payload; v1.4 (§3.4.3): bit 1 a line block after it; other bits are ignored.
  const flags = body.readUInt16LE(6);
  const zones = (flags & ResultFlags.Zones) !== 0 ? decodeZoneBlock(body) : undefined;
  const linesAt = RESULT_FIXED_BYTES + (zones ? ZONE_BLOCK_HEAD_BYTES + zones.length * ZONE_ENTRY_BYTES : 0);
  const lines = (flags & ResultFlags.Lines) !== 0 ? decodeLineBlock(body, linesAt) : undefined;
  const payload = body.subarray(linesAt + (lines ? LINE_BLOCK_HEAD_BYTES + lines.length * LINE_ENTRY_BYTES : 0));
  const msg: ResultMessage = {
    type: 'result',
    seq: body.readUInt32LE(0),
    status: status as FrameStatusCode,
    densityFormat: format,
    captureTimeMs: body.readDoubleLE(8),
    count: body.readFloatLE(16),
    timings: {
      queueUs: body.readUInt32LE(20),
      decodeUs: body.readUInt32LE(24),
      inferUs: body.readUInt32LE(28),
      serverUs: body.readUInt32LE(32),
    },
  };
  if (zones) msg.zones = zones;
  if (lines) msg.lines = lines;
  if (format !== DensityFormat.None) {
    if (payload.length !== height * width * bytesPerValue(format)) {
      throw new ProtocolError('v1 §3.4.1', `density payload of ${payload.length} bytes does not match ${height}x${width}`);
    }
    msg.density = { height, width, values: decodeDensity(payload, format, height * width, scale) };
  } else if (payload.length > 0) {
    msg.reason = payload.toString('utf8');
  }
  return msg;
}

function decodeZoneBlock(body: Buffer): ZoneReading[] {
  if (body.length < RESULT_FIXED_BYTES + ZONE_BLOCK_HEAD_BYTES) throw new ProtocolError('v1.2 §3.4.2', 'RESULT zone block is cut short');
  const count = body.readUInt16LE(RESULT_FIXED_BYTES);
  let at = RESULT_FIXED_BYTES + ZONE_BLOCK_HEAD_BYTES;
  if (at + count * ZONE_ENTRY_BYTES > body.length) throw new ProtocolError('v1.2 §3.4.2', `RESULT zone block of ${count} zones runs past the end`);
  const zones: ZoneReading[] = [];
  for (let i = 0; i < count; i++, at += ZONE_ENTRY_BYTES) {
    const state = body.readUInt8(at + 2);
    if (state > ZoneAlertState.Alarm) throw new ProtocolError('v1.2 §3.4.2', `unknown zone alert state ${state}`);
    zones.push({
      id: body.readUInt16LE(at),
      state: state as ZoneAlertStateCode,
      people: body.readFloatLE(at + 4),
      smoothed: body.readFloatLE(at + 8),
      occupancy: body.readFloatLE(at + 12),
    });
  }
  return zones;
}

function decodeLineBlock(body: Buffer, at: number): LineCrossings[] {
  if (body.length < at + LINE_BLOCK_HEAD_BYTES) throw new ProtocolError('v1.4 §3.4.3', 'RESULT line block is cut short');
  const count = body.readUInt16LE(at);
  at += LINE_BLOCK_HEAD_BYTES;
  if (at + count * LINE_ENTRY_BYTES > body.length) throw new ProtocolError('v1.4 §3.4.3', `RESULT line block of ${count} lines runs past the end`);
  const lines: LineCrossings[] = [];
  for (let i = 0; i < count; i++, at += LINE_ENTRY_BYTES) {
    const line: LineCrossings = {
      id: body.readUInt16LE(at),
      intervalMs: body.readUInt32LE(at + 4),
      intervalIn: body.readFloatLE(at + 8),
      intervalOut: body.readFloatLE(at + 12),
      in: body.readDoubleLE(at + 16),
      out: body.readDoubleLE(at + 24),
    };
    // A count is people: never negative, never NaN or infinite (a client draws and sums them).
    for (const v of [line.intervalIn, line.intervalOut, line.in, line.out]) {
      if (!(Number.isFinite(v) && v >= 0)) throw new ProtocolError('v1.4 §3.4.3', `RESULT line ${line.id} carries a count that is not a finite number >= 0`);
    }
    lines.push(line);
  }
  return lines;
}

function decodeError(body: Buffer): ErrorMessage {
  return { type: 'error', code: body.readUInt16LE(0) as ErrorCodeValue, reason: body.toString('utf8', 2) };
}
