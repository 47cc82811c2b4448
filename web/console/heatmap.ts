/**
 * The density map as a heat layer: each cell's people-per-cell value through
 * the Turbo colour map (Mikhailov, Google 2019, polynomial fit, Apache-2.0),
 * with alpha rising with density, so empty ground stays clear and a crowd
 * shows hot. Drawn at the map's own size; the browser scales the canvas up
 * smoothly (bilinear), which is what a density map wants.
 */

/** People per map cell drawn at full heat. Fixed, not per frame: one person never looks like a crowd. */
export const FULL_SCALE_PEOPLE_PER_CELL = 0.1;
/** Below this fraction of full scale a cell is transparent (model noise on empty ground). */
const CLEAR_BELOW = 0.06;
const MAX_ALPHA = 0.78;

function turbo(x: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, x));
  const t2 = t * t;
  const t3 = t2 * t;
  const t4 = t2 * t2;
  const t5 = t4 * t;
  const r = 0.13572138 + 4.6153926 * t - 42.66032258 * t2 + 132.13108234 * t3 - 152.94239396 * t4 + 59.28637943 * t5;
  const g = 0.09140261 + 2.19418839 * t + 4.84296658 * t2 - 14.18503333 * t3 + 4.27729857 * t4 + 2.82956604 * t5;
  const b = 0.1066733 + 12.64194608 * t - 60.58204836 * t2 + 110.36276771 * t3 - 89.90310912 * t4 + 27.34824973 * t5;
  const c = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(r), c(g), c(b)];
}

/** 256 RGBA entries: index = heat 0..255. The low end starts at Turbo's blue (0.1), the top is its dark red. */
const LUT: Uint8ClampedArray = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const h = i / 255;
    const [r, g, b] = turbo(0.1 + 0.9 * h);
    const alpha = h < CLEAR_BELOW ? 0 : MAX_ALPHA * Math.pow((h - CLEAR_BELOW) / (1 - CLEAR_BELOW), 0.6);
    lut.set([r, g, b, Math.round(alpha * 255)], i * 4);
  }
  return lut;
})();

/** Draws the map into `canvas` (resized to the map); `scale` turns u8 values into people per cell. */
export function drawHeat(canvas: HTMLCanvasElement, cells: Uint8Array, width: number, height: number, scale: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx || width * height !== cells.length) return;
  const image = ctx.createImageData(width, height);
  const out = image.data;
  // value * scale people per cell -> heat index 0..255 against the fixed full scale.
  const k = (scale / FULL_SCALE_PEOPLE_PER_CELL) * 255;
  for (let i = 0; i < cells.length; i++) {
    const heat = Math.min(255, Math.round(cells[i] * k));
    out.set(LUT.subarray(heat * 4, heat * 4 + 4), i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** CSS colour of a heat level, for the legend. */
export function heatColour(level: number): string {
  const i = Math.min(255, Math.max(0, Math.round(level * 255))) * 4;
  return `rgba(${LUT[i]}, ${LUT[i + 1]}, ${LUT[i + 2]}, ${(LUT[i + 3] / 255).toFixed(2)})`;
}
