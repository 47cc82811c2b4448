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

/** Weight of the colour map in the blend. */
const DENSITY_ALPHA = 0.45;
/**
 * Colour scale floor, in people per density cell: below this the map stays
 * blue, so an empty scene does not light up from noise scaled to its own max.
 */
const MIN_SCALE_PEAK = 0.02;

export class OverlayPainter {
  constructor(private readonly cv: OpenCV) {}

  /** Frame (any size) with the density map blended over it; returns a new Mat. */
  blend(frame: Mat, density: DensityMap | undefined): Mat {
    if (!density || density.width === 0 || density.height === 0) return frame.copy();
    const { cv } = this;
    const values = density.values;
    let peak = MIN_SCALE_PEAK;
    for (let i = 0; i < values.length; i++) if (values[i] > peak) peak = values[i];
    const raw = new cv.Mat(Buffer.from(values.buffer, values.byteOffset, values.byteLength), density.height, density.width, cv.CV_32FC1);
    const grey = raw.convertTo(cv.CV_8UC1, 255 / peak);
    const colour = cv.applyColorMap(grey.resize(frame.rows, frame.cols, 0, 0, cv.INTER_LINEAR), cv.COLORMAP_JET);
    return frame.addWeighted(1 - DENSITY_ALPHA, colour, DENSITY_ALPHA, 0);
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
