/** What one camera's stream is told (its options) and tells back (answers, state). */
import type { Frame } from '../capture/frame.js';
import type { ClientSecurity } from './connection.js';
import type { DensityFormatCode, frameStatusName, InputPolicyName, LinesMessage, ResultMessage, ZonesMessage } from '../../src/framing/index.js';

export interface CameraStreamOptions {
  name: string;
  host: string;
  port: number;
  densityFormat: DensityFormatCode;
  /** Frames in flight to ask the server for (0: 2 for live sources, else the server default). */
  window: number;
  jpegQuality: number;
  /** Frames wider than this are scaled down before sending (0: never). */
  maxWidth: number;
  /** Send at most this many frames per second (0: as fast as the server allows; live sources: their own rate). */
  fps: number;
  /** Stop after this many frames from the source (0: no limit). */
  maxFrames: number;
  security?: ClientSecurity;
  /** v1.2: ask the server for this camera's zones (an older server ignores the request). */
  wantsZones?: boolean;
  /** v1.4: ask the server for this camera's counting lines (an older server ignores the request). */
  wantsLines?: boolean;
  /** v1.3: the input-size policy to ask for (an older server ignores the request). */
  inputPolicy?: InputPolicyName;
}

/** A frame sent to the server, kept until its answer arrives. */
export interface SentFrame {
  frame: Frame;
  seq: number;
}

export type AnswerStatus = ReturnType<typeof frameStatusName> | 'lost';

export interface Answer {
  frame: Frame;
  status: AnswerStatus;
  /** Present for answers that came from the server. */
  result?: ResultMessage;
  latencyMs: number;
  /** The server's zones the result's zone readings refer to (the latest ZONES before it). */
  zones?: ZonesMessage;
  /** The server's counting lines the result's line block refers to (the latest LINES before it). */
  lines?: LinesMessage;
}

export type StreamState = 'connecting' | 'streaming' | 'waiting-to-retry' | 'done' | 'failed';
