/**
 * Error by density band: the images of an evaluation grouped by their true
 * count (default < 100, 100-500, > 500 people), so a user sees where a model
 * is weak (a split's overall MAE hides a model that is right on sparse
 * scenes and 30 % short on dense ones).
 */

/** Band edges in people: [100, 500] gives < 100, 100-500 and > 500. */
export const DEFAULT_BAND_EDGES: readonly number[] = [100, 500];

export interface BandReport {
  /** e.g. "< 100", "100-500", "500+". */
  label: string;
  /** True counts in [from, to) (to: Infinity for the last band). */
  from: number;
  to: number;
  images: number;
  mae: number;
  rmse: number;
  /** Mean of predicted - true. */
  bias: number;
  meanTruth: number;
  meanPredicted: number;
}

export function parseBandEdges(text: string): number[] {
  const edges = text.split(',').map((s) => Number(s.trim()));
  if (edges.length === 0 || edges.some((e) => !Number.isFinite(e) || e <= 0))
    throw new RangeError(`band edges must be positive numbers, e.g. 100,500; got "${text}"`);
  for (let i = 1; i < edges.length; i++) if (edges[i] <= edges[i - 1]) throw new RangeError(`band edges must ascend, got "${text}"`);
  return edges;
}

/** One report per band, empty bands included (images 0, errors NaN), in ascending order. */
export function densityBands(results: ReadonlyArray<{ truth: number; predicted: number }>, edges: readonly number[] = DEFAULT_BAND_EDGES): BandReport[] {
  const bounds = [0, ...edges, Number.POSITIVE_INFINITY];
  const bands: BandReport[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const from = bounds[b];
    const to = bounds[b + 1];
    const label = b === 0 ? `< ${to}` : to === Number.POSITIVE_INFINITY ? `${from}+` : `${from}-${to}`;
    const rows = results.filter((r) => r.truth >= from && r.truth < to);
    const n = rows.length;
    const err = rows.map((r) => r.predicted - r.truth);
    bands.push({
      label,
      from,
      to,
      images: n,
      mae: err.reduce((s, e) => s + Math.abs(e), 0) / n,
      rmse: Math.sqrt(err.reduce((s, e) => s + e * e, 0) / n),
      bias: err.reduce((s, e) => s + e, 0) / n,
      meanTruth: rows.reduce((s, r) => s + r.truth, 0) / n,
      meanPredicted: rows.reduce((s, r) => s + r.predicted, 0) / n,
    });
  }
  return bands;
}

/** The bands as text lines for the terminal. */
export function formatBands(bands: readonly BandReport[]): string {
  const lines = ['by true count:'];
  for (const b of bands) {
    if (b.images === 0) {
      lines.push(`  ${b.label.padEnd(9)} no images`);
      continue;
    }
    const sign = b.bias >= 0 ? '+' : '';
    lines.push(
      `  ${b.label.padEnd(9)} ${String(b.images).padStart(4)} images  MAE ${b.mae.toFixed(2)}  RMSE ${b.rmse.toFixed(2)}  bias ${sign}${b.bias.toFixed(2)}  ` +
        `mean predicted / true ${b.meanPredicted.toFixed(1)} / ${b.meanTruth.toFixed(1)}`,
    );
  }
  return lines.join('\n');
}
