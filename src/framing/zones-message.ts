/**
 * v1.2 ZONES body (docs/protocol.md §3.7): UTF-8 JSON describing a camera's
 * zones. A client must not trust it more than any other bytes from the
 * network, so every field is checked here and anything else is an error.
 */
import { ProtocolError } from './errors.js';
import type { ZoneDescription, ZonesMessage } from './messages.js';

const RULE = 'v1.2 §3.7';
/** Bounds that keep a hostile server from making a client draw or allocate without end. */
const MAX_ZONES = 256;
const MAX_CORNERS = 256;

export function decodeZonesBody(body: Buffer): ZonesMessage {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProtocolError(RULE, 'ZONES body is not JSON');
  }
  const root = record(json, 'ZONES body');
  const camera = root.camera;
  if (typeof camera !== 'string') throw new ProtocolError(RULE, 'ZONES "camera" must be a string');
  if (!Array.isArray(root.zones) || root.zones.length > MAX_ZONES) {
    throw new ProtocolError(RULE, `ZONES "zones" must be a list of at most ${MAX_ZONES}`);
  }
  const msg: ZonesMessage = { type: 'zones', camera, zones: root.zones.map((zone, i) => decodeZone(zone, i)) };
  if (root.width !== undefined || root.height !== undefined) {
    msg.width = positive(root.width, 'ZONES "width"');
    msg.height = positive(root.height, 'ZONES "height"');
  }
  return msg;
}

function decodeZone(value: unknown, index: number): ZoneDescription {
  const what = `ZONES zone ${index}`;
  const zone = record(value, what);
  if (zone.id !== index) throw new ProtocolError(RULE, `${what} must have "id" ${index}`);
  if (typeof zone.name !== 'string') throw new ProtocolError(RULE, `${what} "name" must be a string`);
  const corners = zone.polygon;
  if (!Array.isArray(corners) || corners.length < 3 || corners.length > MAX_CORNERS) {
    throw new ProtocolError(RULE, `${what} "polygon" must be a list of 3-${MAX_CORNERS} corners`);
  }
  const polygon = corners.map((corner): [number, number] => {
    if (!Array.isArray(corner) || corner.length !== 2 || !corner.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ProtocolError(RULE, `${what} has a corner that is not [x, y]`);
    }
    return [corner[0] as number, corner[1] as number];
  });
  const out: ZoneDescription = { id: index, name: zone.name, polygon };
  if (zone.capacity !== undefined) out.capacity = positive(zone.capacity, `${what} "capacity"`);
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
