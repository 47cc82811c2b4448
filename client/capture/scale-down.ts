/** Frames wider than --max-width are scaled down before sending (in-process sources; capture processes scale their own). */
import type { RawFrame } from './frame.js';
import { resizeInterpolation, type OpenCV } from '../opencv.js';

/** `raw` scaled to at most `maxWidth` wide, keeping its aspect (0: never scaled); capture processes' JPEGs pass through. */
export function scaleToMaxWidth(cv: OpenCV, raw: RawFrame, maxWidth: number): RawFrame {
  // Capture processes scale their frames themselves.
  if (!raw.image || maxWidth <= 0 || raw.image.cols <= maxWidth) return raw;
  const image = raw.image;
  const height = Math.max(2, Math.round((image.rows * maxWidth) / image.cols));
  return { image: image.resize(height, maxWidth, 0, 0, resizeInterpolation(cv, maxWidth / image.cols)) };
}
