/**
 * One camera's picture: the frame (the camera's JPEG, decoded by the
 * browser), the heat layer from the density map above it, and the zones'
 * outlines coloured by their alert state with their people count. In
 * privacy mode there is no frame: the heat is drawn on a neutral ground.
 * Draws each update as it comes, latest-only: while one decodes, only the
 * newest waiting update is kept.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { people } from './format.js';
import { drawHeat } from './heatmap.js';
import { LineOverlay } from './line-overlay.js';
import type { Live } from './live.js';
import { ZONE_STATES, type CameraInfo, type Update, type UpdateHeader } from './wire.js';

/** `children` go over the picture (the zone editor's drawing layer). */
export function CameraPicture({ live, info, large = false, children }: { live: Live; info: CameraInfo; large?: boolean; children?: ComponentChildren }) {
  const frame = useRef<HTMLCanvasElement>(null);
  const heat = useRef<HTMLCanvasElement>(null);
  const [header, setHeader] = useState<UpdateHeader | undefined>(live.latestOf(info.name)?.header);

  useEffect(() => {
    let busy = false;
    let waiting: Update | undefined;
    let gone = false;
    const render = async (update: Update): Promise<void> => {
      busy = true;
      try {
        const h = update.header;
        // Decode first, then swap heat and picture together: the heat layer never shows one frame over another's picture.
        const bitmap = update.jpeg.byteLength > 0 && frame.current ? await createImageBitmap(new Blob([update.jpeg], { type: 'image/jpeg' })) : undefined;
        if (h.density && heat.current) {
          drawHeat(heat.current, update.density, h.density.width, h.density.height, h.density.scale);
          heat.current.dataset.seq = String(h.seq);
        }
        const canvas = frame.current;
        if (canvas) {
          if (bitmap) {
            if (canvas.width !== bitmap.width) canvas.width = bitmap.width;
            if (canvas.height !== bitmap.height) canvas.height = bitmap.height;
            canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
            bitmap.close();
            canvas.classList.remove('neutral');
          } else {
            canvas.width = 2;
            canvas.height = 2;
            canvas.classList.add('neutral');
          }
        }
        if (!gone) setHeader(h);
      } catch {
        // A JPEG the browser cannot decode: keep the previous picture.
      } finally {
        busy = false;
        const next = waiting;
        waiting = undefined;
        if (next && !gone) void render(next);
      }
    };
    const offer = (update: Update): void => {
      if (busy) waiting = update;
      else void render(update);
    };
    const latest = live.latestOf(info.name);
    if (latest) offer(latest);
    const off = live.onUpdate(info.name, offer);
    return () => {
      gone = true;
      off();
    };
  }, [live, info.name]);

  const image = pictureSize(info, header);
  const space = info.reference ?? header?.image;
  return (
    <div
      class={`picture${large ? ' large' : ''}`}
      // Large: as wide as the page allows, but never taller than the window below the header.
      style={{
        aspectRatio: `${image.width} / ${image.height}`,
        maxWidth: large ? `calc((100vh - 120px) * ${(image.width / image.height).toFixed(4)})` : undefined,
      }}
      data-seq={header?.seq ?? ''}
    >
      <canvas class="frame" ref={frame} />
      <canvas class="heat" ref={heat} />
      {space && info.zones.length > 0 && <ZoneOverlay info={info} header={header} space={space} />}
      {space && info.lines && info.lines.length > 0 && <LineOverlay lines={info.lines} header={header} space={space} />}
      {children}
      {!header && <div class="picture-note">{info.state === 'offline' ? 'camera disconnected' : 'waiting for a frame…'}</div>}
    </div>
  );
}

/** Zone outlines (SVG, in the polygons' own coordinates) and labels placed at each zone's centre. */
function ZoneOverlay({ info, header, space }: { info: CameraInfo; header: UpdateHeader | undefined; space: { width: number; height: number } }) {
  return (
    <>
      <svg class="zones" viewBox={`0 0 ${space.width} ${space.height}`} preserveAspectRatio="none" aria-hidden="true">
        {info.zones.map((zone) => {
          const reading = header?.zones.find((z) => z.id === zone.id);
          return (
            <polygon
              key={zone.id}
              class={`zone ${ZONE_STATES[reading?.state ?? 0]}`}
              points={zone.polygon.map(([x, y]) => `${x},${y}`).join(' ')}
              vector-effect="non-scaling-stroke"
            />
          );
        })}
      </svg>
      {info.zones.map((zone) => {
        const reading = header?.zones.find((z) => z.id === zone.id);
        const [cx, cy] = centre(zone.polygon);
        return (
          <div
            key={zone.id}
            class={`zone-label ${ZONE_STATES[reading?.state ?? 0]}`}
            data-zone={zone.name}
            style={{ left: `${(100 * cx) / space.width}%`, top: `${(100 * cy) / space.height}%` }}
          >
            <span class="zone-name">{zone.name}</span> <span class="people">{reading ? people(reading.people) : '–'}</span>
          </div>
        );
      })}
    </>
  );
}

/** The mean of the corners: inside for the convex-ish zones people draw, and cheap. */
function centre(polygon: Array<[number, number]>): [number, number] {
  let x = 0;
  let y = 0;
  for (const [px, py] of polygon) {
    x += px;
    y += py;
  }
  return [x / polygon.length, y / polygon.length];
}

/** The picture's shape: the frame's, else the site file's reference size, else 16:9 until a frame arrives. */
export function pictureSize(info: CameraInfo, header: UpdateHeader | undefined): { width: number; height: number } {
  return header?.image ?? info.reference ?? { width: 16, height: 9 };
}
