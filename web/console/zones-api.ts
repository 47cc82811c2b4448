/** The zone editor's API (src/console/zone-routes.ts, docs/console.md) as the page uses it. */
import type { CameraZonesView, ZonesSaved } from '../../src/console/zone-api-types.js';
import { errorText } from './format.js';

export interface ZoneRule {
  level: string;
  metric?: string;
  above?: number | string;
  for_s?: number | string;
  clear_below?: number | string;
  clear_for_s?: number | string;
}

/** A zone as the site file spells it (numbers may be text the person typed: the server's parser judges them). */
export interface ZoneEntry {
  name: string;
  polygon: Array<[number, number]>;
  capacity?: number | string;
  smoothing_s?: number | string;
  alerts?: ZoneRule[];
}

export type CameraZones = CameraZonesView<ZoneEntry>;

export interface SaveBody {
  zones: ZoneEntry[];
  width?: number;
  height?: number;
}

export type SaveOutcome =
  | ({ kind: 'saved' } & Omit<ZonesSaved, 'camera'>)
  | { kind: 'invalid'; message: string; at: { camera?: string; zone?: number; field?: string } | null }
  | { kind: 'stale'; message: string }
  | { kind: 'failed'; message: string };

const url = (camera: string): string => `/api/admin/zones/${encodeURIComponent(camera)}`;

async function errorOf(r: Response): Promise<string> {
  const body = (await r.json().catch(() => ({}))) as { error?: string };
  return body.error ?? `the server answered ${r.status}`;
}

export async function loadZones(camera: string): Promise<CameraZones> {
  const r = await fetch(url(camera), { credentials: 'same-origin' });
  if (!r.ok) throw new Error(await errorOf(r));
  return (await r.json()) as CameraZones;
}

export async function saveZones(camera: string, version: string, body: SaveBody): Promise<SaveOutcome> {
  let r: Response;
  try {
    r = await fetch(url(camera), {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'if-match': `"${version}"` },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return { kind: 'failed', message: `the server could not be reached (${errorText(err)})` };
  }
  if (r.ok) return { kind: 'saved', ...((await r.json()) as Omit<Extract<SaveOutcome, { kind: 'saved' }>, 'kind'>) };
  if (r.status === 422) {
    const body = (await r.json()) as { error: string; at: Extract<SaveOutcome, { kind: 'invalid' }>['at'] };
    return { kind: 'invalid', message: body.error, at: body.at };
  }
  if (r.status === 412) return { kind: 'stale', message: await errorOf(r) };
  return { kind: 'failed', message: await errorOf(r) };
}
