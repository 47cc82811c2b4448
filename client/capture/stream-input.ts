import type { RawFrame } from './frame.js';

/** Where a camera's frames come from. */
export interface StreamInput {
  /** Names the source in messages. */
  readonly text: string;
  /** Real time: frames come whether or not they are taken, and skipping is fine. */
  readonly live: boolean;
  /** Nominal frame rate (0: unknown); pulled live sources are read at this pace. */
  readonly fps: number;
  /** Pulled sources only: the next frame, or undefined at the end. Pushed sources call offer(). */
  read?(): RawFrame | undefined;
  /** No more frames wanted. */
  close(): void;
}
