import type { DensityFormatCode, ErrorCodeValue, FrameStatusCode, ZoneAlertStateCode } from './constants.js';
import type { InputPolicyName } from './hello-extensions.js';

/** Client -> server, first message of a v1 connection (§3.1). */
export interface HelloMessage {
  type: 'hello';
  version: number;
  densityFormat: DensityFormatCode;
  countOnly: boolean;
  /** Frames the client would like in flight; 0 lets the server choose. */
  window: number;
  cameraName: string;
  /** v1.1 (§3.1.1): the client's secret token, when it has one. */
  token?: string;
  /** v1.2 (§3.1.1 tag 0x02): the client wants ZONES and per-zone readings in RESULTs. */
  wantsZones?: boolean;
  /** v1.3 (§3.1.1 tag 0x03): the input-size policy the client asks for its frames. */
  inputPolicy?: InputPolicyName;
  /** v1.4 (§3.1.1 tag 0x04): the client wants LINES and per-line crossings in RESULTs. */
  wantsLines?: boolean;
}

/** Server -> client answer to HELLO (§3.2). */
export interface WelcomeMessage {
  type: 'welcome';
  version: number;
  densityFormat: DensityFormatCode;
  countOnly: boolean;
  window: number;
  maxFrameBytes: number;
  inputWidth: number;
  inputHeight: number;
  outputStride: number;
  modelName: string;
  provider: string;
}

/** Client -> server, one JPEG image (§3.3). */
export interface FrameMessage {
  type: 'frame';
  seq: number;
  /** Capture time in ms since the Unix epoch, on the client's clock; echoed back. */
  captureTimeMs: number;
  jpeg: Uint8Array;
}

/** Server-side timings reported with each RESULT, in microseconds (§3.4). */
export interface ServerTimings {
  queueUs: number;
  decodeUs: number;
  inferUs: number;
  serverUs: number;
}

/** Density map as sent: `values` holds height*width numbers, row-major. */
export interface DensityMap {
  height: number;
  width: number;
  values: Float32Array;
}

/** Server -> client, exactly one per FRAME, in FRAME order (§3.4). */
export interface ResultMessage {
  type: 'result';
  seq: number;
  status: FrameStatusCode;
  captureTimeMs: number;
  /** Head count (sum of the full-precision density map); NaN unless ok. */
  count: number;
  timings: ServerTimings;
  /** Present when status is ok and the session did not ask for counts only. */
  density?: DensityMap;
  /** The density map's wire encoding (None when no map is carried). */
  densityFormat: DensityFormatCode;
  /** Human-readable reason when status is not ok. */
  reason?: string;
  /** v1.2 (§3.4.2): per-zone readings, on ok RESULTs of a client that asked for zones. */
  zones?: ZoneReading[];
  /** v1.4 (§3.4.3): per-line crossings, on ok RESULTs of a client that asked for lines. */
  lines?: LineCrossings[];
}

/** v1.4 (§3.4.3): one counting line's crossings as they stand when the RESULT is sent. */
export interface LineCrossings {
  /** Index into the latest LINES message's `lines`. */
  id: number;
  /** People counted crossing to the line's "in" side, and to the other side, since the server started (or the line was defined). */
  in: number;
  out: number;
  /** The latest closed counting interval: its length in ms of capture time (0: none closed yet) and what crossed in it. */
  intervalMs: number;
  intervalIn: number;
  intervalOut: number;
}

/** v1.4 (§3.8): one counting line as the server knows it. */
export interface LineDescription {
  id: number;
  name: string;
  /** A polyline, in pixels of an image `width x height` (or of the frame as sent when those are absent). */
  points: Array<[number, number]>;
  /** Which side, walking from the first point to the last on the image (y down), is "in". */
  in: 'left' | 'right';
  /** Width of the band the crossings are measured in, same units as the points; absent: the server's default. */
  bandPx?: number;
}

/** v1.4 (§3.8): server -> client, the camera's counting lines; sent after WELCOME and again after a reload. */
export interface LinesMessage {
  type: 'lines';
  camera: string;
  width?: number;
  height?: number;
  lines: LineDescription[];
}

/** v1.2 (§3.4.2): one zone's reading for one frame. */
export interface ZoneReading {
  /** Index into the latest ZONES message's `zones`. */
  id: number;
  state: ZoneAlertStateCode;
  /** People in the zone in this frame: the density map summed over the polygon. */
  people: number;
  /** Exponential moving average of `people` over the zone's time constant. */
  smoothed: number;
  /** smoothed / capacity; NaN when the zone has no capacity. */
  occupancy: number;
}

/** v1.2 (§3.7): one zone as the server knows it. */
export interface ZoneDescription {
  id: number;
  name: string;
  /** Corners in pixels of an image `width x height` (or of the frame as sent when those are absent). */
  polygon: Array<[number, number]>;
  /** People the zone is meant to hold; absent when the site file gives none. */
  capacity?: number;
}

/** v1.2 (§3.7): server -> client, the camera's zones; sent after WELCOME and again after a reload. */
export interface ZonesMessage {
  type: 'zones';
  camera: string;
  /** Size of the image the polygons' coordinates refer to; absent: the frame as sent. */
  width?: number;
  height?: number;
  zones: ZoneDescription[];
}

/** Server -> client, fatal for the connection (§3.5). */
export interface ErrorMessage {
  type: 'error';
  code: ErrorCodeValue;
  reason: string;
}

/** Client -> server: no more frames; answer those in flight, then close (§3.6). */
export interface ByeMessage {
  type: 'bye';
}

export type ClientMessage = HelloMessage | FrameMessage | ByeMessage;
export type ServerMessage = WelcomeMessage | ResultMessage | ErrorMessage | ZonesMessage | LinesMessage;
export type Message = ClientMessage | ServerMessage;
