/**
 * The site file (`--site site.yaml`): cameras by HELLO name, each with named
 * polygon zones, capacity, smoothing and alert rules, and its share of the
 * workers and rate caps (docs/zones.md). It is
 * operator input, but still bounded (size, cameras, zones, corners, rules) so
 * a mistake cannot make the server allocate without end; every error names
 * the file, camera, zone and field.
 */
import { INPUT_SIZE_POLICIES, type InputSizePolicy } from '../workers/input-size.js';
import { MAX_FPS, MAX_PRIORITY, MAX_WEIGHT, MIN_PRIORITY, MIN_WEIGHT, type SenderSettings } from '../common/sender-share.js';
import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isValidName, NAME_RULE } from '../common/camera-name.js';
import { encodeLines, encodeZones, ZoneAlertState, type ZoneAlertStateCode, type ZoneDescription } from '../framing/index.js';
import { linesMessage, type LineConfig } from '../lines/line-tracker.js';
import { simplePolygonProblem } from './polygon.js';

export const SITE_LIMITS = {
  fileBytes: 1024 * 1024,
  cameras: 256,
  /** docs/protocol.md §3.7 allows 256 zones and 256 corners. */
  zonesPerCamera: 256,
  corners: 256,
  rulesPerZone: 8,
  /** Counting lines per camera, and points per line (a polyline). */
  linesPerCamera: 64,
  linePoints: 256,
  /** Coordinates beyond this are surely a typo (no camera is a million pixels wide). */
  maxCoordinate: 1_000_000,
} as const;

export const SITE_DEFAULTS = {
  /** Time constant of the smoothed count: a crowd changes over seconds, detection noise over frames. */
  smoothingS: 5,
  /** A camera silent this long starts afresh: its smoothed counts and alerts are reset. */
  resetAfterS: 60,
} as const;

/** Camera and zone names: the rule the client follows too (src/common/camera-name.ts); safe in MQTT topics, labels and logs. */
const nameSchema = z.string().refine(isValidName, `must be ${NAME_RULE} (it becomes an MQTT topic level)`);

export type AlertMetric = 'people' | 'smoothed' | 'occupancy';

const ruleSchema = z
  .object({
    level: z.enum(['warning', 'alarm']),
    metric: z.enum(['people', 'smoothed', 'occupancy']).default('smoothed'),
    above: z.number().finite().nonnegative(),
    for_s: z.number().finite().nonnegative().max(86_400).default(0),
    clear_below: z.number().finite().nonnegative().optional(),
    clear_for_s: z.number().finite().nonnegative().max(86_400).optional(),
  })
  .strict()
  .refine((r) => r.clear_below === undefined || r.clear_below <= r.above, { message: 'clear_below must not exceed above', path: ['clear_below'] });

const pointSchema = z.tuple([
  z.number().finite().min(-SITE_LIMITS.maxCoordinate).max(SITE_LIMITS.maxCoordinate),
  z.number().finite().min(-SITE_LIMITS.maxCoordinate).max(SITE_LIMITS.maxCoordinate),
]);

const zoneSchema = z
  .object({
    name: nameSchema,
    polygon: z.array(pointSchema).min(3).max(SITE_LIMITS.corners),
    capacity: z.number().finite().positive().optional(),
    smoothing_s: z.number().finite().positive().max(3600).optional(),
    alerts: z.array(ruleSchema).max(SITE_LIMITS.rulesPerZone).default([]),
  })
  .strict();

const lineSchema = z
  .object({
    name: nameSchema,
    points: z.array(pointSchema).min(2).max(SITE_LIMITS.linePoints),
    in: z.enum(['left', 'right']),
    band_px: z.number().finite().positive().max(SITE_LIMITS.maxCoordinate).optional(),
  })
  .strict();

const cameraSchema = z
  .object({
    width: z.number().int().positive().max(65535).optional(),
    height: z.number().int().positive().max(65535).optional(),
    zones: z.array(zoneSchema).max(SITE_LIMITS.zonesPerCamera).default([]),
    lines: z.array(lineSchema).max(SITE_LIMITS.linesPerCamera).default([]),
    input_policy: z.enum(INPUT_SIZE_POLICIES).optional(),
    // Its share of the workers and rate caps (the same bounds as a credentials entry's; this entry wins over its identity's).
    weight: z.number().finite().min(MIN_WEIGHT).max(MAX_WEIGHT).optional(),
    priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY).optional(),
    max_fps: z.number().finite().min(0).max(MAX_FPS).optional(),
    max_pixel_rate: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict()
  .refine((c) => (c.width === undefined) === (c.height === undefined), { message: 'give both width and height, or neither', path: ['width'] });

const siteSchema = z
  .object({
    reset_after_s: z.number().finite().positive().max(86_400).optional(),
    cameras: z.record(z.string(), cameraSchema),
  })
  .strict();

export interface AlertRule {
  level: Exclude<ZoneAlertStateCode, typeof ZoneAlertState.Ok>;
  metric: AlertMetric;
  /** Raised when the metric is >= above for forMs without a break. */
  above: number;
  forMs: number;
  /** Cleared when the metric is < clearBelow for clearForMs without a break. */
  clearBelow: number;
  clearForMs: number;
  /** How events name it, e.g. "smoothed >= 40 for 60s". */
  text: string;
}

export interface ZoneConfig {
  id: number;
  name: string;
  polygon: Array<[number, number]>;
  capacity?: number;
  smoothingS: number;
  rules: AlertRule[];
}

export interface CameraConfig {
  name: string;
  /** Image size the polygons refer to; absent: pixels of the frame as sent. */
  reference?: { width: number; height: number };
  zones: ZoneConfig[];
  /** Counting lines (src/lines): people crossing, in and out. */
  lines: LineConfig[];
  /** How this camera's frames become network input; absent: what the client asks, else the server default. */
  inputPolicy?: InputSizePolicy;
  /** Its weight, priority class and rate caps where the entry sets them (src/common/sender-share.ts; combined per connection in src/accept/sender-settings.ts). */
  sender?: SenderSettings;
}

export interface SiteConfig {
  resetAfterMs: number;
  cameras: Map<string, CameraConfig>;
}

/** Where in the file an error is, for an editor to show it beside the field (the message says it too). */
export interface SiteFileLocation {
  camera?: string;
  /** Index in the camera's zones. */
  zone?: number;
  /** Within the zone (or the camera, without `zone`): `capacity`, `polygon`, `alerts.1.above`. */
  field?: string;
}

export class SiteFileError extends Error {
  override name = 'SiteFileError';
  constructor(
    message: string,
    readonly at?: SiteFileLocation,
  ) {
    super(message);
  }
}

export async function loadSiteFile(file: string): Promise<SiteConfig> {
  const info = await stat(file).catch((err: Error) => {
    throw new SiteFileError(`site file ${file}: ${err.message}`);
  });
  if (info.size > SITE_LIMITS.fileBytes) throw new SiteFileError(`site file ${file}: ${info.size} bytes is over the ${SITE_LIMITS.fileBytes}-byte limit`);
  return parseSiteFile(await readFile(file, 'utf8'), file);
}

export function parseSiteFile(text: string, file = 'site file'): SiteConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new SiteFileError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = siteSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SiteFileError(`${file}: ${describePath(raw, issue.path)}: ${issue.message}`, locate(issue.path));
  }
  const entries = Object.entries(parsed.data.cameras);
  if (entries.length > SITE_LIMITS.cameras) throw new SiteFileError(`${file}: ${entries.length} cameras is over the limit of ${SITE_LIMITS.cameras}`);
  const cameras = new Map<string, CameraConfig>();
  for (const [name, cam] of entries) {
    const where = `${file}: camera "${name}"`;
    if (!isValidName(name)) throw new SiteFileError(`${where}: name must be ${NAME_RULE} (it becomes an MQTT topic level)`);
    const seen = new Set<string>();
    const zones = cam.zones.map((zone, id): ZoneConfig => {
      const at = `${where}, zone "${zone.name}"`;
      if (seen.has(zone.name)) throw new SiteFileError(`${at}: a second zone with this name`, { camera: name, zone: id, field: 'name' });
      seen.add(zone.name);
      const problem = simplePolygonProblem(zone.polygon);
      if (problem) throw new SiteFileError(`${at}: polygon ${problem}`, { camera: name, zone: id, field: 'polygon' });
      const rules = zone.alerts.map((r, i) => {
        if (r.metric === 'occupancy' && zone.capacity === undefined)
          throw new SiteFileError(`${at}: alerts[${i}] uses occupancy but the zone has no capacity`, { camera: name, zone: id, field: `alerts.${i}.metric` });
        return toRule(r);
      });
      return { id, name: zone.name, polygon: zone.polygon, capacity: zone.capacity, smoothingS: zone.smoothing_s ?? SITE_DEFAULTS.smoothingS, rules };
    });
    const lineNames = new Set<string>();
    const lines = cam.lines.map((line, id): LineConfig => {
      const at = `${where}, line "${line.name}"`;
      if (lineNames.has(line.name)) throw new SiteFileError(`${at}: a second line with this name`);
      lineNames.add(line.name);
      for (let i = 1; i < line.points.length; i++) {
        const [a, b] = [line.points[i - 1], line.points[i]];
        if (a[0] === b[0] && a[1] === b[1]) throw new SiteFileError(`${at}: points ${i - 1} and ${i} are the same point (a segment needs a length)`);
      }
      const config: LineConfig = { id, name: line.name, points: line.points, in: line.in };
      if (line.band_px !== undefined) config.bandPx = line.band_px;
      return config;
    });
    const camera: CameraConfig = { name, zones, lines };
    if (cam.input_policy !== undefined) camera.inputPolicy = cam.input_policy;
    const sender: SenderSettings = {};
    if (cam.weight !== undefined) sender.weight = cam.weight;
    if (cam.priority !== undefined) sender.priority = cam.priority;
    if (cam.max_fps !== undefined) sender.maxFps = cam.max_fps;
    if (cam.max_pixel_rate !== undefined) sender.maxPixelRate = cam.max_pixel_rate;
    if (Object.keys(sender).length > 0) camera.sender = sender;
    if (cam.width !== undefined && cam.height !== undefined) camera.reference = { width: cam.width, height: cam.height };
    try {
      encodeZones(zonesMessage(camera));
      encodeLines(linesMessage(camera));
    } catch (err) {
      throw new SiteFileError(`${where}: too large to send to clients: ${(err as Error).message}`);
    }
    cameras.set(name, camera);
  }
  return { resetAfterMs: (parsed.data.reset_after_s ?? SITE_DEFAULTS.resetAfterS) * 1000, cameras };
}

/** The ZONES message (docs/protocol.md §3.7) for a camera; an unknown camera has no zones. */
export function zonesMessage(
  camera: CameraConfig | undefined,
  name = camera?.name ?? '',
): { camera: string; width?: number; height?: number; zones: ZoneDescription[] } {
  if (!camera) return { camera: name, zones: [] };
  const zones = camera.zones.map((z): ZoneDescription => {
    const d: ZoneDescription = { id: z.id, name: z.name, polygon: z.polygon };
    if (z.capacity !== undefined) d.capacity = z.capacity;
    return d;
  });
  return camera.reference ? { camera: camera.name, width: camera.reference.width, height: camera.reference.height, zones } : { camera: camera.name, zones };
}

type RawRule = z.infer<typeof ruleSchema>;

function toRule(r: RawRule): AlertRule {
  const level = r.level === 'alarm' ? ZoneAlertState.Alarm : ZoneAlertState.Warning;
  const clearBelow = r.clear_below ?? r.above;
  const clearForS = r.clear_for_s ?? r.for_s;
  return {
    level,
    metric: r.metric,
    above: r.above,
    forMs: r.for_s * 1000,
    clearBelow,
    clearForMs: clearForS * 1000,
    text: `${r.metric} >= ${r.above} for ${r.for_s}s (clear < ${clearBelow} for ${clearForS}s)`,
  };
}

/** A schema issue's path as camera, zone index and field (`cameras.walkway.zones.1.alerts.0.above`). */
function locate(path: Array<string | number>): SiteFileLocation | undefined {
  if (path[0] !== 'cameras' || path.length < 2) return undefined;
  const at: SiteFileLocation = { camera: String(path[1]) };
  if (path[2] === 'zones' && typeof path[3] === 'number') {
    at.zone = path[3];
    if (path.length > 4) at.field = path.slice(4).join('.');
  } else if (path.length > 2) at.field = path.slice(2).join('.');
  return at;
}

/** "cameras.walkway.zones[1].capacity" becomes `camera "walkway", zone "exit", field capacity`. */
function describePath(raw: unknown, path: Array<string | number>): string {
  const parts: string[] = [];
  let node: unknown = raw;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const parent = path[i - 1];
    const next = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
    if (parent === 'cameras') parts.push(`camera "${String(key)}"`);
    else if ((parent === 'zones' || parent === 'lines') && typeof key === 'number') {
      const what = parent === 'zones' ? 'zone' : 'line';
      const itemName = next !== null && typeof next === 'object' ? (next as { name?: unknown }).name : undefined;
      parts.push(typeof itemName === 'string' ? `${what} "${itemName}"` : `${what} #${key + 1}`);
    } else if (!((key === 'cameras' || key === 'zones' || key === 'lines') && i < path.length - 1))
      parts.push(typeof key === 'number' ? `[${key}]` : `field ${key}`);
    node = next;
  }
  return parts.length > 0 ? parts.join(', ') : 'top level';
}
