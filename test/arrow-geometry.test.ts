/** The counting lines' arrow geometry shared by the camera client, the console page and the server (src/common/arrow-geometry.ts). */
import test from 'ava';
import fc from 'fast-check';
import {
  ARROW_SIZE,
  alongLine,
  arrowHead,
  direction,
  inside,
  lineArrows,
  longestSegment,
  MAX_SLIDE_STEPS,
  sideNormal,
  slideClear,
  unit,
  type Pt,
} from '../src/common/arrow-geometry.js';

const close = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-9);

test('longestSegment: the first of the longest, its unit direction; none when every segment has length 0', (t) => {
  const seg = longestSegment([
    [0, 0],
    [3, 4],
    [3, 4],
    [6, 8],
    [0, 8],
  ]);
  t.deepEqual(seg, { a: [6, 8], b: [0, 8], dx: -1, dy: 0, length: 6 }, '5, 0, 5, 6: the 6 wins');
  t.deepEqual(
    longestSegment([
      [0, 0],
      [3, 4],
      [6, 8],
    ]),
    { a: [0, 0], b: [3, 4], dx: 0.6, dy: 0.8, length: 5 },
    'of equals, the first',
  );
  t.is(longestSegment([[1, 1]]), undefined);
  t.is(
    longestSegment([
      [1, 1],
      [1, 1],
    ]),
    undefined,
  );
});

test('sideNormal: on the image (y down) the right of travel is (-dy, dx), the left its opposite', (t) => {
  t.deepEqual(sideNormal(1, 0, 'right'), [-0, 1], 'walking +x, right is down the image');
  t.deepEqual(sideNormal(1, 0, 'left'), [0, -1]);
  t.deepEqual(sideNormal(0, 1, 'right'), [-1, 0], 'walking down, right is -x');
});

test('lineArrows: unrounded positions across the middle of the longest segment, apart by at most a quarter of it, scaled', (t) => {
  const arrows = lineArrows(
    [
      [0, 300],
      [768, 300],
    ],
    'left',
    0.5,
  );
  // Middle (384, 300); along +x by 12 (24 x 0.5); across 13 (26 x 0.5) to each side; left is up.
  t.deepEqual(arrows, { in: { from: [396, 313], to: [396, 287] }, out: { from: [372, 287], to: [372, 313] } });
  // A segment of 40: the arrows stand 10 (a quarter) from its middle, not 24.
  const short = lineArrows(
    [
      [100, 100],
      [140, 100],
    ],
    'right',
    1,
  );
  t.deepEqual(short?.in.from, [130, 100 - ARROW_SIZE.halfLength]);
  t.deepEqual(short?.out.to, [110, 100 - ARROW_SIZE.halfLength]);
  // Slanted: nothing is rounded (the client rounds to pixels, the page draws SVG).
  const slanted = lineArrows(
    [
      [0, 0],
      [300, 400],
    ],
    'right',
    1,
  );
  t.true(close(slanted!.in.to, [150 + 0.6 * 24 - 0.8 * 26, 200 + 0.8 * 24 + 0.6 * 26]), JSON.stringify(slanted));
});

test('lineArrows: for any polyline, the "in" arrow ends on the "in" side and the "out" arrow on the other', (t) => {
  const pt = fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 }));
  fc.assert(
    fc.property(fc.array(pt, { minLength: 2, maxLength: 6 }), fc.constantFrom('left' as const, 'right' as const), (points, side) => {
      const seg = longestSegment(points);
      const arrows = lineArrows(points, side, 1);
      if (!seg) return arrows === undefined;
      // Cross product of the direction of travel with (tip - a): > 0 is the right on a y-down image.
      const sideOf = (p: Pt): number => Math.sign(seg.dx * (p[1] - seg.a[1]) - seg.dy * (p[0] - seg.a[0]));
      const want = side === 'right' ? 1 : -1;
      return arrows !== undefined && sideOf(arrows.in.to) === want && sideOf(arrows.in.from) === -want && sideOf(arrows.out.to) === -want;
    }),
  );
  t.pass();
});

test('arrowHead: two strokes back from the tip, a third of the arrow long, 30 degrees either side; none for a zero arrow', (t) => {
  const head = arrowHead([0, 0], [0, 30]);
  t.truthy(head);
  const [a, b] = head!;
  t.true(close(a, [5, 30 - 10 * Math.cos(Math.PI / 6)]) || close(b, [5, 30 - 10 * Math.cos(Math.PI / 6)]), JSON.stringify(head));
  for (const p of [a, b]) {
    t.true(Math.abs(Math.hypot(p[0], p[1] - 30) - 10) < 1e-9, 'a third of 30 long');
    t.true(Math.abs(Math.abs(Math.atan2(p[0], 30 - p[1])) - Math.PI / 6) < 1e-9, '30 degrees off the shaft');
  }
  t.true(Math.sign(a[0]) === -Math.sign(b[0]), 'one each side');
  t.is(arrowHead([4, 4], [4, 4]), undefined);
});

test('direction: the unit vector from tail to tip, [0, 0] for one point', (t) => {
  t.deepEqual(direction([1, 1], [4, 5]), [0.6, 0.8]);
  t.deepEqual(direction([2, 2], [2, 2]), [0, 0]);
});

test('unit and alongLine: a line\'s labels slide from its "out" arrow towards its "in" arrow', (t) => {
  t.deepEqual(unit([3, -4]), [0.6, -0.8]);
  t.is(unit([0, 0]), undefined);
  const arrows = lineArrows(
    [
      [0, 300],
      [768, 300],
    ],
    'left',
    1,
  )!;
  t.deepEqual(alongLine(arrows), [1, 0], 'the "in" arrow stands further along the line');
});

test('slideClear: a label that would cover one placed before moves along its slide, step by step, inside the bounds; rounded only if asked', (t) => {
  const bounds = { x: 0, y: 0, w: 400, h: 300 };
  const placed = [{ x: 100, y: 100, w: 40, h: 16 }];
  // Clear where it is: stays.
  t.deepEqual(slideClear({ x: 200, y: 100, w: 40, h: 16 }, [0, -1], 8, placed, bounds), { x: 200, y: 100, w: 40, h: 16 });
  // Covering: up by 8 at a time until clear (2 steps: at y 84 it ends where the other begins).
  t.deepEqual(slideClear({ x: 110, y: 100, w: 40, h: 16 }, [0, -1], 8, placed, bounds), { x: 110, y: 84, w: 40, h: 16 });
  // No slide: stays, even covering.
  t.deepEqual(slideClear({ x: 110, y: 100, w: 40, h: 16 }, undefined, 8, placed, bounds), { x: 110, y: 100, w: 40, h: 16 });
  // Against the top edge it cannot get clear: stays where it was.
  const top = [{ x: 90, y: 0, w: 40, h: 16 }];
  t.deepEqual(slideClear({ x: 100, y: 0, w: 40, h: 16 }, [0, -1], 8, top, bounds), { x: 100, y: 0, w: 40, h: 16 });
  // Unrounded for the page; the client passes Math.round.
  const slant: Pt = [Math.SQRT1_2, -Math.SQRT1_2];
  const free = slideClear({ x: 110, y: 100, w: 40, h: 16 }, slant, 8, placed, bounds);
  t.false(Number.isInteger(free.x));
  const whole = slideClear({ x: 110, y: 100, w: 40, h: 16 }, slant, 8, placed, bounds, Math.round);
  t.true(Number.isInteger(whole.x) && Number.isInteger(whole.y));
  // At most MAX_SLIDE_STEPS steps: clear after 12 it moves, after 13 it stays.
  const below = (bottom: number) => [{ x: 0, y: 0, w: 400, h: bottom }];
  t.is(slideClear({ x: 10, y: 100, w: 40, h: 16 }, [0, 1], 8, below(100 + 8 * MAX_SLIDE_STEPS), bounds).y, 100 + 8 * MAX_SLIDE_STEPS);
  t.is(slideClear({ x: 10, y: 100, w: 40, h: 16 }, [0, 1], 8, below(100 + 8 * (MAX_SLIDE_STEPS + 1)), bounds).y, 100);
});

test('inside: the least move that puts a box inside the bounds', (t) => {
  const bounds = { x: 10, y: 20, w: 100, h: 50 };
  t.deepEqual(inside({ x: 0, y: 60, w: 30, h: 20 }, bounds), { x: 10, y: 50, w: 30, h: 20 });
  t.deepEqual(inside({ x: 40.4, y: 30, w: 30, h: 20 }, bounds), { x: 40.4, y: 30, w: 30, h: 20 });
  t.deepEqual(inside({ x: 40.4, y: 30, w: 30, h: 20 }, bounds, Math.round), { x: 40, y: 30, w: 30, h: 20 });
});
