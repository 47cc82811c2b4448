import type { Mat } from '../../client/opencv.js';

/** How many pixels of a BGR image pass a test, and their bounding box. */
export interface PixelBox {
  pixels: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function pixelBox(image: Mat, matches: (b: number, g: number, r: number) => boolean): PixelBox {
  const data = image.getData();
  const box: PixelBox = { pixels: 0, left: Infinity, right: -1, top: Infinity, bottom: -1 };
  for (let y = 0; y < image.rows; y++) {
    for (let x = 0; x < image.cols; x++) {
      const i = (y * image.cols + x) * 3;
      if (!matches(data[i], data[i + 1], data[i + 2])) continue;
      box.pixels++;
      box.left = Math.min(box.left, x);
      box.right = Math.max(box.right, x);
      box.top = Math.min(box.top, y);
      box.bottom = Math.max(box.bottom, y);
    }
  }
  return box;
}
