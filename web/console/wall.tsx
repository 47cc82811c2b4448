/**
 * The live wall: a tile per camera, sized so every camera fits the screen
 * when it can (a wall monitor shows all of them at once, as large as they
 * fit; a phone scrolls one column), and the alerts panel beside it on wide
 * screens.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { AlertsPanel } from './alerts.js';
import type { Live } from './live.js';
import { Tile } from './tile.js';

/** Narrowest useful tile; below it the wall scrolls instead of shrinking. */
const MIN_TILE_PX = 300;
/** Tile footer and grid gap (px), for fitting rows in the height. */
const FOOTER_PX = 40;
const GAP_PX = 12;

/** Columns that show `n` tiles (4:3 pictures) as large as possible within width x height; more columns only if they must. */
export function wallColumns(n: number, width: number, height: number): number {
  if (n <= 1 || width < 2 * MIN_TILE_PX + GAP_PX) return 1;
  const most = Math.max(1, Math.floor((width + GAP_PX) / (MIN_TILE_PX + GAP_PX)));
  for (let cols = 1; cols <= Math.min(n, most); cols++) {
    const tileW = (width - GAP_PX * (cols - 1)) / cols;
    const rows = Math.ceil(n / cols);
    if (rows * (tileW * 0.75 + FOOTER_PX) + GAP_PX * (rows - 1) <= height) return cols;
  }
  return Math.min(n, most);
}

/**
 * The tallest a tile's picture may be (px): the rows' share of the height, so
 * every tile fits the screen (a single 4:3 camera on a 16:9 wall is as tall
 * as the screen, not wider than it fits). Where that would make tiles
 * narrower than MIN_TILE_PX (many cameras on a phone), the wall scrolls and
 * each tile still fits the screen on its own.
 */
export function wallPictureHeight(n: number, cols: number, height: number): number {
  const rows = Math.max(1, Math.ceil(n / cols));
  const share = (height - GAP_PX * (rows - 1)) / rows - FOOTER_PX;
  const own = height - FOOTER_PX;
  return Math.max(120, share / 0.75 >= MIN_TILE_PX ? share : own);
}

export function Wall({ live }: { live: Live }) {
  const wall = useRef<HTMLElement>(null);
  const [box, setBox] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const element = wall.current;
    if (!element) return;
    const measure = (): void => setBox({ width: element.clientWidth, height: window.innerHeight - element.getBoundingClientRect().top - GAP_PX });
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    window.addEventListener('resize', measure);
    measure();
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', measure);
    };
  }, []);
  const n = live.cameras.length;
  const cols = box.width > 0 ? wallColumns(n, box.width, box.height) : 1;
  const pictureMax = box.height > 0 ? `${Math.floor(wallPictureHeight(n, cols, box.height))}px` : undefined;
  return (
    <div class="wall-page">
      <section class="wall" aria-label="cameras" ref={wall} style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`, '--picture-max-h': pictureMax }}>
        {n === 0 ? (
          <div class="no-cameras">
            <h2>No camera is connected</h2>
            <p>Cameras appear here as they connect to this server (crowdline client --server HOST:PORT --source ...).</p>
          </div>
        ) : (
          live.cameras.map((info) => <Tile key={info.name} live={live} info={info} />)
        )}
      </section>
      <aside class="side">
        <AlertsPanel active={live.active} recent={live.recent} />
      </aside>
    </div>
  );
}
