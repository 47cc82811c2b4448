/**
 * Draws a camera's zones (protocol v1.2 ZONES + the RESULT's zone readings)
 * over a picture of any size: the window tile, or the recorded frame. Each
 * polygon is scaled from the size its coordinates refer to, outlined in its
 * alert state's colour (thicker on alarm) and labelled with its name and
 * smoothed count (of capacity, when it has one).
 */
import { zoneAlertStateName, type ZoneAlertStateCode, type ZoneReading, type ZonesMessage } from '../../src/framing/index.js';
import type { Mat, OpenCV } from '../opencv.js';

/** One camera's zones and the readings of the frame being drawn. */
export interface ZoneView {
  zones: ZonesMessage;
  /** Absent: the frame was not answered ok (or the server sent no readings); outlines are grey. */
  readings?: readonly ZoneReading[];
}

/** Size of the frame as sent to the server: the coordinate space when ZONES gives no width/height. */
export interface SentSize {
  width: number;
  height: number;
}

type Bgr = readonly [number, number, number];

/** Outline colours (BGR): ok green, warning amber, alarm red; grey when there is no reading. */
export const ZONE_COLOURS: Readonly<Record<'ok' | 'warning' | 'alarm' | 'unknown', Bgr>> = {
  ok: [0, 200, 0],
  warning: [0, 191, 255],
  alarm: [0, 0, 255],
  unknown: [170, 170, 170],
};

/** Outline thickness in pixels of a 768-pixel-wide picture; scaled with the picture, at least 1 (alarm: at least 3). */
const THICKNESS = { normal: 2, alarm: 5 };

export function zoneColour(state: ZoneAlertStateCode | undefined): Bgr {
  return state === undefined ? ZONE_COLOURS.unknown : ZONE_COLOURS[zoneAlertStateName(state)];
}

/** Corners of a polygon in the pixels of a `width x height` picture. */
export function scalePolygon(
  zones: Pick<ZonesMessage, 'width' | 'height'>,
  sent: SentSize,
  polygon: ReadonlyArray<readonly [number, number]>,
  width: number,
  height: number,
): Array<[number, number]> {
  const refW = zones.width ?? sent.width;
  const refH = zones.height ?? sent.height;
  const sx = width / refW;
  const sy = height / refH;
  // The server's numbers are only checked finite: far-off corners are pulled in
  // so OpenCV's integer drawing never sees an overflow (the visible part keeps its shape).
  const limit = 16 * Math.max(width, height);
  const fit = (v: number): number => (Number.isFinite(v) ? Math.max(-limit, Math.min(limit, Math.round(v))) : 0);
  return polygon.map(([x, y]) => [fit(x * sx), fit(y * sy)]);
}

/** "left 12.3/20": name, smoothed count, capacity. */
export function zoneLabel(name: string, reading: ZoneReading | undefined, capacity: number | undefined): string {
  if (!reading) return name;
  const count = Number.isFinite(reading.smoothed) ? reading.smoothed.toFixed(1) : '-';
  return capacity === undefined ? `${name} ${count}` : `${name} ${count}/${capacity}`;
}

/** Draws every zone of `view` on `image`, in place. */
export function drawZones(cv: OpenCV, image: Mat, view: ZoneView, sent: SentSize): void {
  const readings = new Map<number, ZoneReading>();
  for (const r of view.readings ?? []) if (!readings.has(r.id)) readings.set(r.id, r); // the first per zone, as in the CSV
  const scale = image.cols / 768;
  const fontScale = Math.max(0.35, Math.min(0.8, 0.6 * scale));
  // Outlines first, labels after, so no outline crosses another zone's label.
  const labels: Array<{ text: string; at: [number, number]; colour: Bgr }> = [];
  for (const zone of view.zones.zones) {
    const reading = readings.get(zone.id);
    const colour = zoneColour(reading?.state);
    const corners = scalePolygon(view.zones, sent, zone.polygon, image.cols, image.rows);
    const alarm = reading?.state === 2;
    const thickness = Math.max(alarm ? 3 : 1, Math.round((alarm ? THICKNESS.alarm : THICKNESS.normal) * scale));
    // LINE_8, not anti-aliased: the outline keeps its exact state colour.
    image.drawPolylines([corners.map(([x, y]) => new cv.Point2(x, y))], true, new cv.Vec3(...colour), thickness, cv.LINE_8);
    labels.push({ text: zoneLabel(zone.name, reading, zone.capacity), at: labelAnchor(corners), colour });
  }
  for (const label of labels) drawLabel(cv, image, label.text, label.at, label.colour, fontScale);
}

/** The top-most corner (left-most among equals): the label sits just inside the zone's top. */
function labelAnchor(corners: ReadonlyArray<[number, number]>): [number, number] {
  let best = corners[0];
  for (const c of corners) if (c[1] < best[1] || (c[1] === best[1] && c[0] < best[0])) best = c;
  return best;
}

/** Text on a dark band, kept inside the picture. */
function drawLabel(cv: OpenCV, image: Mat, text: string, at: [number, number], colour: Bgr, fontScale: number): void {
  const { size, baseLine } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, fontScale, 1);
  const w = Math.min(image.cols, size.width + 6);
  const h = Math.min(image.rows, size.height + baseLine + 6);
  const x = Math.max(0, Math.min(image.cols - w, at[0]));
  const y = Math.max(0, Math.min(image.rows - h, at[1] + 4));
  const band = image.getRegion(new cv.Rect(x, y, w, h));
  band.convertTo(cv.CV_8UC3, 0.35).copyTo(band);
  image.putText(text, new cv.Point2(x + 3, y + 3 + size.height), cv.FONT_HERSHEY_SIMPLEX, fontScale, new cv.Vec3(...colour), 1, cv.LINE_AA);
}

/**
 * One caption line naming the zones not ok, alarms first ("ALARM crossing;
 * warning west-path"), so a small tile in a large mosaic still says it;
 * undefined when every zone is ok.
 */
export function zoneAlertSummary(view: ZoneView): string | undefined {
  const names = (state: number): string[] => view.zones.zones.filter((z) => view.readings?.find((r) => r.id === z.id)?.state === state).map((z) => z.name);
  const alarm = names(2);
  const warning = names(1);
  const parts = [...(alarm.length > 0 ? [`ALARM ${alarm.join(', ')}`] : []), ...(warning.length > 0 ? [`warning ${warning.join(', ')}`] : [])];
  return parts.length > 0 ? parts.join('; ') : undefined;
}
