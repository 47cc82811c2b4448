/**
 * v1.4 LINES body (docs/protocol.md §3.8): UTF-8 JSON describing a camera's
 * counting lines. Like ZONES, a client trusts it no more than any other
 * bytes from the network: every field is checked here, and bounded.
 */
import { MAX_LINES_BODY_BYTES } from './constants.js';
import { decodeShapeList } from './shape-list-body.js';
import type { LineDescription, LinesMessage } from './messages.js';

const RULE = 'v1.4 §3.8';
/** Bounds that keep a hostile server from making a client draw or allocate without end. */
export const MAX_LINES = 256;
export const MAX_LINE_POINTS = 256;

interface LineJson {
  id: number;
  name: string;
  points: Array<[number, number]>;
  in: 'left' | 'right';
  band_px?: number;
}

/** The body as sent: JSON keys follow the site file (`band_px`). */
export function encodeLinesBody(msg: Omit<LinesMessage, 'type'>): Buffer {
  const json: { camera: string; width?: number; height?: number; lines: LineJson[] } = {
    camera: msg.camera,
    lines: msg.lines.map((l) => {
      const out: LineJson = { id: l.id, name: l.name, points: l.points, in: l.in };
      if (l.bandPx !== undefined) out.band_px = l.bandPx;
      return out;
    }),
  };
  if (msg.width !== undefined && msg.height !== undefined) {
    json.width = msg.width;
    json.height = msg.height;
  }
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  if (body.length > MAX_LINES_BODY_BYTES) throw new RangeError(`LINES body of ${body.length} bytes is over ${MAX_LINES_BODY_BYTES}`);
  return body;
}

export function decodeLinesBody(body: Buffer): LinesMessage {
  const list = decodeShapeList(body, { rule: RULE, message: 'LINES', key: 'lines', maxItems: MAX_LINES }, (line, id): LineDescription => {
    const side = line.fields.in;
    if (side !== 'left' && side !== 'right') return line.fail('"in" must be "left" or "right"');
    const out: LineDescription = { id, name: line.name, points: line.points('points', 2, MAX_LINE_POINTS, 'point'), in: side };
    const band = line.positive('band_px');
    if (band !== undefined) out.bandPx = band;
    return out;
  });
  const msg: LinesMessage = { type: 'lines', camera: list.camera, lines: list.items };
  if (list.size) {
    msg.width = list.size.width;
    msg.height = list.size.height;
  }
  return msg;
}
