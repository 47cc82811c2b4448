/**
 * The live window: one tile per camera, redrawn at most `maxFps` times a
 * second from the latest state of each camera, so a camera whose answers are
 * slow only leaves its own tile stale.
 */
import type { DensityMap } from '../../src/framing/index.js';
import type { ClientCost } from '../run/cost.js';
import { Mosaic } from './mosaic.js';
import type { Mat, OpenCV } from '../opencv.js';
import { OverlayPainter, type Caption } from './overlay.js';
import { drawLines, type LineView } from './line-overlay.js';
import { drawZones, type ZoneView } from './zone-overlay.js';

export const WINDOW_TITLE = 'crowdline';

/** Anything that yields an image when asked: a Frame decodes its JPEG only if the tile is drawn. */
export interface Picture {
  readonly image: Mat;
}

interface TileState {
  picture: Picture | undefined;
  density: DensityMap | undefined;
  caption: Caption;
  zones: ZoneView | undefined;
  lines: LineView | undefined;
  dirty: boolean;
}

export type DisplayKey = 'quit' | undefined;

export class LiveDisplay {
  private readonly mosaic: Mosaic;
  private readonly tiles: TileState[];
  private readonly painter: OverlayPainter;
  private nextDrawAt = 0;
  private opened = false;

  constructor(
    private readonly cv: OpenCV,
    cameras: string[],
    private readonly cost: ClientCost,
    private readonly maxFps = 25,
  ) {
    // Fits a 1280x1024 screen with room for window borders.
    this.mosaic = new Mosaic(cv, cameras.length, { width: 1240, height: 930 });
    this.painter = new OverlayPainter(cv);
    this.tiles = cameras.map((title) => ({
      picture: undefined,
      density: undefined,
      caption: { title, lines: ['connecting...'] },
      zones: undefined,
      lines: undefined,
      dirty: true,
    }));
  }

  /** Latest picture for a tile; it is scaled and painted only when the window is next redrawn. */
  setImage(index: number, picture: Picture, density: DensityMap | undefined, caption: Caption, zones?: ZoneView, lines?: LineView): void {
    const tile = this.tiles[index];
    tile.picture = picture;
    tile.density = density;
    tile.caption = caption;
    tile.zones = zones;
    tile.lines = lines;
    tile.dirty = true;
  }

  setCaption(index: number, caption: Caption): void {
    const tile = this.tiles[index];
    tile.caption = caption;
    tile.dirty = true;
  }

  get dueAt(): number {
    return this.nextDrawAt;
  }

  /** Redraws changed tiles, shows the window, polls the keyboard. Call often; it paces itself. */
  refresh(now: number): DisplayKey {
    if (now < this.nextDrawAt) return undefined;
    this.nextDrawAt = now + 1000 / this.maxFps;
    const { cv } = this;
    let changed = !this.opened;
    this.tiles.forEach((tile, i) => {
      if (!tile.dirty) return;
      tile.dirty = false;
      changed = true;
      const image = tile.picture && this.cost.time('display', () => this.mosaic.fit(i, tile.picture!.image));
      const picture = this.cost.time('overlay', () => {
        const p = image ? this.painter.blend(image, tile.density) : new cv.Mat(this.mosaic.tile.height, this.mosaic.tile.width, cv.CV_8UC3, [32, 32, 32]);
        // Zone coordinates refer to the frame as sent; the tile is that frame scaled.
        if (image && tile.zones) drawZones(cv, p, tile.zones, { width: tile.picture!.image.cols, height: tile.picture!.image.rows });
        if (image && tile.lines) drawLines(cv, p, tile.lines, { width: tile.picture!.image.cols, height: tile.picture!.image.rows });
        this.painter.caption(p, tile.caption);
        return p;
      });
      this.cost.time('display', () => this.mosaic.draw(i, picture));
    });
    const t0 = performance.now();
    if (!this.opened) {
      // Plain window: no Qt toolbar or status bar around the mosaic.
      cv.namedWindow(WINDOW_TITLE, cv.WINDOW_AUTOSIZE | cv.WINDOW_GUI_NORMAL);
      this.opened = true;
    }
    if (changed) cv.imshow(WINDOW_TITLE, this.mosaic.canvas);
    // waitKey also runs the GUI's event loop, so it is called even when nothing changed.
    const key = cv.waitKey(1);
    const visible = cv.getWindowProperty(WINDOW_TITLE, cv.WND_PROP_VISIBLE);
    this.cost.add('display', performance.now() - t0);
    if (key === 27 || key === 113 || key === 81) return 'quit';
    // Closing the window with its close button also quits.
    if (visible < 1) return 'quit';
    return undefined;
  }

  close(): void {
    if (this.opened) {
      this.cv.destroyAllWindows();
      this.cv.waitKey(1);
    }
  }
}
