/**
 * v1.2 ZONES body (docs/protocol.md §3.7): UTF-8 JSON describing a camera's
 * zones. A client must not trust it more than any other bytes from the
 * network, so every field is checked here and anything else is an error.
 */
import { decodeShapeList } from './shape-list-body.js';
import type { ZoneDescription, ZonesMessage } from './messages.js';

const RULE = 'v1.2 §3.7';
/** Bounds that keep a hostile server from making a client draw or allocate without end. */
const MAX_ZONES = 256;
const MAX_CORNERS = 256;

export function decodeZonesBody(body: Buffer): ZonesMessage {
  const list = decodeShapeList(body, { rule: RULE, message: 'ZONES', key: 'zones', maxItems: MAX_ZONES }, (zone, id): ZoneDescription => {
    const out: ZoneDescription = { id, name: zone.name, polygon: zone.points('polygon', 3, MAX_CORNERS, 'corner') };
    const capacity = zone.positive('capacity');
    if (capacity !== undefined) out.capacity = capacity;
    return out;
  });
  const msg: ZonesMessage = { type: 'zones', camera: list.camera, zones: list.items };
  if (list.size) {
    msg.width = list.size.width;
    msg.height = list.size.height;
  }
  return msg;
}
