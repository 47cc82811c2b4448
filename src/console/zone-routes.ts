/**
 * The zone editor's API (admin only): GET /api/admin/zones/:camera reads a
 * camera's zones as the site file spells them, with the file's version (an
 * ETag); PUT saves them. A save must name the version it edited (If-Match),
 * so two admins, or an admin and a hand edit, cannot overwrite each other
 * unknowingly. The zones are checked by the site file's own parser (the
 * loader's messages, with where the error is for the page to show beside
 * the field), written atomically with the previous file kept as `.bak`
 * (src/zones/site-editor.ts, which keeps comments and untouched entries),
 * then reloaded through the same code as SIGHUP. Saves are done one at a
 * time.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isValidName, NAME_RULE } from '../common/camera-name.js';
import type { LogSink } from '../log/logger.js';
import type { CameraZonesView as SharedCameraZonesView, ZonesSaved } from './zone-api-types.js';
import { editCameraZones, siteVersion, writeSiteFileAtomically, type ZoneEntry } from '../zones/site-editor.js';
import { parseSiteFile, SITE_LIMITS, SiteFileError } from '../zones/site-file.js';
import { HttpError, type RequestContext, type Router } from './router.js';

export interface ZoneRoutesOptions {
  /** The server's --site file; absent: the routes answer 404 with the reason. */
  sitePath: string | undefined;
  /** The SIGHUP reload (src/app/start-server.ts); resolves to its log line. */
  reload: () => Promise<string>;
  log: LogSink;
  /** Largest PUT body (--console-max-request-bytes). */
  maxBodyBytes: number;
}

export const ZONES_API_PATH = '/api/admin/zones/:camera';

/** GET's answer (docs/console.md). */
export type CameraZonesView = SharedCameraZonesView<ZoneEntry>;
export type { ZonesSaved };

export function addZoneRoutes(router: Router, options: ZoneRoutesOptions): void {
  let queue: Promise<unknown> = Promise.resolve();
  /** One save (or read) at a time: the version check, the write and the reload are not interleaved. */
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  };

  router.add({
    method: 'GET',
    path: ZONES_API_PATH,
    access: 'admin',
    maxBodyBytes: 0,
    handler: async (ctx) => {
      const { file, camera } = target(ctx, options.sitePath);
      const text = await readSiteText(file);
      try {
        parseSiteFile(text, path.basename(file));
      } catch (err) {
        if (err instanceof SiteFileError) throw new HttpError(409, `the site file does not load, so it cannot be edited here: ${err.message}`);
        throw err;
      }
      const view = cameraView(text, camera, path.basename(file));
      ctx.sendJson(200, view, { etag: `"${view.version}"` });
    },
  });

  router.add({
    method: 'PUT',
    path: ZONES_API_PATH,
    access: 'admin',
    maxBodyBytes: options.maxBodyBytes,
    handler: async (ctx) => {
      const { file, camera } = target(ctx, options.sitePath);
      const base = ifMatch(ctx);
      const edit = parseEdit(ctx.json());
      const name = path.basename(file);
      const saved = await serial(async (): Promise<ZonesSaved | undefined> => {
        // The zones alone, by the loader's own rules, so an error points into what was sent.
        checkZones(camera, edit, name);
        const text = await readSiteText(file);
        const current = siteVersion(text);
        if (current !== base) return undefined;
        let next: string;
        try {
          next = editCameraZones(text, { camera, ...edit }, name).text;
        } catch (err) {
          if (err instanceof SiteFileError) throw new ValidationError(err);
          throw err;
        }
        const before = zonesOf(text, camera);
        const diff = difference(before, edit.zones);
        if (next === text) return { camera, version: current, ...diff, reload: 'nothing changed; the site file was not written' };
        try {
          await writeSiteFileAtomically(file, next);
        } catch (err) {
          throw new HttpError(500, `could not write ${name}: ${(err as Error).message}`);
        }
        const line = await options.reload();
        return { camera, version: siteVersion(next), ...diff, reload: line };
      }).catch((err: unknown) => {
        if (err instanceof ValidationError) {
          ctx.sendJson(422, { error: err.problem.message, at: err.problem.at ?? null });
          return null;
        }
        throw err;
      });
      if (saved === null) return;
      if (saved === undefined) {
        const current = siteVersion(await readSiteText(file));
        ctx.sendJson(
          412,
          {
            error: `${name} changed since these zones were loaded (another admin saved, or someone edited the file): load the current zones and make the change again`,
            version: current,
          },
          { etag: `"${current}"` },
        );
        return;
      }
      const who = ctx.user?.name ?? 'the local operator';
      const what = [`added: ${list(saved.added)}`, `changed: ${list(saved.changed)}`, `removed: ${list(saved.removed)}`].join('; ');
      options.log(`console: ${who} saved the zones of camera "${camera}" in ${name} (${what}); ${saved.reload}`, {
        event: 'zones-saved',
        camera,
        identity: ctx.user?.name ?? null,
      });
      ctx.sendJson(200, saved, { etag: `"${saved.version}"` });
    },
  });
}

/** A save the site parser refused (422, with where). */
class ValidationError extends Error {
  constructor(readonly problem: SiteFileError) {
    super(problem.message);
  }
}

function list(names: string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

function target(ctx: RequestContext, sitePath: string | undefined): { file: string; camera: string } {
  if (sitePath === undefined) throw new HttpError(404, 'this server runs without a site file (start it with --site FILE to have zones)');
  const camera = ctx.params.camera;
  if (!isValidName(camera)) throw new HttpError(400, `camera names are ${NAME_RULE}`);
  return { file: sitePath, camera };
}

/** The version the client edited, from If-Match (`"sha256"`). */
function ifMatch(ctx: RequestContext): string {
  const header = ctx.req.headers['if-match'];
  if (header === undefined) throw new HttpError(428, 'send If-Match with the version (ETag) of the zones you edited');
  const match = /^\s*(?:W\/)?"([0-9a-f]{64})"\s*$/.exec(header);
  if (!match) throw new HttpError(400, 'If-Match must be the ETag GET answered ("<64 hex digits>")');
  return match[1];
}

async function readSiteText(file: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new HttpError(409, `cannot read the site file: ${(err as Error).message}`);
  }
  if (size > SITE_LIMITS.fileBytes) throw new HttpError(409, `the site file is ${size} bytes, over the ${SITE_LIMITS.fileBytes}-byte limit`);
  return readFile(file, 'utf8');
}

interface RawCamera {
  width?: unknown;
  height?: unknown;
  zones?: unknown;
}

function rawCamera(text: string, camera: string): RawCamera | undefined {
  const doc = parseYaml(text, { maxAliasCount: 100 }) as { cameras?: Record<string, RawCamera> } | null;
  const cam = doc?.cameras?.[camera];
  return cam !== null && typeof cam === 'object' ? cam : undefined;
}

function zonesOf(text: string, camera: string): ZoneEntry[] {
  const zones = rawCamera(text, camera)?.zones;
  return Array.isArray(zones) ? (zones as ZoneEntry[]) : [];
}

function cameraView(text: string, camera: string, file: string): CameraZonesView {
  const cam = rawCamera(text, camera);
  return {
    camera,
    version: siteVersion(text),
    file,
    inSiteFile: cam !== undefined,
    width: typeof cam?.width === 'number' ? cam.width : null,
    height: typeof cam?.height === 'number' ? cam.height : null,
    zones: zonesOf(text, camera),
    limits: { zones: SITE_LIMITS.zonesPerCamera, corners: SITE_LIMITS.corners, rules: SITE_LIMITS.rulesPerZone },
  };
}

interface Edit {
  zones: ZoneEntry[];
  width?: number;
  height?: number;
}

/** {zones: [{alerts: [{...}]}]} and {zones: [{polygon: [[x, y]]}]} are 4 levels below the body; a few more are not a zone list. */
const MAX_DEPTH = 6;

/** Whether `value` nests no deeper than `max` (walked without recursion: a hostile body may nest thousands deep). */
function nestsWithin(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    if (depth >= max) return false;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}

/** The body's shape: {zones: [...], width?, height?}; the zones' contents are the site parser's to judge. */
function parseEdit(body: unknown): Edit {
  if (!nestsWithin(body, MAX_DEPTH)) throw new HttpError(400, `the body nests deeper than ${MAX_DEPTH} levels: it is not a list of zones`);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'send {"zones": [...]} (and "width", "height" to set the image size)');
  const { zones, width, height, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new HttpError(400, `unknown field(s): ${extra.join(', ')}`);
  if (!Array.isArray(zones)) throw new HttpError(400, '"zones" must be a list');
  if ((width === undefined) !== (height === undefined)) throw new HttpError(400, 'give both "width" and "height", or neither');
  for (const zone of zones) {
    if (zone === null || typeof zone !== 'object' || Array.isArray(zone)) throw new HttpError(400, 'each zone must be an object');
  }
  const edit: Edit = { zones: zones as ZoneEntry[] };
  if (width !== undefined) {
    edit.width = width as number;
    edit.height = height as number;
  }
  return edit;
}

/** The sent zones as a one-camera site file, through the loader: unknown keys, bad numbers, crossing polygons, duplicate names. */
function checkZones(camera: string, edit: Edit, file: string): void {
  const cam: Record<string, unknown> = { zones: edit.zones };
  if (edit.width !== undefined) {
    cam.width = edit.width;
    cam.height = edit.height;
  }
  try {
    parseSiteFile(JSON.stringify({ cameras: { [camera]: cam } }), file);
  } catch (err) {
    if (err instanceof SiteFileError) throw new ValidationError(err);
    throw err;
  }
}

/** Zone names added, changed and removed, by name. */
function difference(before: ZoneEntry[], after: ZoneEntry[]): { added: string[]; changed: string[]; removed: string[] } {
  const old = new Map(before.map((z) => [z.name, canonical(z)]));
  const now = new Set(after.map((z) => z.name));
  return {
    added: after.filter((z) => !old.has(z.name)).map((z) => z.name),
    changed: after.filter((z) => old.has(z.name) && old.get(z.name) !== canonical(z)).map((z) => z.name),
    removed: before.filter((z) => !now.has(z.name)).map((z) => z.name),
  };
}

/** JSON with sorted keys, so key order does not count as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
