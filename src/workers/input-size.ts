/**
 * Input-size policies: how a decoded frame becomes network input, per camera.
 *
 * - `fixed`: the whole frame resized to the model's input size (the
 *   manifest's preferredSize, or --input-size): one network run per frame,
 *   whatever the camera sends. Far heads in a large frame shrink with it.
 * - `native`: the frame at its own size, rounded to the model's sizeMultiple,
 *   scaled down (aspect kept) only where it has more than `maxInputPixels`.
 * - `tiled`: the frame at its own resolution cut into overlapping tiles of
 *   the model's input size, run as one batch; the tiles' density maps are
 *   stitched so that every cell of the frame's map comes from exactly one
 *   tile (the one whose centre region holds it), so each head counts once
 *   and the stitched map's sum is the count. A frame that would need more
 *   than `maxTiles` tiles is scaled down until it fits.
 *
 * Pure arithmetic: no decoding, no sessions (the worker uses these plans;
 * the main thread uses `inputCost` to charge a frame before it runs).
 */

export const INPUT_SIZE_POLICIES = ['fixed', 'native', 'tiled'] as const;
export type InputSizePolicy = (typeof INPUT_SIZE_POLICIES)[number];

export function isInputSizePolicy(value: unknown): value is InputSizePolicy {
  return typeof value === 'string' && (INPUT_SIZE_POLICIES as readonly string[]).includes(value);
}

/** Bounds on what one frame may cost under `native` and `tiled`. */
export interface InputSizeLimits {
  /** Most tiles one frame is cut into (tiled); a larger frame is scaled down to fit. */
  maxTiles: number;
  /** Most network-input pixels of one frame (native); a larger frame is scaled down to fit. */
  maxInputPixels: number;
  /** Tile overlap in input pixels (tiled): each tile's owned region keeps about half of it as context. */
  tileOverlap: number;
}

/**
 * Defaults: 16 tiles of 768x576 hold a 4K frame at about 0.7 x, or any
 * frame up to ~2.9 MP unscaled (16 x one fixed frame's inference, at most);
 * 1920x1080 runs native unscaled (4.7 x a 768x576 frame). 128 px of overlap
 * leaves every owned cell at least 64 px from a tile edge it does not share
 * with the frame.
 */
export const DEFAULT_INPUT_SIZE_LIMITS: InputSizeLimits = { maxTiles: 16, maxInputPixels: 1920 * 1080, tileOverlap: 128 };

/** Bounds for the options themselves (an operator typo must not ask for 10^6 tiles per frame). */
export const INPUT_SIZE_LIMIT_RANGES = {
  maxTiles: { min: 1, max: 64 },
  maxInputPixels: { min: 64 * 64, max: 7680 * 4320 },
} as const;

/** The network geometry a plan needs (from the manifest and the server's input size). */
export interface NetGeometry {
  /** Network input size under `fixed`, already a multiple of sizeMultiple: also the tile size. */
  width: number;
  height: number;
  sizeMultiple: number;
  /** Input pixels per density cell. */
  stride: number;
}

/** One axis of a tiling: tile origins (input pixels) and the cells each tile owns. */
export interface TileAxis {
  /** The frame's length along this axis after scaling (input pixels; a multiple of sizeMultiple, >= the tile). */
  length: number;
  /** Tile origins, ascending; the first is 0 and the last is length - tile. */
  origins: number[];
  /** Cell ranges [ownFrom[i], ownTo[i]) of the stitched map that tile i owns: a partition of [0, length / stride). */
  ownFrom: number[];
  ownTo: number[];
}

export interface TilePlan {
  /** The frame is resized to width x height (its own size, scaled to fit maxTiles, rounded), then cut. */
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  columns: TileAxis;
  rows: TileAxis;
  /** columns x rows. */
  tiles: number;
  stride: number;
}

function tilesAlong(length: number, tile: number, overlap: number): number {
  return length <= tile ? 1 : Math.ceil((length - overlap) / (tile - overlap));
}

/** The effective overlap: at most half a tile, so tiles always advance. */
function overlapFor(tile: number, overlap: number, multiple: number): number {
  return Math.max(0, Math.min(overlap, Math.floor(tile / 2 / multiple) * multiple));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Tile origins and lengths are multiples of both the size multiple and the output stride, so tile cells line up with the frame's. */
function tileAlignment(net: NetGeometry): number {
  return (net.sizeMultiple * net.stride) / gcd(net.sizeMultiple, net.stride);
}

function roundTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}

/** The scaled length of one axis: its own length x scale, rounded, and never under a tile (a shorter axis is stretched to the tile, as `fixed` does). */
function scaledLength(length: number, scale: number, tile: number, multiple: number): number {
  return Math.max(tile, roundTo(length * scale, multiple));
}

function axis(length: number, tile: number, overlap: number, stride: number, multiple: number): TileAxis {
  const n = tilesAlong(length, tile, overlap);
  const origins: number[] = [];
  for (let i = 0; i < n; i++) {
    // Evenly spread, aligned to the size multiple so every tile sees the network's grid in the same phase.
    origins.push(n === 1 ? 0 : Math.round((i * (length - tile)) / (n - 1) / multiple) * multiple);
  }
  const cells = length / stride;
  const ownFrom: number[] = [];
  const ownTo: number[] = [];
  for (let i = 0; i < n; i++) {
    // The border between tiles i and i+1 is the middle of their overlap, in whole cells.
    ownFrom.push(i === 0 ? 0 : ownTo[i - 1]);
    ownTo.push(i === n - 1 ? cells : Math.round((origins[i] + tile + origins[i + 1]) / 2 / stride));
  }
  return { length, origins, ownFrom, ownTo };
}

/**
 * How `tiled` cuts a frame of width x height. Scale 1 (the frame's own
 * pixels) unless that needs more than limits.maxTiles tiles: then the
 * largest scale at which it fits (found over the column counts 1..maxTiles).
 */
export function planTiles(frameWidth: number, frameHeight: number, net: NetGeometry, limits: InputSizeLimits = DEFAULT_INPUT_SIZE_LIMITS): TilePlan {
  checkGeometry(net);
  checkFrame(frameWidth, frameHeight);
  const { width: tw, height: th, stride } = net;
  const m = tileAlignment(net);
  if (tw % m !== 0 || th % m !== 0) throw new RangeError(`tiles of ${tw}x${th} are not a multiple of ${m} (size multiple and output stride)`);
  const ox = overlapFor(tw, limits.tileOverlap, m);
  const oy = overlapFor(th, limits.tileOverlap, m);
  const count = (s: number): number => tilesAlong(scaledLength(frameWidth, s, tw, m), tw, ox) * tilesAlong(scaledLength(frameHeight, s, th, m), th, oy);
  let scale = 1;
  if (count(1) > limits.maxTiles) {
    scale = 0;
    for (let cols = 1; cols <= limits.maxTiles; cols++) {
      const rows = Math.floor(limits.maxTiles / cols);
      // Largest scale whose lengths fit cols x rows tiles; rounding can push a length one multiple over, so step back until it fits.
      let s = Math.min(1, (cols * (tw - ox) + ox) / frameWidth, (rows * (th - oy) + oy) / frameHeight);
      while (s > 0 && count(s) > limits.maxTiles) s -= m / Math.max(frameWidth, frameHeight);
      if (s > scale) scale = s;
    }
    // Tiny scales still give one tile (each axis at least a tile), so a fit always exists.
    if (scale <= 0) scale = Math.min(tw / frameWidth, th / frameHeight);
  }
  const width = scaledLength(frameWidth, scale, tw, m);
  const height = scaledLength(frameHeight, scale, th, m);
  const columns = axis(width, tw, ox, stride, m);
  const rows = axis(height, th, oy, stride, m);
  return { width, height, tileWidth: tw, tileHeight: th, columns, rows, tiles: columns.origins.length * rows.origins.length, stride };
}

/**
 * `native`: the frame's own size rounded to the size multiple, scaled down
 * (aspect kept) where it has more than limits.maxInputPixels; never scaled up.
 */
export function planNative(
  frameWidth: number,
  frameHeight: number,
  net: NetGeometry,
  limits: InputSizeLimits = DEFAULT_INPUT_SIZE_LIMITS,
): { width: number; height: number } {
  checkGeometry(net);
  checkFrame(frameWidth, frameHeight);
  const m = net.sizeMultiple;
  const scale = Math.min(1, Math.sqrt(limits.maxInputPixels / (frameWidth * frameHeight)));
  let width = roundTo(frameWidth * scale, m);
  let height = roundTo(frameHeight * scale, m);
  // Rounding up may cross the limit: take the multiple below instead (never below one multiple).
  if (width * height > limits.maxInputPixels) {
    width = Math.max(m, Math.floor((frameWidth * scale) / m) * m);
    height = Math.max(m, Math.floor((frameHeight * scale) / m) * m);
  }
  return { width, height };
}

/**
 * What a frame costs under `policy`, in units of one `fixed` network run
 * (network-input pixels / the fixed input's pixels, at least 1): what a
 * scheduler charges its sender. Computed from the frame header's size alone.
 */
export function inputCost(
  policy: InputSizePolicy,
  frameWidth: number,
  frameHeight: number,
  net: NetGeometry,
  limits: InputSizeLimits = DEFAULT_INPUT_SIZE_LIMITS,
): number {
  if (policy === 'fixed') return 1;
  if (policy === 'tiled') return planTiles(frameWidth, frameHeight, net, limits).tiles;
  const { width, height } = planNative(frameWidth, frameHeight, net, limits);
  return Math.max(1, (width * height) / (net.width * net.height));
}

/**
 * Stitches the tiles' density maps (`tileMaps`: plan.tiles maps of
 * (tileHeight / stride) x (tileWidth / stride) cells, row-major by tile row,
 * then tile column, back to back) into the frame's map of (plan.height /
 * stride) x (plan.width / stride) cells: each cell is copied from the one
 * tile that owns it, so the map's sum counts every head once.
 */
export function stitchTiles(plan: TilePlan, tileMaps: Float32Array, out?: Float32Array): Float32Array {
  const s = plan.stride;
  const tileW = plan.tileWidth / s;
  const tileH = plan.tileHeight / s;
  const mapW = plan.width / s;
  const mapH = plan.height / s;
  if (tileMaps.length < plan.tiles * tileW * tileH) {
    throw new RangeError(`stitchTiles: ${plan.tiles} tiles of ${tileW}x${tileH} cells need ${plan.tiles * tileW * tileH} values, got ${tileMaps.length}`);
  }
  const map = out ?? new Float32Array(mapW * mapH);
  if (map.length < mapW * mapH) throw new RangeError(`stitchTiles: the output holds ${map.length} cells, the map has ${mapW * mapH}`);
  const { columns, rows } = plan;
  let tile = 0;
  for (let r = 0; r < rows.origins.length; r++) {
    const y0 = rows.origins[r] / s;
    for (let c = 0; c < columns.origins.length; c++, tile++) {
      const x0 = columns.origins[c] / s;
      const base = tile * tileW * tileH;
      const from = columns.ownFrom[c];
      const to = columns.ownTo[c];
      for (let y = rows.ownFrom[r]; y < rows.ownTo[r]; y++) {
        const src = base + (y - y0) * tileW + (from - x0);
        map.set(tileMaps.subarray(src, src + (to - from)), y * mapW + from);
      }
    }
  }
  return map;
}

function checkGeometry(net: NetGeometry): void {
  const { width, height, sizeMultiple: m, stride } = net;
  if (!(Number.isInteger(m) && Number.isInteger(stride) && m >= 1 && stride >= 1 && width >= m && height >= m && width % m === 0 && height % m === 0)) {
    throw new RangeError(`input size ${width}x${height} is not a multiple of sizeMultiple ${m}`);
  }
}

function checkFrame(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`frame size ${width}x${height} is not positive`);
}
