/**
 * Draws a server result over its frame: the density map as a JET colour map
 * blended over the image, and a caption (camera, count, fps, latency).
 */
import type { DensityMap } from '../src/framing/index.js';
import type { Mat, OpenCV } from './opencv.js';

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

/**
 * INTER_AREA looks best when shrinking a lot but is several times slower than
 * INTER_LINEAR at non-integer ratios (8 ms vs 3 ms for 768x576 -> 620x465 here).
 */
export function resizeInterpolation(cv: OpenCV, scale: number): number {
  return scale < 0.5 ? cv.INTER_AREA : cv.INTER_LINEAR;
}

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
    // Per cell, in JS (a few thousand cells): colour * alpha, and 1 - alpha; then both are scaled up.
    const tinted = new Float32Array(values.length * 3);
    const keep = new Float32Array(values.length * 3);
    for (let i = 0; i < values.length; i++) {
      const share = values[i] > 0 ? Math.min(1, values[i] / peak) : 0;
      const level = Math.min(255, Math.round(share * 255));
      const alpha = MAX_DENSITY_ALPHA * share;
      for (let c = 0; c < 3; c++) {
        tinted[i * 3 + c] = jet[level * 3 + c] * alpha;
        keep[i * 3 + c] = 1 - alpha;
      }
    }
    const up = (cells: Float32Array): Mat =>
      new cv.Mat(Buffer.from(cells.buffer), density.height, density.width, cv.CV_32FC3).resize(frame.rows, frame.cols, 0, 0, cv.INTER_LINEAR);
    return frame.convertTo(cv.CV_32FC3).hMul(up(keep)).add(up(tinted)).convertTo(cv.CV_8UC3);
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
