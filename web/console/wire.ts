/**
 * What the console's WebSocket carries, as the page reads it (the server's
 * side is src/console/wire.ts; docs/console.md describes both).
 */

export type AlertState = 'ok' | 'warning' | 'alarm';
export type CameraState = 'waiting' | 'live' | 'stale' | 'offline';

export interface UpdateZone {
  id: number;
  /** 0 ok, 1 warning, 2 alarm (the protocol's zone state codes). */
  state: 0 | 1 | 2;
  people: number;
  smoothed: number;
  occupancy: number | null;
}

export interface UpdateHeader {
  camera: string;
  seq: number;
  time: number;
  count: number;
  fps: number;
  latencyMs: number;
  image: { width: number; height: number } | null;
  density: { width: number; height: number; scale: number } | null;
  zones: UpdateZone[];
  jpegBytes: number;
}

export interface Update {
  header: UpdateHeader;
  /** u8 cells, row-major: people per cell = value * header.density.scale. */
  density: Uint8Array<ArrayBuffer>;
  /** The camera's JPEG as it sent it; empty in privacy mode. */
  jpeg: Uint8Array<ArrayBuffer>;
  /** When the page received it (performance.now()). */
  receivedAt: number;
}

export interface CameraZone {
  id: number;
  name: string;
  polygon: Array<[number, number]>;
  capacity?: number;
}

export interface CameraInfo {
  name: string;
  site: string | null;
  state: CameraState;
  lastFrameAt: number | null;
  reference: { width: number; height: number } | null;
  zones: CameraZone[];
}

export interface AlertInfo {
  camera: string;
  zone: string;
  state: AlertState;
  previous: AlertState;
  rule: string;
  value: number | null;
  since: number;
}

export interface Hello {
  type: 'hello';
  video: boolean;
  fps: number;
  auth: boolean;
  user: { name: string; role: 'viewer' | 'admin' } | null;
  maxMessageBytes: number;
}

export type StateMessage = Hello | { type: 'cameras'; cameras: CameraInfo[] } | { type: 'alerts'; active: AlertInfo[]; recent: AlertInfo[] };

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
