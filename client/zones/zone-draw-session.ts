/**
 * `crowdline zones draw`: the first frame in a window; left click adds a
 * corner, right click or Enter closes the zone, Backspace or u takes back a
 * corner (or reopens the last zone), q or Esc (or closing the window) ends.
 * Window pixels are mapped back to frame pixels, so a large frame can be
 * shown scaled down.
 */
import { resizeInterpolation, type Mat, type OpenCV } from '../opencv.js';
import { ZoneDraft, type DraftInput, type DraftNote } from './zone-drafting.js';
import type { WindowEvent, ZoneWindow } from './zone-window.js';

export const DRAW_HELP = 'left click: corner | right click/Enter: close zone | Backspace/u: undo | q/Esc: done';

const KEYS = { enter: [10, 13], undo: [8, 127, 117], finish: [27, 113, 81] } as const;
const CLOSED_COLOUR = [0, 200, 0] as const;
const OPEN_COLOUR = [0, 255, 255] as const;

/** Window event -> drawing step (undefined: ignored), with window pixels scaled back to the frame's. */
export function draftInput(event: WindowEvent, scale: number): DraftInput | undefined {
  switch (event.kind) {
    case 'click':
      return { kind: 'corner', at: [event.x / scale, event.y / scale] };
    case 'rclick':
      return { kind: 'close' };
    case 'closed':
      return { kind: 'finish' };
    case 'ready':
      return undefined;
    case 'key':
      if ((KEYS.enter as readonly number[]).includes(event.key)) return { kind: 'close' };
      if ((KEYS.undo as readonly number[]).includes(event.key)) return { kind: 'undo' };
      if ((KEYS.finish as readonly number[]).includes(event.key)) return { kind: 'finish' };
      return undefined;
  }
}

const LINE_HEIGHT = 18;
const STATUS_LINES = 3;

/**
 * The frame as shown (scaled by `scale`) with the zones so far, and a status
 * band below it (not over it: corners on the frame's bottom edge stay clickable).
 */
export function renderDraft(cv: OpenCV, shown: Mat, scale: number, draft: ZoneDraft, note: DraftNote | undefined): Mat {
  const band = LINE_HEIGHT * STATUS_LINES + 6;
  const canvas = new cv.Mat(shown.rows + band, shown.cols, cv.CV_8UC3, [24, 24, 24]);
  const image = canvas.getRegion(new cv.Rect(0, 0, shown.cols, shown.rows));
  shown.copyTo(image);
  const point = ([x, y]: [number, number]) => new cv.Point2(Math.round(x * scale), Math.round(y * scale));
  for (const zone of draft.zones) {
    image.drawPolylines([zone.polygon.map(point)], true, new cv.Vec3(...CLOSED_COLOUR), 2, cv.LINE_AA);
    image.putText(zone.name, point(zone.polygon[0]).add(new cv.Point2(4, 16)), cv.FONT_HERSHEY_SIMPLEX, 0.5, new cv.Vec3(...CLOSED_COLOUR), 1, cv.LINE_AA);
  }
  if (draft.current.length > 0) {
    image.drawPolylines([draft.current.map(point)], false, new cv.Vec3(...OPEN_COLOUR), 2, cv.LINE_AA);
    for (const c of draft.current) image.drawCircle(point(c), 4, new cv.Vec3(...OPEN_COLOUR), -1, cv.LINE_AA);
  }
  const lines = [note?.text ?? '', `${draft.nextName}: ${draft.current.length} corners | ${draft.zones.length} zones closed`, DRAW_HELP];
  lines.forEach((text, i) => {
    const colour = i === 0 && note && !note.ok ? new cv.Vec3(60, 60, 255) : new cv.Vec3(255, 255, 255);
    canvas.putText(text, new cv.Point2(6, shown.rows + LINE_HEIGHT * (i + 1)), cv.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv.LINE_AA);
  });
  return canvas;
}

/** Runs the drawing until q/Esc or the window closes; returns the finished draft (frame pixels). */
export async function drawZonesInWindow(
  cv: OpenCV,
  frame: Mat,
  window: ZoneWindow,
  options: { maxWidth?: number; maxHeight?: number; log?: (line: string) => void } = {},
): Promise<ZoneDraft> {
  const scale = Math.min(1, (options.maxWidth ?? 1240) / frame.cols, (options.maxHeight ?? 900) / frame.rows);
  const shown = scale === 1 ? frame : frame.resize(Math.round(frame.rows * scale), Math.round(frame.cols * scale), 0, 0, resizeInterpolation(cv, scale));
  const draft = new ZoneDraft(frame.cols, frame.rows);
  let note: DraftNote | undefined;
  window.show(renderDraft(cv, shown, scale, draft, note));
  while (!draft.finished) {
    const event = await window.next();
    if (event.kind === 'ready') options.log?.(`window open: ${DRAW_HELP}`);
    const input = draftInput(event, scale);
    if (!input) continue;
    note = draft.apply(input);
    if (!note.ok) options.log?.(note.text);
    if (!draft.finished) window.show(renderDraft(cv, shown, scale, draft, note));
  }
  return draft;
}
