/** What runClient is asked to do (ClientOptions) and what it reports when it ends (ClientReport). */
import type { DensityFormatCode } from '../../src/framing/index.js';
import type { CameraSpec } from '../config/cameras.js';
import type { RecordFormat } from '../config/config-file.js';
import type { ClientSecurity } from '../connection/connection.js';
import type { StopSignal } from './stop-signals.js';
import type { CameraSummary } from './summary.js';

export interface RecordOptions {
  format: RecordFormat;
  /** MP4: length of each file. */
  segmentSeconds: number;
  /** MP4: most files kept per camera (0: all). */
  keepSegments: number;
}

export interface ClientOptions {
  host: string;
  port: number;
  cameras: CameraSpec[];
  display: boolean;
  /** Headless recording folder (video + CSV per camera). */
  outDir?: string;
  record?: RecordOptions;
  /** A live camera that gives no frame for this long is restarted. */
  stallTimeoutMs?: number;
  jpegQuality?: number;
  maxWidth?: number;
  window?: number;
  fps?: number;
  maxFrames?: number;
  /** Treat files as live (real-time pacing, newest frame wins). */
  live?: boolean;
  densityFormat?: DensityFormatCode;
  /** Token and TLS settings for every camera's connection. */
  security?: ClientSecurity;
  /** v1.2: ask the server for zones (default true; a camera's `zones: false` opts it out). */
  zones?: boolean;
  /** v1.4: ask the server for counting lines (default true; a camera's `lines: false` opts it out). */
  lines?: boolean;
  /** Progress bars on stderr for file sources (default: headless on a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  /** Aborting stops the client as q/Esc would. */
  signal?: AbortSignal;
}

export interface ClientReport {
  cameras: CameraSummary[];
  /** Summary table plus the cost line, as printed. */
  text: string;
  /** Sources that failed for good, and live cameras that never gave a frame. */
  failedSources: number;
  /** Frames the server answered (ok, dropped or error), all cameras. */
  answered: number;
  /** Why the run ended early, if it did. */
  stoppedBy?: StopSignal | 'quit' | 'aborted';
}
