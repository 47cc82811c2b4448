/**
 * What the console's WebSocket carries (docs/console.md#the-websocket).
 * Server -> browser: JSON text messages for state (hello, cameras, alerts)
 * and one binary message per camera update:
 *
 *   u8 kind (1) | u32le header length H | H bytes of JSON header | density (w*h u8) | JPEG bytes
 *
 * Browser -> server: JSON text, at most limits.maxMessageBytes: `{"type":"watch","cameras":"*"|[names]}`.
 */
import type { UpdateHeader, ViewerRequest } from './wire-types.js';

export type * from './wire-types.js';

export const UPDATE_KIND_FRAME = 1;
/** Bytes before the JSON header: kind + header length. */
export const UPDATE_PREFIX_BYTES = 5;

export function encodeUpdate(header: UpdateHeader, density: Uint8Array | undefined, jpeg: Uint8Array | undefined): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const densityBytes = density?.byteLength ?? 0;
  const jpegBytes = jpeg?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(UPDATE_PREFIX_BYTES + json.length + densityBytes + jpegBytes);
  out.writeUInt8(UPDATE_KIND_FRAME, 0);
  out.writeUInt32LE(json.length, 1);
  json.copy(out, UPDATE_PREFIX_BYTES);
  if (density) out.set(density, UPDATE_PREFIX_BYTES + json.length);
  if (jpeg) out.set(jpeg, UPDATE_PREFIX_BYTES + json.length + densityBytes);
  return out;
}

/** The inverse, for tests and tools (the page has its own copy in TypeScript for the browser). */
export function decodeUpdate(message: Uint8Array): { header: UpdateHeader; density: Uint8Array; jpeg: Uint8Array } {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length < UPDATE_PREFIX_BYTES || buf.readUInt8(0) !== UPDATE_KIND_FRAME) throw new Error('not a console update');
  const length = buf.readUInt32LE(1);
  const header = JSON.parse(buf.subarray(UPDATE_PREFIX_BYTES, UPDATE_PREFIX_BYTES + length).toString('utf8')) as UpdateHeader;
  const start = UPDATE_PREFIX_BYTES + length;
  const cells = header.density ? header.density.width * header.density.height : 0;
  const density = buf.subarray(start, start + cells);
  const jpeg = buf.subarray(start + cells, start + cells + header.jpegBytes);
  if (start + cells + header.jpegBytes !== buf.length) throw new Error('console update length does not match its header');
  return { header, density, jpeg };
}

/** Parses what a browser sent; undefined for anything not understood (the viewer is then cut). */
export function parseViewerRequest(text: string): ViewerRequest | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { type?: unknown; cameras?: unknown };
  if (r.type !== 'watch') return undefined;
  if (r.cameras === '*') return { type: 'watch', cameras: '*' };
  if (Array.isArray(r.cameras) && r.cameras.length <= 256 && r.cameras.every((c) => typeof c === 'string' && c.length <= 200)) {
    return { type: 'watch', cameras: r.cameras as string[] };
  }
  return undefined;
}
