/**
 * Builds v1 messages as bytes (docs/protocol.md §2-§3). Kept apart from the
 * parser: generating needs no state, parsing is a state machine.
 */
import {
  DensityFormat,
  FRAME_FIXED_BYTES,
  HEADER_BYTES,
  HELLO_FIXED_BYTES,
  HelloFlags,
  LINE_BLOCK_HEAD_BYTES,
  LINE_ENTRY_BYTES,
  MAGIC,
  MAX_NAME_BYTES,
  MAX_ZONES_BODY_BYTES,
  MessageType,
  type MessageTypeCode,
  RESULT_FIXED_BYTES,
  ResultFlags,
  WELCOME_FIXED_BYTES,
  ZONE_BLOCK_HEAD_BYTES,
  ZONE_ENTRY_BYTES,
} from './constants.js';
import { encodeDensity } from './density-codec.js';
import { encodeHelloExtensions } from './hello-extensions.js';
import { encodeLinesBody } from './lines-message.js';
import type {
  ByeMessage,
  ErrorMessage,
  FrameMessage,
  HelloMessage,
  LineCrossings,
  LinesMessage,
  ResultMessage,
  WelcomeMessage,
  ZoneReading,
  ZonesMessage,
} from './messages.js';

function header(type: MessageTypeCode, bodyLength: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt8(type, 0);
  h.writeUInt32LE(bodyLength, 4);
  return h;
}

function nameBytes(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= MAX_NAME_BYTES) return bytes;
  // Cut on a character boundary so the receiver still sees valid UTF-8.
  let end = MAX_NAME_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export function encodeHello(msg: Omit<HelloMessage, 'type'>): Buffer {
  const name = nameBytes(msg.cameraName);
  // v1.1 (§3.1.1): extensions only when there is something to carry, so a plain HELLO stays byte-identical to v1.0.
  const ext = encodeHelloExtensions({ token: msg.token, wantsZones: msg.wantsZones, inputPolicy: msg.inputPolicy, wantsLines: msg.wantsLines });
  const body = Buffer.alloc(HELLO_FIXED_BYTES + name.length + ext.length);
  MAGIC.copy(body, 0);
  body.writeUInt16LE(msg.version, 4);
  body.writeUInt8(msg.densityFormat, 6);
  body.writeUInt8((msg.countOnly ? HelloFlags.CountOnly : 0) | (ext.length > 0 ? HelloFlags.Extensions : 0), 7);
  body.writeUInt16LE(msg.window, 8);
  body.writeUInt8(name.length, 10);
  name.copy(body, HELLO_FIXED_BYTES);
  ext.copy(body, HELLO_FIXED_BYTES + name.length);
  return Buffer.concat([header(MessageType.Hello, body.length), body]);
}

export function encodeWelcome(msg: Omit<WelcomeMessage, 'type'>): Buffer {
  const model = nameBytes(msg.modelName);
  const provider = nameBytes(msg.provider);
  const body = Buffer.alloc(WELCOME_FIXED_BYTES + 1 + model.length + 1 + provider.length);
  body.writeUInt16LE(msg.version, 0);
  body.writeUInt8(msg.densityFormat, 2);
  body.writeUInt8(msg.countOnly ? HelloFlags.CountOnly : 0, 3);
  body.writeUInt16LE(msg.window, 4);
  body.writeUInt32LE(msg.maxFrameBytes, 6);
  body.writeUInt16LE(msg.inputWidth, 10);
  body.writeUInt16LE(msg.inputHeight, 12);
  body.writeUInt8(msg.outputStride, 14);
  let at = WELCOME_FIXED_BYTES;
  body.writeUInt8(model.length, at++);
  model.copy(body, at);
  at += model.length;
  body.writeUInt8(provider.length, at++);
  provider.copy(body, at);
  return Buffer.concat([header(MessageType.Welcome, body.length), body]);
}

/** Header plus fixed part of a FRAME; the JPEG follows as its own chunk (no copy). */
export function encodeFrameHead(seq: number, captureTimeMs: number, jpegLength: number): Buffer {
  const head = Buffer.alloc(HEADER_BYTES + FRAME_FIXED_BYTES);
  head.writeUInt8(MessageType.Frame, 0);
  head.writeUInt32LE(FRAME_FIXED_BYTES + jpegLength, 4);
  head.writeUInt32LE(seq >>> 0, HEADER_BYTES);
  head.writeDoubleLE(captureTimeMs, HEADER_BYTES + 4);
  return head;
}

export function encodeFrame(msg: Omit<FrameMessage, 'type'>): Buffer {
  return Buffer.concat([encodeFrameHead(msg.seq, msg.captureTimeMs, msg.jpeg.length), msg.jpeg]);
}

/**
 * Encodes a RESULT as a list of chunks (head, payload) so a large density map
 * is written to the socket without being copied into one buffer.
 */
export function encodeResultChunks(msg: Omit<ResultMessage, 'type'>): Buffer[] {
  let payload: Buffer;
  let scale = 1;
  let format = msg.densityFormat;
  let height = 0;
  let width = 0;
  if (msg.density && format !== DensityFormat.None) {
    const encoded = encodeDensity(msg.density.values, format);
    payload = encoded.bytes;
    scale = encoded.scale;
    height = msg.density.height;
    width = msg.density.width;
  } else {
    format = DensityFormat.None;
    payload = msg.reason ? Buffer.from(msg.reason, 'utf8') : Buffer.alloc(0);
  }
  // v1.2 (§3.4.2): the zone block sits between the fixed fields and the payload.
  // v1.4 (§3.4.3): the line block follows the zone block (or the fixed fields).
  const zones = msg.zones === undefined ? 0 : ZONE_BLOCK_HEAD_BYTES + msg.zones.length * ZONE_ENTRY_BYTES;
  const lines = msg.lines === undefined ? 0 : LINE_BLOCK_HEAD_BYTES + msg.lines.length * LINE_ENTRY_BYTES;
  const head = Buffer.alloc(HEADER_BYTES + RESULT_FIXED_BYTES + zones + lines);
  head.writeUInt8(MessageType.Result, 0);
  head.writeUInt32LE(RESULT_FIXED_BYTES + zones + lines + payload.length, 4);
  const o = HEADER_BYTES;
  head.writeUInt32LE(msg.seq >>> 0, o);
  head.writeUInt8(msg.status, o + 4);
  head.writeUInt8(format, o + 5);
  head.writeUInt16LE((msg.zones !== undefined ? ResultFlags.Zones : 0) | (msg.lines !== undefined ? ResultFlags.Lines : 0), o + 6);
  if (msg.zones !== undefined) writeZoneBlock(head, o + RESULT_FIXED_BYTES, msg.zones);
  if (msg.lines !== undefined) writeLineBlock(head, o + RESULT_FIXED_BYTES + zones, msg.lines);
  head.writeDoubleLE(msg.captureTimeMs, o + 8);
  head.writeFloatLE(msg.count, o + 16);
  head.writeUInt32LE(clampU32(msg.timings.queueUs), o + 20);
  head.writeUInt32LE(clampU32(msg.timings.decodeUs), o + 24);
  head.writeUInt32LE(clampU32(msg.timings.inferUs), o + 28);
  head.writeUInt32LE(clampU32(msg.timings.serverUs), o + 32);
  head.writeUInt16LE(height, o + 36);
  head.writeUInt16LE(width, o + 38);
  head.writeFloatLE(scale, o + 40);
  return payload.length > 0 ? [head, payload] : [head];
}

function writeZoneBlock(into: Buffer, at: number, zones: readonly ZoneReading[]): void {
  if (zones.length > 0xffff) throw new RangeError('a RESULT carries at most 65535 zones');
  into.writeUInt16LE(zones.length, at);
  at += ZONE_BLOCK_HEAD_BYTES;
  for (const zone of zones) {
    into.writeUInt16LE(zone.id, at);
    into.writeUInt8(zone.state, at + 2);
    into.writeFloatLE(zone.people, at + 4);
    into.writeFloatLE(zone.smoothed, at + 8);
    into.writeFloatLE(zone.occupancy, at + 12);
    at += ZONE_ENTRY_BYTES;
  }
}

function writeLineBlock(into: Buffer, at: number, lines: readonly LineCrossings[]): void {
  if (lines.length > 0xffff) throw new RangeError('a RESULT carries at most 65535 lines');
  into.writeUInt16LE(lines.length, at);
  at += LINE_BLOCK_HEAD_BYTES;
  for (const line of lines) {
    into.writeUInt16LE(line.id, at);
    into.writeUInt32LE(clampU32(line.intervalMs), at + 4);
    into.writeFloatLE(count(line.intervalIn), at + 8);
    into.writeFloatLE(count(line.intervalOut), at + 12);
    into.writeDoubleLE(count(line.in), at + 16);
    into.writeDoubleLE(count(line.out), at + 24);
    at += LINE_ENTRY_BYTES;
  }
}

/** §3.4.3: a count on the wire is finite and never negative (a client rejects anything else). */
function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

export function encodeResult(msg: Omit<ResultMessage, 'type'>): Buffer {
  return Buffer.concat(encodeResultChunks(msg));
}

/** v1.2 (§3.7): the camera's zones as UTF-8 JSON. */
export function encodeZones(msg: Omit<ZonesMessage, 'type'>): Buffer {
  const json: Omit<ZonesMessage, 'type'> = { camera: msg.camera, zones: msg.zones };
  if (msg.width !== undefined && msg.height !== undefined) {
    json.width = msg.width;
    json.height = msg.height;
  }
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  if (body.length > MAX_ZONES_BODY_BYTES) throw new RangeError(`ZONES body of ${body.length} bytes is over ${MAX_ZONES_BODY_BYTES}`);
  return Buffer.concat([header(MessageType.Zones, body.length), body]);
}

/** v1.4 (§3.8): the camera's counting lines as UTF-8 JSON. */
export function encodeLines(msg: Omit<LinesMessage, 'type'>): Buffer {
  const body = encodeLinesBody(msg);
  return Buffer.concat([header(MessageType.Lines, body.length), body]);
}

export function encodeError(msg: Omit<ErrorMessage, 'type'>): Buffer {
  const reason = Buffer.from(msg.reason, 'utf8').subarray(0, 2000);
  const body = Buffer.alloc(2 + reason.length);
  body.writeUInt16LE(msg.code, 0);
  reason.copy(body, 2);
  return Buffer.concat([header(MessageType.Error, body.length), body]);
}

export function encodeBye(_msg?: Omit<ByeMessage, 'type'>): Buffer {
  return header(MessageType.Bye, 0);
}

function clampU32(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return value > 0xffffffff ? 0xffffffff : Math.round(value);
}
