/**
 * Who else sees answered frames: the operator's console (src/console). The
 * session calls it after the reply is written, so it can never delay a
 * camera; while nobody watches, the session keeps no reference to the
 * frame's bytes and does not call `answered` at all.
 */
import type { JobOutcome } from '../batcher/types.js';
import type { LineCrossings, ZoneReading } from '../framing/index.js';

export interface AnsweredFrame {
  /** The connection's label: camera name, `identity/camera` with auth, or the peer's address (legacy). */
  camera: string;
  /** The HELLO camera name (the site file's key); undefined for legacy connections. */
  siteCamera: string | undefined;
  seq: number;
  captureTimeMs: number;
  /** Receive to reply, in microseconds. */
  serverUs: number;
  /** The JPEG exactly as received; present only when the tap was watching when the frame arrived. */
  jpeg: Uint8Array | undefined;
  outcome: JobOutcome;
  /** The zone block the RESULT carried (or would carry), in id order. */
  zones: readonly ZoneReading[] | undefined;
  /** The camera's line crossings when the RESULT was sent (or would have been), in id order; undefined without lines. */
  lines?: readonly LineCrossings[] | undefined;
}

export interface ResultTap {
  /** Read when a frame is answered: false, and answered() is not called at all. */
  readonly watching: boolean;
  /** Read when a frame arrives: whether to keep a reference to its JPEG until it is answered. */
  readonly wantsJpeg: boolean;
  /** A connection named its camera (v1 HELLO accepted) or was recognised (legacy). */
  cameraOpened(camera: string, siteCamera: string | undefined): void;
  answered(frame: AnsweredFrame): void;
  cameraClosed(camera: string): void;
}
