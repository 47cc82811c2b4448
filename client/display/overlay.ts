/**
 * Draws a server result over its frame: the density map as a JET colour map
 * blended over the image, and a caption (camera, count, fps, latency).
 */
import type { DensityMap } from '../../src/framing/index.js';
import type { Mat, OpenCV } from '../opencv.js';

export interface Caption {
  title: string;
  /** Further lines, drawn under the title. */
  lines: string[];
  /** Red caption (errors, disconnected). */
  alert?: boolean;
}

/** Weight of the colour map where the density is at its peak; it falls in proportion to the density. */
const MAX_DENSITY_ALPHA = 0.6;
/**
 * Colour scale floor, in people per density cell: below this the map stays
 * faint, so an empty scene does not light up from noise scaled to its own max.
 */
const MIN_SCALE_PEAK = 0.02;

export class OverlayPainter {
  /** JET colours for 0..255, BGR, built once (cv.applyColorMap rebuilds its table on every call). */
  private readonly jet: Buffer;

  constructor(private readonly cv: OpenCV) {
    const ramp = new cv.Mat(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 1, 256, cv.CV_8UC1);
    this.jet = cv.applyColorMap(ramp, cv.COLORMAP_JET).getData();
  }

  /**
   * Frame (any size) with the density map blended over it, each cell's colour
   * weighted by its density: empty areas keep their real colours, crowded
   * ones take the colour map. Returns a new Mat.
   */
  blend(frame: Mat, density: DensityMap | undefined): Mat {
    if (!density || density.width === 0 || density.height === 0) return frame.copy();
    const { cv, jet } = this;
    const values = density.values;
    let peak = MIN_SCALE_PEAK;
    for (let i = 0; i < values.length; i++) if (values[i] > peak) peak = values[i];
    // Per cell, in JS (a few thousand cells): colour and weight (0..256); OpenCV scales both up.
    const colours = Buffer.allocUnsafe(values.length * 3);
    const weights = Buffer.allocUnsafe(values.length);
    for (let i = 0; i < values.length; i++) {
      const share = values[i] > 0 ? Math.min(1, values[i] / peak) : 0;
      const level = Math.round(share * 255);
      colours[i * 3] = jet[level * 3];
      colours[i * 3 + 1] = jet[level * 3 + 1];
      colours[i * 3 + 2] = jet[level * 3 + 2];
      weights[i] = Math.round(MAX_DENSITY_ALPHA * share * 255);
    }
    const up = (cells: Buffer, type: number): Uint8Array =>
      new Uint8Array(new cv.Mat(cells, density.height, density.width, type).resize(frame.rows, frame.cols, 0, 0, cv.INTER_LINEAR).getData());
    const colour = up(colours, cv.CV_8UC3);
    const weight = up(weights, cv.CV_8UC1);
    // One pass over the pixels in JS, on plain Uint8Arrays: about 4 times cheaper
    // than the same blend as float (or 16-bit) Mat arithmetic, which takes six passes.
    const pixels = new Uint8Array(frame.getData());
    for (let p = 0, i = 0; p < weight.length; p++, i += 3) {
      const w = weight[p];
      if (w === 0) continue;
      const b = pixels[i];
      const g = pixels[i + 1];
      const r = pixels[i + 2];
      pixels[i] = b + (((colour[i] - b) * w) >> 8);
      pixels[i + 1] = g + (((colour[i + 1] - g) * w) >> 8);
      pixels[i + 2] = r + (((colour[i + 2] - r) * w) >> 8);
    }
    return new cv.Mat(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), frame.rows, frame.cols, cv.CV_8UC3);
  }

  /** Writes the caption in the top-left corner, in place, on a dark band for legibility. */
  caption(image: Mat, caption: Caption): void {
    const { cv } = this;
    const scale = Math.max(0.4, Math.min(1, image.cols / 900));
    const lineHeight = Math.round(28 * scale);
    const texts = [caption.title, ...caption.lines];
    let width = 0;
    for (const text of texts) width = Math.max(width, cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, scale, 1).size.width);
    const bandWidth = Math.min(image.cols, width + 16);
    const bandHeight = Math.min(image.rows, lineHeight * texts.length + 10);
    const band = image.getRegion(new cv.Rect(0, 0, bandWidth, bandHeight));
    band.convertTo(cv.CV_8UC3, 0.35).copyTo(band);
    const colour = caption.alert ? new cv.Vec3(60, 60, 255) : new cv.Vec3(255, 255, 255);
    texts.forEach((text, i) => {
      image.putText(text, new cv.Point2(8, lineHeight * (i + 1)), cv.FONT_HERSHEY_SIMPLEX, scale, colour, i === 0 ? 2 : 1, cv.LINE_AA);
    });
  }
}
