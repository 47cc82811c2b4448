/** The overlay tints in proportion to density: empty areas keep their real colours. */
import test from 'ava';
import { loadOpenCV } from '../client/opencv.js';
import { OverlayPainter } from '../client/display/overlay.js';

test('blend: zero density leaves pixels as they were, the densest cells are coloured most', async (t) => {
  const cv = await loadOpenCV();
  const frame = new cv.Mat(60, 80, cv.CV_8UC3, [90, 120, 150]);
  // 8x6 cells: left half empty, right half a ramp up to the peak in the last column.
  const values = new Float32Array(8 * 6);
  for (let y = 0; y < 6; y++) for (let x = 4; x < 8; x++) values[y * 8 + x] = (x - 3) * 0.25;
  const out = new OverlayPainter(cv).blend(frame, { width: 8, height: 6, values });
  const at = (x: number, y: number): number[] => {
    const v = out.atRaw(y, x) as unknown as number[];
    return [v[0], v[1], v[2]];
  };
  const change = (x: number): number => {
    const [b, g, r] = at(x, 30);
    return Math.abs(b - 90) + Math.abs(g - 120) + Math.abs(r - 150);
  };
  t.deepEqual(at(5, 30), [90, 120, 150], 'an empty area keeps its colour exactly');
  t.deepEqual(at(30, 5), [90, 120, 150]);
  t.true(change(50) > 0, 'a low density tints a little');
  t.true(change(78) > change(55), `more density, more colour (${change(55)} -> ${change(78)})`);
});
