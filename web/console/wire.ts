/**
 * What the console's WebSocket carries, as the page reads it. The message
 * types are the server's own (src/console/wire-types.ts); the server writes
 * updates in src/console/wire.ts; docs/console.md describes both.
 */

import type { AlertState, HelloMessage, ServerMessage, UpdateHeader } from '../../src/console/wire-types.js';

export type {
  AlertInfo,
  AlertState,
  CameraInfo,
  CameraLine,
  CameraState,
  CameraZone,
  UpdateHeader,
  UpdateLine,
  UpdateZone,
} from '../../src/console/wire-types.js';
export type Hello = HelloMessage;
export type StateMessage = ServerMessage;

export interface Update {
  header: UpdateHeader;
  /** u8 cells, row-major: people per cell = value * header.density.scale. */
  density: Uint8Array<ArrayBuffer>;
  /** The camera's JPEG as it sent it; empty in privacy mode. */
  jpeg: Uint8Array<ArrayBuffer>;
  /** When the page received it (performance.now()). */
  receivedAt: number;
}

const FRAME_KIND = 1;
const PREFIX = 5;
const utf8 = new TextDecoder();

/** A binary camera update: u8 kind | u32le header length | JSON header | density | JPEG. */
export function decodeUpdate(buffer: ArrayBuffer): Update {
  const view = new DataView(buffer);
  if (buffer.byteLength < PREFIX || view.getUint8(0) !== FRAME_KIND) throw new Error('not a camera update');
  const length = view.getUint32(1, true);
  const header = JSON.parse(utf8.decode(new Uint8Array(buffer, PREFIX, length))) as UpdateHeader;
  const start = PREFIX + length;
  const cells = header.density ? header.density.width * header.density.height : 0;
  if (start + cells + header.jpegBytes !== buffer.byteLength) throw new Error('camera update length does not match its header');
  return {
    header,
    density: new Uint8Array(buffer, start, cells),
    jpeg: new Uint8Array(buffer, start + cells, header.jpegBytes),
    receivedAt: performance.now(),
  };
}

export const ZONE_STATES: readonly AlertState[] = ['ok', 'warning', 'alarm'];
