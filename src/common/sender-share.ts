/**
 * What a site file's camera entry or a credentials entry may set about a
 * sender's share of the workers, and the bounds both files check. A leaf
 * module: the site file and credentials parsers use it without depending on
 * the accept layer (src/accept/sender-settings.ts combines them per connection).
 */

/** What a site file's camera entry or a credentials entry may set; absent: the next place decides. */
export interface SenderSettings {
  weight?: number;
  priority?: number;
  /** Frames per second (0: no cap). */
  maxFps?: number;
  /** Decoded pixels per second (0: no cap). */
  maxPixelRate?: number;
}

/** A weight: 1/100 to 100 times an ordinary camera's share. */
export const MIN_WEIGHT = 0.01;
export const MAX_WEIGHT = 100;
/** Priority classes, higher served first. */
export const MIN_PRIORITY = -9;
export const MAX_PRIORITY = 9;
/** Highest frame-rate cap an entry may set (above any camera; 0 means none at all). */
export const MAX_FPS = 1000;
