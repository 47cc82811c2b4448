/**
 * Tile layout for the live window: a near-square grid with one tile per
 * camera; images are letterboxed into their tile.
 */
import { resizeInterpolation, type Mat, type OpenCV } from '../opencv.js';

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Grid columns and rows for n tiles: as square as possible, wider than tall. */
export function gridShape(n: number): { cols: number; rows: number } {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  return { cols, rows: Math.max(1, Math.ceil(n / cols)) };
}

/** Tile size so the whole mosaic fits in maxWidth x maxHeight at 4:3. */
export function tileSize(n: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  const { cols, rows } = gridShape(n);
  const width = Math.min(640, Math.floor(maxWidth / cols), Math.floor((maxHeight / rows) * (4 / 3)));
  const even = (v: number): number => Math.max(2, v - (v % 2));
  return { width: even(width), height: even(Math.round((width * 3) / 4)) };
}

/** Largest rectangle of the image's aspect ratio centred in the tile. */
export function letterbox(imageWidth: number, imageHeight: number, tile: TileRect): TileRect {
  const scale = Math.min(tile.width / imageWidth, tile.height / imageHeight);
  const width = Math.max(1, Math.min(tile.width, Math.round(imageWidth * scale)));
  const height = Math.max(1, Math.min(tile.height, Math.round(imageHeight * scale)));
  return {
    x: tile.x + Math.floor((tile.width - width) / 2),
    y: tile.y + Math.floor((tile.height - height) / 2),
    width,
    height,
  };
}

export class Mosaic {
  readonly canvas: Mat;
  readonly tile: { width: number; height: number };
  private readonly cols: number;

  constructor(
    private readonly cv: OpenCV,
    readonly tiles: number,
    maxSize = { width: 1280, height: 960 },
  ) {
    const shape = gridShape(tiles);
    this.cols = shape.cols;
    this.tile = tileSize(tiles, maxSize.width, maxSize.height);
    this.canvas = new cv.Mat(shape.rows * this.tile.height, shape.cols * this.tile.width, cv.CV_8UC3, [0, 0, 0]);
  }

  rect(index: number): TileRect {
    return {
      x: (index % this.cols) * this.tile.width,
      y: Math.floor(index / this.cols) * this.tile.height,
      width: this.tile.width,
      height: this.tile.height,
    };
  }

  /** Where an image of this size lands inside tile `index`. */
  placement(index: number, imageWidth: number, imageHeight: number): TileRect {
    return letterbox(imageWidth, imageHeight, this.rect(index));
  }

  /** The image scaled to its letterboxed place in tile `index` (itself when it already fits). */
  fit(index: number, image: Mat): Mat {
    const place = this.placement(index, image.cols, image.rows);
    if (image.cols === place.width && image.rows === place.height) return image;
    return image.resize(place.height, place.width, 0, 0, resizeInterpolation(this.cv, place.width / image.cols));
  }

  /** Draws an image into tile `index`, letterboxed on black. */
  draw(index: number, image: Mat): void {
    const { cv } = this;
    const tile = this.rect(index);
    this.canvas.getRegion(new cv.Rect(tile.x, tile.y, tile.width, tile.height)).setTo(new cv.Vec3(0, 0, 0));
    const fitted = this.fit(index, image);
    const place = this.placement(index, fitted.cols, fitted.rows);
    fitted.copyTo(this.canvas.getRegion(new cv.Rect(place.x, place.y, place.width, place.height)));
  }
}
