/**
 * Dense optical flow on a small grey image: pyramidal Lucas-Kanade (Bouguet's
 * scheme, done for every pixel at once). Each level solves, per pixel, the
 * 2x2 system of image gradients summed over a (2r+1)^2 window, refining the
 * flow carried up from the coarser level; pixels whose window has no texture
 * in both directions (smallest eigenvalue under `minEigen`) keep the coarser
 * estimate instead of amplifying noise. Pure TypeScript, no Node APIs: runs
 * in the frame workers on the grey copy of the network input (grey.ts).
 *
 * Two refinements a level, not more: in this all-pixels-at-once form each
 * pixel's window sums the residuals of its neighbours at *their* flow, and
 * repeating the step amplifies pixel-to-pixel differences instead of
 * converging (a known 3 px shift of a blocky texture: mean per-pixel error
 * 0.51 grey px after one step a level, 0.56 after two, 0.92 after three,
 * 5.1 after eight; on vtest the warped residual rises from 1.95 grey levels
 * at one step to 3.1 at three and 12.8 at eight: bench/line-flow-convergence.ts).
 * One step alone falls short
 * on larger motions (2.82 of that 3 px shift; two steps 2.94). A true
 * per-window warp converges but costs 4.6x as much.
 *
 * Then `dominantMotion`: the density map spreads each person's mass wider
 * than the pixels that move (it is a blurred head map; the grass around a
 * walker does not move), so the flux needs each place's dominant motion,
 * not its own.
 *
 * Cost is linear in pixels: about levels x iterations x a few tens of
 * operations per pixel of the finest level (figures in docs/zones.md).
 */

export interface FlowOptions {
  /** Pyramid levels (1 = the image alone). Each level doubles the motion it can follow. */
  levels: number;
  /** Refinements per level. */
  iterations: number;
  /** Window radius in pixels of each level. */
  radius: number;
  /** Smallest eigenvalue of the window's gradient matrix, per pixel of the window (grey levels^2), below which a pixel has no texture to follow. */
  minEigen: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowOptions = { levels: 3, iterations: 2, radius: 2, minEigen: 1 };

/**
 * Motion slower than this (grey pixels a step) weighs as noise in
 * `dominantMotion`: 0.1 grey px is 0.4 px of a 768-wide frame.
 */
export const MOTION_FLOOR_PX = 0.1;

/**
 * The flow from `a` to `b` over a window of the grey image: for window pixel
 * i, (u[i], v[i]) is where it went, in grey pixels. The window's top-left is
 * (x0, y0) in a grey image of fullWidth x fullHeight.
 */
export interface FlowField {
  width: number;
  height: number;
  u: Float32Array;
  v: Float32Array;
  x0: number;
  y0: number;
  fullWidth: number;
  fullHeight: number;
}

/** A rectangle of a grey image, in its pixels. */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Rows `window` of a `width`-wide image, copied out. */
export function cropGrey(data: Uint8Array, width: number, window: Window): Uint8Array {
  const out = new Uint8Array(window.width * window.height);
  for (let y = 0; y < window.height; y++) {
    const from = (window.y + y) * width + window.x;
    out.set(data.subarray(from, from + window.width), y * window.width);
  }
  return out;
}

interface Level {
  w: number;
  h: number;
  a: Float32Array;
  b: Float32Array;
}

/** Half size, 2x2 mean (an odd last row or column is dropped). */
function halve(src: Float32Array, w: number, h: number): { data: Float32Array; w: number; h: number } {
  const hw = w >> 1;
  const hh = h >> 1;
  const out = new Float32Array(hw * hh);
  for (let y = 0; y < hh; y++) {
    const r0 = 2 * y * w;
    const r1 = r0 + w;
    for (let x = 0; x < hw; x++) {
      const c = 2 * x;
      out[y * hw + x] = (src[r0 + c] + src[r0 + c + 1] + src[r1 + c] + src[r1 + c + 1]) * 0.25;
    }
  }
  return { data: out, w: hw, h: hh };
}

/** Window sums (2r+1)^2 with edge replication, separable running sums; `tmp` is scratch of the same size. */
export function boxSum(src: Float32Array, w: number, h: number, r: number, out: Float32Array, tmp: Float32Array): void {
  const clampX = (x: number): number => (x < 0 ? 0 : x >= w ? w - 1 : x);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let k = -r; k <= r; k++) s += src[row + clampX(k)];
    for (let x = 0; x < w; x++) {
      tmp[row + x] = s;
      const add = x + r + 1;
      const drop = x - r;
      s += src[row + (add >= w ? w - 1 : add)] - src[row + (drop < 0 ? 0 : drop)];
    }
  }
  // Columns: running sums of whole rows at once (cache-friendly).
  const acc = new Float64Array(w);
  for (let k = -r; k <= r; k++) {
    const row = (k < 0 ? 0 : k >= h ? h - 1 : k) * w;
    for (let x = 0; x < w; x++) acc[x] += tmp[row + x];
  }
  for (let y = 0; y < h; y++) {
    const orow = y * w;
    const add = (y + r + 1 >= h ? h - 1 : y + r + 1) * w;
    const drop = (y - r < 0 ? 0 : y - r) * w;
    for (let x = 0; x < w; x++) {
      out[orow + x] = acc[x];
      acc[x] += tmp[add + x] - tmp[drop + x];
    }
  }
}

/** Bilinear sample with coordinates clamped to the image. */
function sample(img: Float32Array, w: number, h: number, x: number, y: number): number {
  const cx = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
  const cy = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
  const x0 = Math.min(w - 2, Math.floor(cx));
  const y0 = Math.min(h - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = y0 * w + x0;
  const top = img[i] + (img[i + 1] - img[i]) * fx;
  const bottom = img[i + w] + (img[i + w + 1] - img[i + w]) * fx;
  return top + (bottom - top) * fy;
}

/**
 * Flow from grey image `a` to grey image `b` (same size, at least 8x8),
 * both row-major, one byte per pixel.
 */
export function denseFlow(a: Uint8Array, b: Uint8Array, width: number, height: number, options: FlowOptions = DEFAULT_FLOW_OPTIONS): FlowField {
  if (a.length !== width * height || b.length !== width * height) throw new RangeError(`flow: images must be ${width}x${height} bytes`);
  if (width < 8 || height < 8) throw new RangeError(`flow: ${width}x${height} is too small`);
  const levels: Level[] = [{ w: width, h: height, a: Float32Array.from(a), b: Float32Array.from(b) }];
  // Stop halving before a level gets smaller than the window.
  while (levels.length < options.levels) {
    const top = levels[levels.length - 1];
    if (top.w >> 1 < 4 * options.radius + 2 || top.h >> 1 < 4 * options.radius + 2) break;
    const ha = halve(top.a, top.w, top.h);
    const hb = halve(top.b, top.w, top.h);
    levels.push({ w: ha.w, h: ha.h, a: ha.data, b: hb.data });
  }
  let u = new Float32Array(0);
  let v = new Float32Array(0);
  let uw = 0;
  let uh = 0;
  const r = options.radius;
  const area = (2 * r + 1) * (2 * r + 1);
  for (let li = levels.length - 1; li >= 0; li--) {
    const { w, h, a: A, b: B } = levels[li];
    const n = w * h;
    // Carry the coarser flow up: twice the displacement, bilinear between coarser pixels.
    const nu = new Float32Array(n);
    const nv = new Float32Array(n);
    if (uw > 0) {
      const sx = uw / w;
      const sy = uh / h;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const cx = (x + 0.5) * sx;
          const cy = (y + 0.5) * sy;
          nu[y * w + x] = 2 * sample(u, uw, uh, cx - 0.5, cy - 0.5);
          nv[y * w + x] = 2 * sample(v, uw, uh, cx - 0.5, cy - 0.5);
        }
      }
    }
    u = nu;
    v = nv;
    uw = w;
    uh = h;
    // Gradients of A (central differences; zero on the border) and their window sums.
    const gx = new Float32Array(n);
    const gy = new Float32Array(n);
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        gx[i] = (A[i + 1] - A[i - 1]) * 0.5;
        gy[i] = (A[i + w] - A[i - w]) * 0.5;
      }
    }
    const prod = new Float32Array(n);
    const tmp = new Float32Array(n);
    const sxx = new Float32Array(n);
    const sxy = new Float32Array(n);
    const syy = new Float32Array(n);
    for (let i = 0; i < n; i++) prod[i] = gx[i] * gx[i];
    boxSum(prod, w, h, r, sxx, tmp);
    for (let i = 0; i < n; i++) prod[i] = gx[i] * gy[i];
    boxSum(prod, w, h, r, sxy, tmp);
    for (let i = 0; i < n; i++) prod[i] = gy[i] * gy[i];
    boxSum(prod, w, h, r, syy, tmp);
    // 1/det where the window has texture both ways, 0 where it has not.
    const inv = new Float32Array(n);
    const minEigen = options.minEigen * area;
    for (let i = 0; i < n; i++) {
      const xx = sxx[i];
      const yy = syy[i];
      const xy = sxy[i];
      const half = (xx + yy) * 0.5;
      const root = Math.sqrt(Math.max(0, (xx - yy) * (xx - yy) * 0.25 + xy * xy));
      if (half - root > minEigen) inv[i] = 1 / (xx * yy - xy * xy);
    }
    const bx = new Float32Array(n);
    const by = new Float32Array(n);
    const sbx = new Float32Array(n);
    const sby = new Float32Array(n);
    for (let it = 0; it < options.iterations; it++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          const dt = sample(B, w, h, x + u[i], y + v[i]) - A[i];
          bx[i] = gx[i] * dt;
          by[i] = gy[i] * dt;
        }
      }
      boxSum(bx, w, h, r, sbx, tmp);
      boxSum(by, w, h, r, sby, tmp);
      for (let i = 0; i < n; i++) {
        const k = inv[i];
        if (k === 0) continue;
        // A step longer than the window cannot be trusted (the linearisation has broken down): clamp it.
        const du = -(syy[i] * sbx[i] - sxy[i] * sby[i]) * k;
        const dv = -(sxx[i] * sby[i] - sxy[i] * sbx[i]) * k;
        u[i] += du > r ? r : du < -r ? -r : du;
        v[i] += dv > r ? r : dv < -r ? -r : dv;
      }
    }
  }
  return { width, height, u, v, x0: 0, y0: 0, fullWidth: width, fullHeight: height };
}

/**
 * Each pixel's flow replaced, in place, by the dominant motion of its
 * (2r+1)^2 neighbourhood: the mean of the flow weighted by its squared
 * speed, sum(|f|^2 f) / (sum(|f|^2) + area x floor^2). Where one person
 * moves among still pixels (their background, the uniform parts of their
 * clothes where the flow finds no texture), the whole neighbourhood takes
 * the person's motion, so the density spread around them is carried at
 * their speed; a field that moves as one keeps its flow (less a soft floor
 * for motion near `floor`: noise stays noise).
 */
export function dominantMotion(field: FlowField, radius: number, floor = MOTION_FLOOR_PX): void {
  const { width: w, height: h, u, v } = field;
  const n = w * h;
  const q = new Float32Array(n);
  const qu = new Float32Array(n);
  const qv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = u[i] * u[i] + v[i] * v[i];
    q[i] = m;
    qu[i] = m * u[i];
    qv[i] = m * v[i];
  }
  const tmp = new Float32Array(n);
  const sq = new Float32Array(n);
  const su = new Float32Array(n);
  const sv = new Float32Array(n);
  boxSum(q, w, h, radius, sq, tmp);
  boxSum(qu, w, h, radius, su, tmp);
  boxSum(qv, w, h, radius, sv, tmp);
  const noise = (2 * radius + 1) * (2 * radius + 1) * floor * floor;
  for (let i = 0; i < n; i++) {
    const d = sq[i] + noise;
    u[i] = su[i] / d;
    v[i] = sv[i] / d;
  }
}
