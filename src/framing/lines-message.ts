/**
 * v1.4 LINES body (docs/protocol.md §3.8): UTF-8 JSON describing a camera's
 * counting lines. Like ZONES, a client trusts it no more than any other
 * bytes from the network: every field is checked here, and bounded.
 */
import { MAX_LINES_BODY_BYTES } from './constants.js';
import { ProtocolError } from './errors.js';
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
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProtocolError(RULE, 'LINES body is not JSON');
  }
  const root = record(json, 'LINES body');
  const camera = root.camera;
  if (typeof camera !== 'string') throw new ProtocolError(RULE, 'LINES "camera" must be a string');
  if (!Array.isArray(root.lines) || root.lines.length > MAX_LINES) {
    throw new ProtocolError(RULE, `LINES "lines" must be a list of at most ${MAX_LINES}`);
  }
  const msg: LinesMessage = { type: 'lines', camera, lines: root.lines.map((line, i) => decodeLine(line, i)) };
  if (root.width !== undefined || root.height !== undefined) {
    msg.width = positive(root.width, 'LINES "width"');
    msg.height = positive(root.height, 'LINES "height"');
  }
  return msg;
}

function decodeLine(value: unknown, index: number): LineDescription {
  const what = `LINES line ${index}`;
  const line = record(value, what);
  if (line.id !== index) throw new ProtocolError(RULE, `${what} must have "id" ${index}`);
  if (typeof line.name !== 'string') throw new ProtocolError(RULE, `${what} "name" must be a string`);
  if (line.in !== 'left' && line.in !== 'right') throw new ProtocolError(RULE, `${what} "in" must be "left" or "right"`);
  const raw = line.points;
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > MAX_LINE_POINTS) {
    throw new ProtocolError(RULE, `${what} "points" must be a list of 2-${MAX_LINE_POINTS} points`);
  }
  const points = raw.map((point): [number, number] => {
    if (!Array.isArray(point) || point.length !== 2 || !point.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ProtocolError(RULE, `${what} has a point that is not [x, y]`);
    }
    return [point[0] as number, point[1] as number];
  });
  const out: LineDescription = { id: index, name: line.name, points, in: line.in };
  if (line.band_px !== undefined) out.bandPx = positive(line.band_px, `${what} "band_px"`);
  return out;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(RULE, `${what} must be an object`);
  return value as Record<string, unknown>;
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ProtocolError(RULE, `${what} must be a positive number`);
  return value;
}
