/** Zone sums against hand-computed values on synthetic maps (docs/zones.md, coverage). */
import test from 'ava';
import fc from 'fast-check';
import { coverageMask, maskedSum, MaskCache } from '../src/zones/coverage.js';
import { clipToBand, polygonArea, type Point } from '../src/zones/polygon.js';

const close = (a: number, b: number, eps = 1e-5): boolean => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));
/** Map whose cell (c, r) holds 1 + r * width + c: every cell different, so a wrong cell shows. */
function indexMap(width: number, height: number): Float32Array {
  return Float32Array.from({ length: width * height }, (_, i) => 1 + i);
}
function weightsOf(mask: ReturnType<typeof coverageMask>, width: number): Map<string, number> {
  const out = new Map<string, number>();
  mask.cells.forEach((cell, i) => out.set(`${cell % width},${Math.floor(cell / width)}`, mask.weights[i]));
  return out;
}

test('a rectangle on cell edges takes whole cells and nothing else', (t) => {
  const map = { width: 4, height: 3 };
  const mask = coverageMask(
    [
      [1, 0],
      [3, 0],
      [3, 2],
      [1, 2],
    ],
    map,
    map,
  );
  t.deepEqual([...weightsOf(mask, 4).entries()].sort(), [
    ['1,0', 1],
    ['1,1', 1],
    ['2,0', 1],
    ['2,1', 1],
  ]);
  // cells (1,0)=2, (2,0)=3, (1,1)=6, (2,1)=7
  t.is(maskedSum(mask, indexMap(4, 3)), 2 + 3 + 6 + 7);
});

test('a rectangle with fractional edges weights edge cells by the area inside', (t) => {
  const map = { width: 4, height: 3 };
  const mask = coverageMask(
    [
      [0.5, 0.5],
      [2.5, 0.5],
      [2.5, 1.5],
      [0.5, 1.5],
    ],
    map,
    map,
  );
  const w = weightsOf(mask, 4);
  t.deepEqual([...w.entries()].sort(), [
    ['0,0', 0.25],
    ['0,1', 0.25],
    ['1,0', 0.5],
    ['1,1', 0.5],
    ['2,0', 0.25],
    ['2,1', 0.25],
  ]);
  // 0.25*1 + 0.5*2 + 0.25*3 + 0.25*5 + 0.5*6 + 0.25*7 = 8
  t.true(close(maskedSum(mask, indexMap(4, 3)), 8));
  t.true(close(mask.area, 2));
});

test('a triangle: its hypotenuse halves the cells it cuts diagonally', (t) => {
  const map = { width: 3, height: 3 };
  const mask = coverageMask(
    [
      [0, 0],
      [2, 0],
      [0, 2],
    ],
    map,
    map,
  );
  const w = weightsOf(mask, 3);
  t.is(w.get('0,0'), 1);
  t.true(close(w.get('1,0') as number, 0.5));
  t.true(close(w.get('0,1') as number, 0.5));
  t.false(w.has('1,1'), 'the corner (1,1) only touches the hypotenuse');
  // 1*1 + 0.5*2 + 0.5*4 = 4
  t.true(close(maskedSum(mask, indexMap(3, 3)), 4));
});

test('a concave polygon crossing cells at odd angles: weights sum to its area and match a fine sampling', (t) => {
  const map = { width: 6, height: 5 };
  const poly: Point[] = [
    [0.3, 0.2],
    [5.6, 0.9],
    [4.1, 2.2],
    [5.2, 4.7],
    [2.4, 3.1],
    [0.8, 4.4],
  ];
  const mask = coverageMask(poly, map, map);
  t.true(close(mask.area, polygonArea(poly), 1e-9));
  // Independent estimate: sample each cell on a 200 x 200 grid with a point-in-polygon test.
  const w = weightsOf(mask, 6);
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 6; c++) {
      let inside = 0;
      const n = 200;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (pointIn(poly, c + (i + 0.5) / n, r + (j + 0.5) / n)) inside++;
      t.true(Math.abs((w.get(`${c},${r}`) ?? 0) - inside / (n * n)) < 0.01, `cell ${c},${r}`);
    }
  }
});

test('a map smaller than the frame: frame pixels are scaled to cells (stride 8), fractions included', (t) => {
  const frame = { width: 640, height: 480 };
  const map = { width: 80, height: 60 };
  // x 84..244 -> cells 10.5..30.5; y 40..200 -> cells 5..25
  const mask = coverageMask(
    [
      [84, 40],
      [244, 40],
      [244, 200],
      [84, 200],
    ],
    frame,
    map,
  );
  t.true(close(mask.area, 20 * 20));
  const values = new Float32Array(80 * 60).fill(0.01);
  t.true(close(maskedSum(mask, values), 4));
  const w = weightsOf(mask, 80);
  t.true(close(w.get('10,5') as number, 0.5));
  t.is(w.get('11,5'), 1);
  t.true(close(w.get('30,24') as number, 0.5));
  t.false(w.has('31,5'));
  t.false(w.has('10,25'));
});

test('a map whose aspect differs from the frame (the network input is the whole frame resized)', (t) => {
  // 768x576 frame into a 240x135 map: x scales by 0.3125, y by 0.234375.
  const mask = coverageMask(
    [
      [0, 0],
      [768, 0],
      [768, 576],
      [0, 576],
    ],
    { width: 768, height: 576 },
    { width: 240, height: 135 },
  );
  t.true(close(mask.area, 240 * 135));
  const half = coverageMask(
    [
      [0, 288],
      [768, 288],
      [768, 576],
      [0, 576],
    ],
    { width: 768, height: 576 },
    { width: 240, height: 135 },
  );
  t.true(close(half.area, 240 * 67.5));
});

test('corners outside the frame count only the part on the map', (t) => {
  const map = { width: 4, height: 4 };
  const mask = coverageMask(
    [
      [-2, -2],
      [2, -2],
      [2, 2],
      [-2, 2],
    ],
    map,
    map,
  );
  t.true(close(mask.area, 4));
});

test('property: on a uniform map a zone sums to the area of its part on the map, in cells', (t) => {
  // Corners may lie outside the frame; the reference clips with Sutherland-Hodgman, the mask rasterises by edge accumulation.
  const coord = fc.double({ min: -50, max: 150, noNaN: true });
  fc.assert(
    fc.property(fc.tuple(coord, coord), fc.tuple(coord, coord), fc.tuple(coord, coord), (a, b, c) => {
      const tri: Point[] = [a, b, c];
      fc.pre(polygonArea(tri) > 1e-3);
      const map = { width: 13, height: 7 };
      const mask = coverageMask(tri, { width: 100, height: 100 }, map);
      const scaled: Point[] = tri.map(([x, y]) => [(x * 13) / 100, (y * 7) / 100]);
      const expected = polygonArea(clipToBand(clipToBand(scaled, 0, 0, 13), 1, 0, 7));
      return (
        Math.abs(maskedSum(mask, new Float32Array(13 * 7).fill(1)) - expected) < 1e-5 * Math.max(1, expected) && [...mask.weights].every((w) => w > 0 && w <= 1)
      );
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('the mask cache computes once per (map, frame) size', (t) => {
  const cache = new MaskCache([
    [0, 0],
    [10, 0],
    [10, 10],
  ]);
  const a = cache.get({ width: 10, height: 10 }, { width: 5, height: 5 });
  t.is(cache.get({ width: 10, height: 10 }, { width: 5, height: 5 }), a);
  t.not(cache.get({ width: 20, height: 20 }, { width: 5, height: 5 }), a);
});

function pointIn(poly: readonly Point[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
