/** What a Session is given by the server: the batcher, options, the gate, the frame screen, zones and where to log. */
import type { GreyImage } from '../lines/grey.js';
import type { InputSizePolicy } from '../workers/input-size.js';
import type { Batcher } from '../batcher/batcher.js';
import type { LineCrossings, LinesMessage, ZoneReading, ZonesMessage } from '../framing/index.js';
import type { LogFields } from '../log/logger.js';
import type { FailureCause } from '../workers/types.js';
import type { ModelInfo } from './adapter.js';
import type { ConnectionGate } from './gate.js';
import type { ServerObserver } from './observer.js';
import type { ServerOptions } from './options.js';
import type { RateCaps } from './rate-caps.js';
import type { SenderSettings } from './sender-settings.js';
import type { ResultTap } from './result-tap.js';

/**
 * Looks at a frame before it is queued: either why it must fail without
 * reaching a worker, or what decoding it will cost (decode work from its
 * header, 0 if unknown), which the fair scheduler charges, and its pixels
 * (width x height, 0 if unknown), which the pixel-rate cap charges.
 */
export type FrameScreen = (jpeg: Uint8Array) => { refused: { reason: string; cause: FailureCause } } | { work: number; pixels?: number };

/** Zones by camera name (src/zones): what to tell a client, and the readings of each frame. */
export interface ZoneSource {
  describe(camera: string): Omit<ZonesMessage, 'type'>;
  /** The site file's input-size policy for the camera, if it sets one (it wins over the client's). */
  inputPolicy?(camera: string): InputSizePolicy | undefined;
  /** The site file's weight, priority class and rate caps for the camera, where it sets them (they win over its identity's). */
  senderSettings?(camera: string): SenderSettings | undefined;
  /** Undefined when the camera has no zones. */
  observe(
    camera: string,
    timeMs: number,
    map: { height: number; width: number; values: Float32Array },
    frame: { width: number; height: number } | undefined,
  ): ZoneReading[] | undefined;
}

/** Counting lines by camera name (src/lines): which cameras need grey copies, and each ok frame in reply order. */
export interface LineSource {
  wantsMotion(camera: string): boolean;
  observe(
    camera: string,
    connection: number,
    timeMs: number,
    map: { height: number; width: number; values: Float32Array },
    grey: GreyImage | undefined,
    frame: { width: number; height: number } | undefined,
  ): void;
  /** v1.4: the LINES message for a camera (empty list without lines). */
  describe?(camera: string): Omit<LinesMessage, 'type'>;
  /** v1.4: each line's crossings now, for the RESULT's line block; undefined without lines. */
  crossings?(camera: string): LineCrossings[] | undefined;
}

/** Where a session's log lines go; `kind` groups lines for rate limiting (and is the line's `event`). */
export interface SessionLog {
  write(kind: string, line: string, fields?: LogFields): void;
}

export interface SessionDeps {
  batcher: Batcher;
  options: ServerOptions;
  model: () => ModelInfo;
  observer: ServerObserver;
  log: SessionLog;
  /** The peer's address and port, as log lines name the connection. */
  address: string;
  /** The peer's address alone (an IPv4-mapped one as IPv4); its sender key is addressKey() of it, as the per-address limits count it. */
  host: string;
  /** Frame-rate and pixel-rate buckets per sender; absent: no caps. */
  rateCaps?: RateCaps;
  /** Authentication and transport policy (src/auth); absent: everyone is welcome. */
  gate?: ConnectionGate;
  screen?: FrameScreen;
  /** The site file's zones; absent: no site file (clients that ask get an empty ZONES). */
  zones?: ZoneSource;
  /** The site file's counting lines (src/lines); absent: none. */
  lines?: LineSource;
  /** Sees every answered frame after its reply is written (the console); absent: nobody. */
  tap?: ResultTap;
}
