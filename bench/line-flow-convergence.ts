/**
 * Does the lines' flow (src/lines/flow.ts) converge as refinements are
 * added? For 1, 2, 3, 5 and 8 refinements a level: the mean per-pixel error
 * on a known 3 px right, 1 px down shift of a blocky texture, and on the
 * sample video (frames 300 -> 301, the window round the `centre` line) the
 * mean warped residual |B(x + flow) - A(x)| in grey levels. A flow that
 * converges keeps both flat or falling; docs/zones.md quotes the figures.
 *
 *   node dist/bench/line-flow-convergence.js
 */
import { cropGrey, DEFAULT_FLOW_OPTIONS, denseFlow } from '../src/lines/flow.js';
import { vtestFrames } from '../test/helpers/vtest-lines.js';

const GW = 192;
const GH = 144;

/** The texture test/lines-motion.test.ts shifts: value noise in 2x2 blocks. */
function texture(x: number, y: number): number {
  let n = (Math.floor(x / 2) * 374761393 + Math.floor(y / 2) * 668265263 + 3 * 982451653) | 0;
  n = (n ^ (n >>> 13)) * 1274126177;
  return 60 + 140 * (((n ^ (n >>> 16)) >>> 0) / 4294967296);
}

const a = new Uint8Array(GW * GH);
const b = new Uint8Array(GW * GH);
for (let y = 0; y < GH; y++)
  for (let x = 0; x < GW; x++) {
    a[y * GW + x] = texture(x, y);
    b[y * GW + x] = texture(x - 3, y - 1);
  }

const frames = await vtestFrames('crowdline-v2', 302);
const window = { x: 60, y: 30, width: 60, height: 110 };
const va = cropGrey(frames[300].grey.data, frames[300].grey.width, window);
const vb = cropGrey(frames[301].grey.data, frames[301].grey.width, window);

console.log('| refinements a level | known shift: mean u, v (true 3, 1) | per-pixel error (grey px) | vtest warped residual (grey levels) |');
console.log('| --- | --- | --- | --- |');
for (const iterations of [1, 2, 3, 5, 8]) {
  const options = { ...DEFAULT_FLOW_OPTIONS, iterations };
  const f = denseFlow(a, b, GW, GH, options);
  let su = 0;
  let sv = 0;
  let err = 0;
  let n = 0;
  for (let y = 20; y < GH - 20; y++)
    for (let x = 20; x < GW - 20; x++) {
      const i = y * GW + x;
      su += f.u[i];
      sv += f.v[i];
      err += Math.hypot(f.u[i] - 3, f.v[i] - 1);
      n++;
    }
  const g = denseFlow(va, vb, window.width, window.height, options);
  let residual = 0;
  for (let y = 0; y < window.height; y++)
    for (let x = 0; x < window.width; x++) {
      const i = y * window.width + x;
      const tx = Math.min(window.width - 1, Math.max(0, Math.round(x + g.u[i])));
      const ty = Math.min(window.height - 1, Math.max(0, Math.round(y + g.v[i])));
      residual += Math.abs(vb[ty * window.width + tx] - va[i]);
    }
  console.log(
    `| ${iterations}${iterations === DEFAULT_FLOW_OPTIONS.iterations ? ' (default)' : ''} | ${(su / n).toFixed(2)}, ${(sv / n).toFixed(2)} | ${(err / n).toFixed(2)} | ${(residual / (window.width * window.height)).toFixed(2)} |`,
  );
}
