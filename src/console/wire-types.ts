/**
 * The console's wire contract, types only: the server (src/console/wire.ts)
 * and the page (web/console/wire.ts) both import it, so the two sides cannot
 * drift apart. No imports and no values here: the page's compiler takes it in
 * by `import type` and nothing of it reaches the browser.
 * docs/console.md#the-websocket describes the messages.
 */

export type AlertState = 'ok' | 'warning' | 'alarm';
export type CameraState = 'waiting' | 'live' | 'stale' | 'offline';

export interface UpdateZone {
  id: number;
  /** 0 ok, 1 warning, 2 alarm: the protocol's zone state codes. */
  state: 0 | 1 | 2;
  /** Float32, exactly as the RESULT's zone block carries it. */
  people: number;
  smoothed: number;
  occupancy: number | null;
}

/** A counting line's totals as the RESULT's line block carries them (v1.4). */
export interface UpdateLine {
  id: number;
  /** People counted crossing to the "in" side since the server started, and the other way. */
  in: number;
  out: number;
}

/** The JSON header of a binary camera update. */
export interface UpdateHeader {
  camera: string;
  seq: number;
  /** Capture time the camera stamped (epoch ms; 0 when it sent none). */
  time: number;
  count: number;
  /** Answered frames per second, over the last few seconds. */
  fps: number;
  /** Receive to reply on the server, ms. */
  latencyMs: number;
  /** Decoded frame size (the JPEG's), when known. */
  image: { width: number; height: number } | null;
  /** u8 map: people per cell = value * scale. */
  density: { width: number; height: number; scale: number } | null;
  zones: UpdateZone[];
  /** Present when the camera has counting lines. */
  lines?: UpdateLine[];
  /** 0 in privacy mode (--console-video off). */
  jpegBytes: number;
}

export interface CameraZone {
  id: number;
  name: string;
  polygon: Array<[number, number]>;
  capacity?: number;
}

export interface CameraLine {
  id: number;
  name: string;
  /** A polyline, in the same coordinates as the zones' polygons. */
  points: Array<[number, number]>;
  /** Which side, walking from the first point to the last on the image (y down), is "in". */
  in: 'left' | 'right';
}

export interface CameraInfo {
  name: string;
  /** The site file's camera (its HELLO name); null for legacy connections. */
  site: string | null;
  state: CameraState;
  /** Epoch ms of the last answered frame seen, or null. */
  lastFrameAt: number | null;
  /** Size the polygons are in (null: the frame's own pixels). */
  reference: { width: number; height: number } | null;
  zones: CameraZone[];
  /** The site file's counting lines; present when the camera has any. */
  lines?: CameraLine[];
}

export interface AlertInfo {
  camera: string;
  zone: string;
  state: AlertState;
  previous: AlertState;
  rule: string;
  value: number | null;
  /** Capture time of the frame that changed the state (epoch ms). */
  since: number;
}

export interface HelloMessage {
  type: 'hello';
  video: boolean;
  fps: number;
  auth: boolean;
  user: { name: string; role: 'viewer' | 'admin' } | null;
  maxMessageBytes: number;
}

/** Server -> browser JSON text messages. */
export type ServerMessage = HelloMessage | { type: 'cameras'; cameras: CameraInfo[] } | { type: 'alerts'; active: AlertInfo[]; recent: AlertInfo[] };

/** Browser -> server JSON text. */
export type ViewerRequest = { type: 'watch'; cameras: '*' | string[] };
