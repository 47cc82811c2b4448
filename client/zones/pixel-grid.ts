/**
 * `crowdline zones draw --snapshot`: a frame with a labelled pixel grid, so
 * zone corners can be read off the picture and written into a site file by
 * hand (no window needed).
 */
import type { Mat, OpenCV } from '../opencv.js';

export interface GridStyle {
  /** Thin lines every `minor` pixels, labelled lines every `major` (a multiple of minor). */
  minor: number;
  major: number;
}

export const DEFAULT_GRID: GridStyle = { minor: 50, major: 100 };
/** BGR: bright cyan for labelled lines, dark cyan for the others; they show on bright and dark scenes. */
export const GRID_COLOURS = { major: [255, 255, 0], minor: [140, 140, 0] } as const;

/** A copy of `frame` with the grid drawn: lines at x, y = 0, minor, 2*minor..., major ones labelled with their pixel coordinate. */
export function drawPixelGrid(cv: OpenCV, frame: Mat, style: GridStyle = DEFAULT_GRID): Mat {
  const image = frame.copy();
  const line = (from: [number, number], to: [number, number], major: boolean): void => {
    const [b, g, r] = major ? GRID_COLOURS.major : GRID_COLOURS.minor;
    image.drawLine(new cv.Point2(...from), new cv.Point2(...to), new cv.Vec3(b, g, r), 1, cv.LINE_8);
  };
  for (let x = style.minor; x < image.cols; x += style.minor) line([x, 0], [x, image.rows - 1], x % style.major === 0);
  for (let y = style.minor; y < image.rows; y += style.minor) line([0, y], [image.cols - 1, y], y % style.major === 0);
  // Labels after the lines: x along the top edge, y along the left edge, each just past its line.
  for (let x = style.major; x < image.cols; x += style.major) label(cv, image, String(x), x + 3, 2);
  for (let y = style.major; y < image.rows; y += style.major) label(cv, image, String(y), 2, y + 3);
  label(cv, image, `${image.cols}x${image.rows}`, 2, 2);
  return image;
}

function label(cv: OpenCV, image: Mat, text: string, x: number, y: number): void {
  const scale = 0.4;
  const { size, baseLine } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, scale, 1);
  const w = Math.min(size.width + 4, image.cols - x);
  const h = Math.min(size.height + baseLine + 4, image.rows - y);
  if (w <= 0 || h <= 0) return;
  const band = image.getRegion(new cv.Rect(x, y, w, h));
  band.convertTo(cv.CV_8UC3, 0.3).copyTo(band);
  image.putText(text, new cv.Point2(x + 2, y + 2 + size.height), cv.FONT_HERSHEY_SIMPLEX, scale, new cv.Vec3(255, 255, 255), 1, cv.LINE_AA);
}
