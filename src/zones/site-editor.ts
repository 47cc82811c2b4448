/**
 * Edits one camera's zones in the site file's text, the way a person would:
 * through the yaml package's Document API, so comments, key order and the
 * entries that were not touched survive. A zone kept by name keeps its node
 * (and its comments); only fields whose value changed are set. The result is
 * checked with the site file's own parser before anything is written, and
 * written atomically (temporary file + rename, the previous file kept as
 * `.bak`).
 */
import { createHash } from 'node:crypto';
import { copyFile, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { parseSiteFile, SiteFileError, type SiteConfig } from './site-file.js';

/** A zone as the site file spells it (docs/zones.md). */
export interface ZoneEntry {
  name: string;
  polygon: Array<[number, number]>;
  capacity?: number;
  smoothing_s?: number;
  alerts?: Array<Record<string, unknown>>;
}

export interface CameraZonesEdit {
  camera: string;
  zones: ZoneEntry[];
  /** The image size the polygons refer to (set together, or both absent to leave the file's as it is). */
  width?: number;
  height?: number;
}

/** sha256 of the file's text: a client sends the one it edited, so two editors cannot overwrite each other unknowingly. */
export function siteVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const ZONE_KEYS = ['name', 'polygon', 'capacity', 'smoothing_s', 'alerts'] as const;

/** The new text of the site file with `edit` applied; throws SiteFileError (naming camera, zone, field) if the result is not a valid site file. */
export function editCameraZones(text: string, edit: CameraZonesEdit, file = 'site file'): { text: string; site: SiteConfig } {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) throw new SiteFileError(`${file}: not valid YAML: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new SiteFileError(`${file}: top level: must be a mapping with cameras:`);
  let cameras = doc.get('cameras', true);
  if (!isMap(cameras)) {
    cameras = new YAMLMap();
    doc.set('cameras', cameras);
  }
  const cameraMap = cameras as YAMLMap;
  const found: unknown = cameraMap.get(edit.camera, true);
  const cam: YAMLMap = isMap(found) ? found : doc.createNode({ zones: [] });
  if (!isMap(found)) cameraMap.set(edit.camera, cam);
  if (edit.width !== undefined && edit.height !== undefined) {
    setIfChanged(doc, cam, 'width', edit.width);
    setIfChanged(doc, cam, 'height', edit.height);
  }
  const zonesFound: unknown = cam.get('zones', true);
  const seq: YAMLSeq = isSeq(zonesFound) ? zonesFound : new YAMLSeq();
  if (!isSeq(zonesFound)) cam.set('zones', seq);
  const byName = new Map<string, YAMLMap>();
  for (const item of seq.items) {
    if (isMap(item)) {
      const name = item.get('name');
      if (typeof name === 'string') byName.set(name, item);
    }
  }
  seq.items = edit.zones.map((zone) => {
    const kept = byName.get(zone.name);
    if (!kept) {
      const node = doc.createNode(clean(zone)) as YAMLMap;
      flowPolygon(node);
      return node;
    }
    for (const key of ZONE_KEYS) {
      const value = zone[key];
      if (value === undefined) kept.delete(key);
      else setIfChanged(doc, kept, key, value);
    }
    flowPolygon(kept);
    return kept;
  });
  const out = doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
  return { text: out, site: parseSiteFile(out, file) };
}

function clean(zone: ZoneEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ZONE_KEYS) if (zone[key] !== undefined) out[key] = zone[key];
  return out;
}

/**
 * Sets key only when its value differs, so an unchanged node keeps its style and comments. A changed
 * scalar keeps its node (`capacity: 8 # raised by hand` stays commented); a replaced list keeps the
 * comments that were on the old one.
 */
function setIfChanged(doc: Document, map: YAMLMap, key: string, value: unknown): void {
  const current = map.get(key, true);
  const currentJs: unknown = current && typeof current === 'object' && 'toJSON' in current ? (current as { toJSON(): unknown }).toJSON() : map.get(key);
  if (JSON.stringify(currentJs) === JSON.stringify(value)) return;
  if (isScalar(current) && (value === null || typeof value !== 'object')) {
    current.value = value;
    return;
  }
  const node = doc.createNode(value);
  if (isNode(current)) {
    node.comment = current.comment;
    node.commentBefore = current.commentBefore;
  }
  map.set(key, node);
}

/** Polygons on one line ([[x, y], ...]) as in docs/zones.md, not one number per line. */
function flowPolygon(zone: YAMLMap): void {
  const polygon = zone.get('polygon', true);
  if (isSeq(polygon)) {
    polygon.flow = true;
    for (const corner of polygon.items) if (isSeq(corner)) corner.flow = true;
  }
}

/**
 * Replaces `file` with `text` atomically: written and fsynced beside it under
 * a temporary name with the file's own permissions, the previous file copied
 * to `file.bak`, then renamed over it (readers see the old file or the new
 * one, never half of one). A symbolic link is followed: its target is
 * replaced and the link stays.
 */
export async function writeSiteFileAtomically(link: string, text: string): Promise<void> {
  const file = await realpath(link);
  const { mode } = await stat(file);
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.chmod(mode & 0o7777);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await copyFile(file, `${file}.bak`);
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  // The rename itself is durable once the directory is synced.
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } catch {
    // some file systems refuse fsync on a directory
  } finally {
    await dirHandle.close();
  }
}
