/**
 * Input-size policies (src/workers/input-size.ts): the tile plan, the
 * stitching (each cell from exactly one tile, so every head counts once),
 * native rounding, and the limits that bound a frame's cost.
 */
import test from 'ava';
import fc from 'fast-check';
import { DEFAULT_INPUT_SIZE_LIMITS, inputCost, planNative, planTiles, stitchTiles, type NetGeometry, type TilePlan } from '../src/workers/input-size.js';

const V2: NetGeometry = { width: 768, height: 576, sizeMultiple: 16, stride: 8 };
const V1: NetGeometry = { width: 768, height: 576, sizeMultiple: 8, stride: 8 };

/** The tiles' maps as a network would return them for a frame whose true map is `frame`: each tile sees its window of it. */
function tileMapsOf(plan: TilePlan, frame: Float32Array): Float32Array {
  const s = plan.stride;
  const tw = plan.tileWidth / s;
  const th = plan.tileHeight / s;
  const mapW = plan.width / s;
  const out = new Float32Array(plan.tiles * tw * th);
  let t = 0;
  for (const y0 of plan.rows.origins) {
    for (const x0 of plan.columns.origins) {
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) out[t * tw * th + y * tw + x] = frame[(y0 / s + y) * mapW + x0 / s + x];
      }
      t++;
    }
  }
  return out;
}

function randomMap(cells: number, seed: number): Float32Array {
  const map = new Float32Array(cells);
  let x = seed;
  for (let i = 0; i < cells; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    map[i] = (x % 1000) / 1000;
  }
  return map;
}

const sum = (a: Float32Array): number => a.reduce((n, v) => n + v, 0);

test('a 4K frame fits 16 tiles of 768x576 (scaled down), every tile the model size, origins aligned', (t) => {
  const plan = planTiles(3840, 2160, V2);
  t.true(plan.tiles <= DEFAULT_INPUT_SIZE_LIMITS.maxTiles);
  t.true(plan.tiles >= 12, `${plan.tiles} tiles: the budget should be nearly used`);
  t.true(plan.width < 3840 && plan.width >= 2400, `scaled width ${plan.width}`);
  t.is(plan.width % 16, 0);
  t.is(plan.height % 16, 0);
  for (const axis of [plan.columns, plan.rows]) {
    t.is(axis.origins[0], 0);
    for (const o of axis.origins) t.is(o % 16, 0);
  }
  t.is(plan.columns.origins.at(-1), plan.width - 768);
  t.is(plan.rows.origins.at(-1), plan.height - 576);
});

test('a frame that fits the tile budget is cut at its own resolution; one at most the tile size is one tile', (t) => {
  const plan = planTiles(1024, 768, V2);
  t.is(plan.width, 1024);
  t.is(plan.height, 768);
  t.is(plan.tiles, 4);
  const small = planTiles(640, 480, V2);
  t.is(small.tiles, 1);
  t.deepEqual([small.width, small.height], [768, 576]); // stretched to the tile, as fixed does
});

test('stitching: a frame whose tiles see windows of a known map gives that map back, sum included', (t) => {
  for (const [w, h] of [
    [1024, 768],
    [1920, 1080],
    [3840, 2160],
    [2000, 700],
    [800, 3000],
  ]) {
    const plan = planTiles(w, h, V2);
    const cells = (plan.width / 8) * (plan.height / 8);
    const frame = randomMap(cells, w + h);
    const tiles = tileMapsOf(plan, frame);
    const stitched = stitchTiles(plan, tiles);
    t.deepEqual(stitched, frame, `${w}x${h}`);
    t.is(sum(stitched), sum(frame));
    // The overlap is real: summing the tiles whole would count the shared heads twice.
    if (plan.tiles > 1) t.true(sum(tiles) > sum(frame) * 1.05, `${w}x${h}: tiles overlap`);
  }
});

test('one head in an overlap counts once, whichever tiles see it', (t) => {
  const plan = planTiles(1920, 1080, V2);
  const mapW = plan.width / 8;
  const frame = new Float32Array(mapW * (plan.height / 8));
  // A head in the overlap of the first two columns (both tiles hold this cell).
  const cx = (plan.columns.origins[1] + 768 / 2 - 384 + 8) / 8;
  frame[10 * mapW + cx] = 1;
  const tiles = tileMapsOf(plan, frame);
  t.is(sum(tiles), 2, 'two tiles see the head');
  t.is(sum(stitchTiles(plan, tiles)), 1);
});

test('ownership: the owned ranges partition every axis, for any frame size and tile budget', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7680 }), fc.integer({ min: 1, max: 4320 }), fc.integer({ min: 1, max: 64 }), (w, h, maxTiles) => {
      const plan = planTiles(w, h, V1, { ...DEFAULT_INPUT_SIZE_LIMITS, maxTiles });
      if (plan.tiles > maxTiles) return false;
      for (const [axis, tile] of [
        [plan.columns, plan.tileWidth],
        [plan.rows, plan.tileHeight],
      ] as const) {
        const n = axis.origins.length;
        if (axis.ownFrom[0] !== 0 || axis.ownTo[n - 1] !== axis.length / 8) return false;
        for (let i = 0; i < n; i++) {
          // Owned cells lie inside the tile, and ranges follow each other without a gap.
          if (axis.ownFrom[i] < axis.origins[i] / 8 || axis.ownTo[i] > (axis.origins[i] + tile) / 8) return false;
          if (axis.ownFrom[i] >= axis.ownTo[i]) return false;
          if (i > 0 && axis.ownFrom[i] !== axis.ownTo[i - 1]) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('tile budget: the limit bounds every frame, and a smaller budget scales the frame further down', (t) => {
  const big = planTiles(7680, 4320, V2, { ...DEFAULT_INPUT_SIZE_LIMITS, maxTiles: 4 });
  t.true(big.tiles <= 4);
  const bigger = planTiles(7680, 4320, V2, { ...DEFAULT_INPUT_SIZE_LIMITS, maxTiles: 9 });
  t.true(bigger.tiles <= 9 && bigger.width > big.width);
  const one = planTiles(7680, 4320, V2, { ...DEFAULT_INPUT_SIZE_LIMITS, maxTiles: 1 });
  t.is(one.tiles, 1);
  t.deepEqual([one.width, one.height], [768, 576]);
  // A panorama strip: still within the budget.
  t.true(planTiles(7680, 64, V2).tiles <= DEFAULT_INPUT_SIZE_LIMITS.maxTiles);
});

test('native: the frame rounded to the size multiple, never scaled up, scaled down within the pixel limit', (t) => {
  t.deepEqual(planNative(1000, 700, V2), { width: 1008, height: 704 });
  t.deepEqual(planNative(1000, 700, V1), { width: 1000, height: 704 });
  t.deepEqual(planNative(320, 240, V2), { width: 320, height: 240 });
  // 1080 rounds up to 1088, which would cross the 1920x1080 pixel limit: the multiple below instead.
  t.deepEqual(planNative(1920, 1080, V2), { width: 1920, height: 1072 });
  const limit = 1920 * 1080;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7680 }), fc.integer({ min: 1, max: 4320 }), (w, h) => {
      const n = planNative(w, h, V2, { ...DEFAULT_INPUT_SIZE_LIMITS, maxInputPixels: limit });
      return n.width % 16 === 0 && n.height % 16 === 0 && (n.width * n.height <= limit || n.width === 16 || n.height === 16) && n.width <= Math.max(16, w + 8);
    }),
    { numRuns: 300 },
  );
  const four = planNative(3840, 2160, V2);
  t.true(four.width * four.height <= DEFAULT_INPUT_SIZE_LIMITS.maxInputPixels);
  t.true(Math.abs(four.width / four.height - 16 / 9) < 0.02, 'aspect kept');
});

test('cost: fixed 1, tiled its tile count, native its pixels in fixed frames', (t) => {
  t.is(inputCost('fixed', 3840, 2160, V2), 1);
  t.is(inputCost('tiled', 3840, 2160, V2), planTiles(3840, 2160, V2).tiles);
  t.is(inputCost('tiled', 640, 480, V2), 1);
  const n = planNative(1920, 1080, V2);
  t.is(inputCost('native', 1920, 1080, V2), (n.width * n.height) / (768 * 576));
  t.is(inputCost('native', 320, 240, V2), 1);
});

test('bad geometry and frames are refused, not planned', (t) => {
  t.throws(() => planTiles(0, 100, V2), { instanceOf: RangeError });
  t.throws(() => planTiles(100, 100, { ...V2, width: 770 }), { instanceOf: RangeError });
  t.throws(() => stitchTiles(planTiles(1920, 1080, V2), new Float32Array(10)), { instanceOf: RangeError });
});
