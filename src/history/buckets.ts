/**
 * History in buckets of `step` seconds, as the database query returns it,
 * the API sends it (docs/api.md) and the console's chart draws it: the
 * columns of one series, and which step a range gets. No imports: the
 * console page loads it as it is (served at /src/history/buckets.js).
 */

/** One zone's buckets as columns, one entry per bucket that had samples (uPlot's data layout). */
export interface ZoneBuckets {
  camera: string;
  zone: string;
  /** Epoch seconds of each bucket's start (a multiple of the step). */
  time: number[];
  frames: number[];
  /** People per frame, the mean over the bucket (weighted by frames). */
  people_mean: number[];
  people_max: number[];
  /** The smoothed value the alert rules use, the frame-weighted mean (null: none in the bucket). */
  smoothed: Array<number | null>;
  /** The highest alert state in the bucket: 0 ok, 1 warning, 2 alarm. */
  state: number[];
}

/** A line's crossings as columns, one entry per bucket that had any. */
export interface LineBuckets {
  camera: string;
  line: string;
  time: number[];
  in: number[];
  out: number[];
}

/**
 * Steps the API picks from when a request names none: whole seconds that
 * divide a minute, then whole minutes and hours, so buckets line up with the
 * stored per-minute and per-hour rows.
 */
export const API_STEPS: readonly number[] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400];

/** The console chart's steps: the API's and 2 min and 15 min, finer at 24 h (2 min, not 5) and 7 d (15 min, not 30). */
export const CHART_STEPS: readonly number[] = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

/** How many buckets of `step` seconds cover `spanS` seconds. */
export function bucketCount(spanS: number, step: number): number {
  return Math.ceil(spanS / step);
}

/** The smallest step of `ladder` that covers `spanS` in at most `maxBuckets` buckets (the ladder's largest if none does). */
export function stepFor(spanS: number, maxBuckets: number, ladder: readonly number[]): number {
  return ladder.find((s) => bucketCount(spanS, s) <= maxBuckets) ?? ladder[ladder.length - 1];
}

/** The first step of `ladder` at or above `least` (undefined: none is). */
export function stepAtLeast(least: number, ladder: readonly number[]): number | undefined {
  return ladder.find((s) => s >= least);
}
