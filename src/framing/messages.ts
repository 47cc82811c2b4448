import type { DensityFormatCode, ErrorCodeValue, FrameStatusCode } from './constants.js';

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
export type ServerMessage = WelcomeMessage | ResultMessage | ErrorMessage;
export type Message = ClientMessage | ServerMessage;
